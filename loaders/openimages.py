"""Open Images: the class-descriptions CSV (``MID,DisplayName``, no header) and the boxable hierarchy.

``oidv6-class-descriptions.csv`` lists all 19,994 image-level classes. The 600 boxable classes come
with ``bbox_labels_600_hierarchy.json`` (``LabelName`` with nested ``Subcategory`` / ``Part`` lists);
when it sits beside the CSV, each class's hierarchy parent is recorded as extra evidence.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bamboo.loaders.base import FileLoader, LabelSet, MalformedFile, RawClass
from bamboo.loaders.registry import register_loader

__all__ = ["OpenImagesLoader", "read_hierarchy"]

_OID = "https://storage.googleapis.com/openimages/"


def read_hierarchy(path: Path) -> dict[str, str]:
    """Child MID -> parent MID from the official hierarchy JSON (Subcategory edges; Part edges skipped)."""
    try:
        root = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise MalformedFile(path, exc.lineno, f"invalid JSON: {exc.msg}") from exc
    parents: dict[str, str] = {}

    def walk(node: Any) -> None:
        if not isinstance(node, dict) or "LabelName" not in node:
            raise MalformedFile(path, None, f"hierarchy node without LabelName: {str(node)[:80]}")
        for child in node.get("Subcategory", []):
            parents.setdefault(child.get("LabelName", ""), node["LabelName"])
            walk(child)
        for part in node.get("Part", []):
            walk(part)

    walk(root)
    parents.pop("", None)
    return parents


@dataclass
class OpenImagesLoader(FileLoader):
    """The class-descriptions CSV, with parents from the hierarchy JSON when it lies beside it."""

    hierarchy: str | None = None

    def load(self, path: Path) -> LabelSet:
        folder = path if path.is_dir() else path.parent
        path = self.resolve(path)
        parents: dict[str, str] = {}
        if self.hierarchy and (folder / self.hierarchy).exists():
            parents = read_hierarchy(folder / self.hierarchy)
        classes: list[RawClass] = []
        seen: set[str] = set()
        try:
            with open(path, encoding="utf-8", newline="") as fh:
                for number, row in enumerate(csv.reader(fh), start=1):
                    if not row:
                        continue
                    if len(row) != 2 or not row[0].startswith("/m/") and not row[0].startswith("/g/"):
                        raise MalformedFile(
                            path, number, f"expected 'MID,DisplayName', got {','.join(row)[:80]!r}"
                        )
                    mid, display = row[0].strip(), row[1].strip()
                    if mid in seen:
                        raise MalformedFile(path, number, f"MID {mid} repeats")
                    seen.add(mid)
                    classes.append(
                        RawClass(index=len(classes), raw_name=display, mid=mid, parent=parents.get(mid))
                    )
        except UnicodeDecodeError as exc:
            raise MalformedFile(path, None, f"not UTF-8 text ({exc})") from exc
        return self.label_set(path, classes)


register_loader("openimages")(
    lambda: OpenImagesLoader(
        name="openimages",
        urls=(_OID + "v6/oidv6-class-descriptions.csv",),
        filename="oidv6-class-descriptions.csv",
    )
)
register_loader("openimages-boxable")(
    lambda: OpenImagesLoader(
        name="openimages-boxable",
        urls=(_OID + "v5/class-descriptions-boxable.csv", _OID + "2018_04/bbox_labels_600_hierarchy.json"),
        filename="class-descriptions-boxable.csv",
        hierarchy="bbox_labels_600_hierarchy.json",
        task="detection",
    )
)
