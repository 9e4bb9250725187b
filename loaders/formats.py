"""Generic class-list formats: the official format of some datasets, and the format in which other
packages (tensorflow-datasets, mmdet, mmpretrain, timm) redistribute many datasets' class lists.

Every parser returns the classes in file order, indexed from 0, and raises :class:`MalformedFile`
naming the file and line of the first problem; every name follows :mod:`bamboo.loaders.validate`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bamboo.loaders.base import MalformedFile, RawClass, read_lines
from bamboo.loaders.validate import check_count, clean_name, clean_text

__all__ = ["FORMATS", "parse_csv", "parse_index_names", "parse_mid_names", "parse_names", "parse_wnids"]

_WNID = re.compile(r"^n\d{8}$")
_MID = re.compile(r"^/[mg]/[0-9a-z_]+$")


class _Classes(list[RawClass]):
    """The classes read so far from ``path``, indexed in file order; refuses a repeated key and too many
    classes, each naming the line."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.seen: dict[str, int] = {}  # key -> the line that had it

    def once(self, number: int, key: str) -> None:
        """Refuse ``key`` when an earlier line had it."""
        if key in self.seen:
            raise MalformedFile(self.path, number, f"{key!r} repeats line {self.seen[key]}")
        self.seen[key] = number

    def add(self, number: int, **fields: Any) -> None:
        """The class of line ``number`` (``fields`` of :class:`RawClass`), with the next index."""
        self.append(RawClass(index=len(self), **fields))
        check_count(self.path, len(self), number)


def parse_names(path: Path) -> list[RawClass]:
    """One class name per line; the line order is the class index. A name may repeat (ImageNet-1K
    has two *crane*s): the mapping gives each its own sense where WordNet has one."""
    classes = _Classes(path)
    for number, line in read_lines(path):
        if "\t" in line.strip():
            raise MalformedFile(path, number, f"expected one class name per line, got {line[:80]!r}")
        classes.add(number, raw_name=clean_name(line, path, number))
    return list(classes)


def parse_wnids(path: Path) -> list[RawClass]:
    """A WordNet id per line, optionally followed by names (``n01440764 tench, Tinca tinca``)."""
    classes = _Classes(path)
    for number, line in read_lines(path):
        wnid, _, rest = line.strip().replace("\t", " ").partition(" ")
        if not _WNID.match(wnid):
            raise MalformedFile(path, number, f"expected a WordNet id like n02084071, got {wnid[:40]!r}")
        classes.once(number, wnid)
        classes.add(number, raw_name=clean_name(rest, path, number) if rest.strip() else wnid, wnid=wnid)
    return list(classes)


def parse_mid_names(path: Path) -> list[RawClass]:
    """``MID<TAB>name`` per line (Open Images classes as tensorflow-datasets and mmdet list them)."""
    classes = _Classes(path)
    for number, line in read_lines(path):
        mid, _, name = line.strip().partition("\t")
        if not _MID.match(mid) or not name.strip():
            raise MalformedFile(path, number, f"expected 'MID<TAB>name', got {line[:80]!r}")
        classes.once(number, mid)
        classes.add(number, raw_name=clean_name(name, path, number), mid=mid)
    return list(classes)


def parse_index_names(path: Path) -> list[RawClass]:
    """``index<TAB>name`` rows under an ``index<TAB>name`` header; indices must run 0, 1, 2, ..."""
    lines = read_lines(path)
    if not lines or lines[0][1].strip().split("\t") != ["index", "name"]:
        raise MalformedFile(path, lines[0][0] if lines else None, "expected the header 'index<TAB>name'")
    classes = _Classes(path)
    for number, line in lines[1:]:
        index, _, name = line.strip().partition("\t")
        if not index.isdigit() or int(index) != len(classes) or not name.strip():
            raise MalformedFile(path, number, f"expected '{len(classes)}<TAB>name', got {line[:80]!r}")
        classes.add(number, raw_name=clean_name(name, path, number))
    return list(classes)


def parse_csv(path: Path) -> list[RawClass]:
    """CSV ``name[,description]`` rows, under an optional ``name`` header; a name may repeat (see
    :func:`parse_names`). A file whose first row (after an optional ``LabelName,DisplayName`` header)
    starts with a Freebase id is Open Images' ``MID,DisplayName`` layout: every row must then be an id
    and a name, and the id is kept (:attr:`RawClass.mid`)."""
    classes = _Classes(path)
    with_ids: bool | None = None
    for number, line in read_lines(path):
        try:
            (row,) = list(csv.reader([line], strict=True))
        except (csv.Error, ValueError) as exc:
            raise MalformedFile(path, number, f"not a CSV row ({exc})") from None
        head = [c.strip().lower() for c in row[:1]]
        if with_ids is None and head in (["name"], ["labelname"]):
            continue  # the header
        if with_ids is None:
            with_ids = len(row) == 2 and bool(_MID.match(row[0].strip()))
        if with_ids:
            if len(row) != 2 or not _MID.match(row[0].strip()) or not row[1].strip():
                raise MalformedFile(path, number, f"expected 'MID,DisplayName', got {line[:80]!r}")
            mid = row[0].strip()
            classes.once(number, mid)
            classes.add(number, raw_name=clean_name(row[1], path, number), mid=mid)
            continue
        if not 1 <= len(row) <= 2 or not row[0].strip():
            raise MalformedFile(path, number, f"expected name[,description], got {line[:80]!r}")
        name = clean_name(row[0], path, number)
        description = clean_text(row[1], path, number) if len(row) == 2 else None
        classes.add(number, raw_name=name, description=description)
    return list(classes)


#: Parsers by format name, for :attr:`FileLoader.mirrors`.
FORMATS: dict[str, Callable[[Path], list[RawClass]]] = {
    "names": parse_names,
    "wnids": parse_wnids,
    "mid-names": parse_mid_names,
    "index-names": parse_index_names,
    "csv": parse_csv,
}
