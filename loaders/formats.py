"""Generic class-list formats: the official format of some datasets, and the format in which other
packages (tensorflow-datasets, mmdet, mmpretrain, timm) redistribute many datasets' class lists.

Every parser returns the classes in file order, indexed from 0, and raises :class:`MalformedFile`
naming the file and line of the first problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from bamboo.loaders.base import MalformedFile, RawClass, read_lines

__all__ = ["FORMATS", "parse_index_names", "parse_mid_names", "parse_names", "parse_wnids"]

_WNID = re.compile(r"^n\d{8}$")
_MID = re.compile(r"^/[mg]/[0-9a-z_]+$")


def _no_repeats(path: Path, number: int, key: str, seen: dict[str, int]) -> None:
    if key in seen:
        raise MalformedFile(path, number, f"{key!r} repeats line {seen[key]}")
    seen[key] = number


def parse_names(path: Path) -> list[RawClass]:
    """One class name per line; the line order is the class index."""
    classes: list[RawClass] = []
    seen: dict[str, int] = {}
    for number, line in read_lines(path):
        raw = line.strip()
        if "\t" in raw or len(raw) > 200:
            raise MalformedFile(path, number, f"expected one class name per line, got {raw[:80]!r}")
        _no_repeats(path, number, raw, seen)
        classes.append(RawClass(index=len(classes), raw_name=raw))
    return classes


def parse_wnids(path: Path) -> list[RawClass]:
    """A WordNet id per line, optionally followed by names (``n01440764 tench, Tinca tinca``)."""
    classes: list[RawClass] = []
    seen: dict[str, int] = {}
    for number, line in read_lines(path):
        wnid, _, rest = line.strip().replace("\t", " ").partition(" ")
        if not _WNID.match(wnid):
            raise MalformedFile(path, number, f"expected a WordNet id like n02084071, got {wnid[:40]!r}")
        _no_repeats(path, number, wnid, seen)
        classes.append(RawClass(index=len(classes), raw_name=rest.strip() or wnid, wnid=wnid))
    return classes


def parse_mid_names(path: Path) -> list[RawClass]:
    """``MID<TAB>name`` per line (Open Images classes as tensorflow-datasets and mmdet list them)."""
    classes: list[RawClass] = []
    seen: dict[str, int] = {}
    for number, line in read_lines(path):
        mid, _, name = line.strip().partition("\t")
        if not _MID.match(mid) or not name.strip():
            raise MalformedFile(path, number, f"expected 'MID<TAB>name', got {line[:80]!r}")
        _no_repeats(path, number, mid, seen)
        classes.append(RawClass(index=len(classes), raw_name=name.strip(), mid=mid))
    return classes


def parse_index_names(path: Path) -> list[RawClass]:
    """``index<TAB>name`` rows under an ``index<TAB>name`` header; indices must run 0, 1, 2, ..."""
    lines = read_lines(path)
    if not lines or lines[0][1].strip().split("\t") != ["index", "name"]:
        raise MalformedFile(path, lines[0][0] if lines else None, "expected the header 'index<TAB>name'")
    classes: list[RawClass] = []
    for number, line in lines[1:]:
        index, _, name = line.strip().partition("\t")
        if not index.isdigit() or int(index) != len(classes) or not name.strip():
            raise MalformedFile(path, number, f"expected '{len(classes)}<TAB>name', got {line[:80]!r}")
        classes.append(RawClass(index=len(classes), raw_name=name.strip()))
    return classes


#: Parsers by format name, for :attr:`FileLoader.mirrors`.
FORMATS: dict[str, Callable[[Path], list[RawClass]]] = {
    "names": parse_names,
    "wnids": parse_wnids,
    "mid-names": parse_mid_names,
    "index-names": parse_index_names,
}
