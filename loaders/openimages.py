"""Open Images: the class-descriptions CSV (``MID,DisplayName``, no header) and the boxable hierarchy.

``oidv6-class-descriptions.csv`` lists all 19,994 image-level classes. The 600 boxable classes come
with ``bbox_labels_600_hierarchy.json`` (``LabelName`` with nested ``Subcategory`` / ``Part`` lists);
when it sits beside the class list, each class's Subcategory parent and the wholes it is a Part of are
recorded as extra evidence (``RawClass.parent`` / ``RawClass.part_of``, as MIDs).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bamboo.loaders.base import LabelSet, MalformedFile, RawClass
from bamboo.loaders.file import FileLoader
from bamboo.loaders.registry import register_loader

__all__ = ["Hierarchy", "OpenImagesLoader", "read_hierarchy"]

_OID = "https://storage.googleapis.com/openimages/"


@dataclass(frozen=True)
class Hierarchy:
    """Child MID -> Subcategory parent MID, and part MID -> the MIDs of the wholes it is part of."""

    parents: dict[str, str]
    parts: dict[str, list[str]]


def read_hierarchy(path: Path) -> Hierarchy:
    """The official hierarchy JSON; a class under several parents keeps the first one met."""
    try:
        root = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise MalformedFile(path, exc.lineno, f"invalid JSON: {exc.msg}") from exc
    except UnicodeDecodeError as exc:
        raise MalformedFile(path, None, f"not UTF-8 text ({exc})") from exc
    parents: dict[str, str] = {}
    parts: dict[str, list[str]] = {}

    def walk(node: Any) -> None:
        if not isinstance(node, dict) or not isinstance(node.get("LabelName"), str):
            raise MalformedFile(path, None, f"hierarchy node without LabelName: {str(node)[:80]}")
        for child in node.get("Subcategory", []):
            walk(child)
            parents.setdefault(child["LabelName"], node["LabelName"])
        for part in node.get("Part", []):
            walk(part)
            wholes = parts.setdefault(part["LabelName"], [])
            if node["LabelName"] not in wholes:
                wholes.append(node["LabelName"])

    walk(root)
    return Hierarchy(parents, parts)


@dataclass
class OpenImagesLoader(FileLoader):
    """The class-descriptions CSV, with evidence from the hierarchy JSON when it lies beside it."""

    hierarchy: str | None = None

    def load(self, path: Path) -> LabelSet:
        """The label set, with parents and parts from the hierarchy file beside it when present."""
        label_set = super().load(path)
        source = Path(label_set.source)
        if not self.hierarchy or not (source.parent / self.hierarchy).exists():
            return label_set
        h = read_hierarchy(source.parent / self.hierarchy)
        classes = [
            replace(c, parent=h.parents.get(c.mid or ""), part_of=tuple(h.parts.get(c.mid or "", ())))
            for c in label_set.classes
        ]
        return replace(label_set, classes=classes)

    def parse(self, path: Path) -> list[RawClass]:
        """The classes of a ``MID,name`` class-descriptions CSV."""
        classes: list[RawClass] = []
        seen: set[str] = set()
        try:
            with open(path, encoding="utf-8", newline="") as fh:
                for number, row in enumerate(csv.reader(fh), start=1):
                    if not row:
                        continue
                    if len(row) != 2 or not row[0].startswith(("/m/", "/g/")):
                        raise MalformedFile(
                            path, number, f"expected 'MID,DisplayName', got {','.join(row)[:80]!r}"
                        )
                    mid, display = row[0].strip(), row[1].strip()
                    if mid in seen:
                        raise MalformedFile(path, number, f"MID {mid} repeats")
                    seen.add(mid)
                    classes.append(RawClass(index=len(classes), raw_name=display, mid=mid))
        except UnicodeDecodeError as exc:
            raise MalformedFile(path, None, f"not UTF-8 text ({exc})") from exc
        return classes


register_loader("openimages")(
    lambda: OpenImagesLoader(
        name="openimages",
        urls=(_OID + "v6/oidv6-class-descriptions.csv", _OID + "2018_04/bbox_labels_600_hierarchy.json"),
        filename="oidv6-class-descriptions.csv",
        hierarchy="bbox_labels_600_hierarchy.json",
    )
)
register_loader("openimages-boxable")(
    lambda: OpenImagesLoader(
        name="openimages-boxable",
        urls=(_OID + "v5/class-descriptions-boxable.csv", _OID + "2018_04/bbox_labels_600_hierarchy.json"),
        filename="class-descriptions-boxable.csv",
        hierarchy="bbox_labels_600_hierarchy.json",
        task="detection",
        mirrors=(("openimages_boxable_601_mid_to_name.tsv", "mid-names"),),
    )
)
