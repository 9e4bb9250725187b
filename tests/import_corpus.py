"""Hostile class lists for ``bamboo import``: each entry writes its file into a folder (the large
ones generated) and names what the one-line refusal must say.

Every entry was accepted, or crashed, or ran the machine out of memory before the import rules of
:mod:`bamboo.loaders.validate` and the pre-write check of
:func:`bamboo.graph.taxonomy.invariants.check_placements`.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CORPUS", "Hostile", "cycle_categories"]


@dataclass(frozen=True)
class Hostile:
    """One hostile file: ``write(folder)`` creates it and returns its path; the refusal's line must
    hold every fragment of ``says`` (``{file}`` stands for the file's path)."""

    name: str
    write: Callable[[Path], Path]
    says: tuple[str, ...]


def _word(i: int) -> str:
    """A distinct letters-only word that is no WordNet lemma (``zzqxaaaaa``, ``zzqxbaaaa`` ...)."""
    out = "zzqx"
    for _ in range(5):
        out += string.ascii_lowercase[i % 26]
        i //= 26
    return out


def cycle_categories(n: int) -> Iterator[dict[str, Any]]:
    """``n`` COCO categories whose supercategories form one loop: each is the next one's child."""
    for i in range(n):
        yield {"id": i + 1, "name": _word(i), "supercategory": _word((i + 1) % n)}


def _text(filename: str, text: str) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / filename
        path.write_text(text, encoding="utf-8", newline="")
        return path

    return write


def _bytes(filename: str, data: bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / filename
        path.write_bytes(data)
        return path

    return write


def _coco(categories: Callable[[], Any], filename: str = "hostile.json") -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / filename
        with open(path, "w", encoding="utf-8") as fh:
            json.dump({"categories": list(categories())}, fh)
        return path

    return write


def _cats(*names: Any) -> Callable[[], list[dict[str, Any]]]:
    return lambda: [{"id": i + 1, "name": n} for i, n in enumerate(names)]


def _sparse(filename: str, size: int) -> Callable[[Path], Path]:
    """A file of ``size`` bytes that takes no disk (a hole): refused before it is read."""

    def write(folder: Path) -> Path:
        path = folder / filename
        with open(path, "wb") as fh:
            fh.truncate(size)
        return path

    return write


def _nested(depth: int) -> Callable[[Path], Path]:
    return _text("nested.json", "[" * depth + "]" * depth)


_LONG = "".join(string.ascii_lowercase[(i * 7) % 26] for i in range(20_000))  # letters only

CORPUS: list[Hostile] = [
    # 1. IS_A cycles through the dataset's own parents.
    Hostile(
        "cycle-2",
        _coco(
            lambda: [
                {"id": 1, "name": "zzqxalpha", "supercategory": "zzqxbeta"},
                {"id": 2, "name": "zzqxbeta", "supercategory": "zzqxalpha"},
            ]
        ),
        ("IS_A cycle: zzqxalpha -> zzqxbeta -> zzqxalpha", "nothing was written"),
    ),
    Hostile(
        "cycle-3",
        _coco(lambda: cycle_categories(3)),
        ("IS_A cycle: zzqxaaaaa -> zzqxbaaaa -> zzqxcaaaa -> zzqxaaaaa",),
    ),
    Hostile(
        "cycle-10k",
        _coco(lambda: cycle_categories(10_000)),
        ("IS_A cycle: zzqxaaaaa -> zzqxbaaaa", "-> ... -> zzqxaaaaa", "(10000 concepts"),
    ),
    # 2. Names too long (quadratic memory in the mapper before), in every format.
    Hostile("long-name-coco", _coco(_cats(_LONG)), ("categories[0] (id 1): class name of 20000 characters",)),
    Hostile("long-name-csv", _text("long.csv", f"name\ndog\n{_LONG}\n"), ("{file}:3: class name of 20000",)),
    Hostile("long-name-txt", _text("long.txt", "x" * 5_000_000 + "\n"), ("{file}:1: class name of 5000000",)),
    Hostile(
        "long-supercategory",
        _coco(lambda: [{"id": 1, "name": "dog", "supercategory": _LONG}]),
        ("'supercategory' of 20000 characters",),
    ),
    Hostile("long-description", _text("desc.csv", f"dog,{'a' * 5000}\n"), ("{file}:1: description of 5000",)),
    # 3. Nesting past the recursion limit.
    Hostile("nested-200k", _nested(200_000), ("{file}: JSON nested too deeply",)),
    Hostile(
        "nested-name",
        _text("nestedname.json", '{"categories": [{"id": 1, "name": ' + "[" * 900 + "]" * 900 + "}]}"),
        ("categories[0] (id 1): class name must be a string, not list",),
    ),
    # 4. More classes than one import takes.
    Hostile("too-many", _coco(lambda: cycle_categories(100_001)), ("more than 100000 classes",)),
    Hostile(
        "too-large", _sparse("huge.json", 513 * 2**20), ("{file}: 513 MiB; a class list is at most 512",)
    ),
    # 5. Nothing to import.
    Hostile("empty-txt", _text("empty.txt", ""), ("{file}: no classes",)),
    Hostile("blank-txt", _text("blank.txt", "  \n\t\r\n\n"), ("{file}: no classes",)),
    Hostile("header-only-csv", _text("header.csv", "name,description\n"), ("{file}: no classes",)),
    Hostile("empty-coco", _coco(list), ("no 'categories' list",)),
    # 6. Control and bidi formatting characters (echoed raw to the terminal before).
    Hostile(
        "nul-txt",
        _text("nul.txt", "dog\nca\x00t\n"),
        ("{file}:2: class name has a control character, U+0000",),
    ),
    Hostile("esc-txt", _text("esc.txt", "\x1b[31mred\x1b[0m\n"), ("{file}:1:", "U+001B", "\\x1b[31mred")),
    Hostile("bel-csv", _text("bel.csv", "name\nbell\x07\n"), ("{file}:2:", "U+0007")),
    Hostile(
        "rlo-coco", _coco(_cats("dog", "gpj.\u202eexe")), ("categories[1] (id 2)", "U+202E right-to-left")
    ),
    Hostile("record-separator-txt", _text("rs.txt", "dog\x1ecat\n"), ("{file}:1:", "U+001E")),
    Hostile("line-separator-txt", _text("ls.txt", "dog\u2028cat\n"), ("{file}:1:", "U+2028")),
    Hostile(
        "surrogate-coco", _text("sur.json", '{"categories": [{"id": 1, "name": "a\\ud800"}]}'), ("U+D800",)
    ),
    Hostile("private-use-txt", _text("pua.txt", "dog\ncat\ue000\n"), ("{file}:2:", "private-use")),
    # 7. Names with no letter or digit.
    Hostile("zero-width-space", _text("zwsp.txt", "\u200b\n"), ("{file}:1:", "U+200B zero width space")),
    Hostile(
        "punctuation-only", _text("bang.txt", "dog\n!!!\n"), ("{file}:2: class name '!!!' has no letter",)
    ),
    Hostile("nbsp-only-csv", _text("nbsp.csv", "dog\n\u00a0\u3000,x\n"), ("{file}:2:",)),
    # 8. Names that are not strings.
    Hostile("nan-name", _text("nan.json", '{"categories": [{"id": 1, "name": NaN}]}'), ("not float nan",)),
    Hostile("infinity-name", _text("inf.json", '[{"id": 4, "name": Infinity}]'), ("(id 4)", "not float inf")),
    Hostile(
        "bool-name",
        _coco(_cats("dog", True)),
        ("categories[1] (id 2): class name must be a string, not bool",),
    ),
    Hostile("dict-name", _coco(_cats({"en": "dog"})), ("must be a string, not dict",)),
    Hostile("list-name", _coco(_cats(["dog"])), ("must be a string, not list",)),
    Hostile("number-name", _coco(_cats(7)), ("must be a string, not int 7",)),
    Hostile(
        "bool-id",
        _text("boolid.json", '[{"id": true, "name": "dog"}]'),
        ("categories[0] needs an integer 'id'",),
    ),
    Hostile(
        "number-supercategory",
        _coco(lambda: [{"id": 1, "name": "dog", "supercategory": 3}]),
        ("'supercategory'",),
    ),
    Hostile(
        "list-synset", _coco(lambda: [{"id": 1, "name": "dog", "synset": []}]), ("'synset' must be a string",)
    ),
    Hostile(
        "huge-int-id", _text("bigint.json", '[{"id": ' + "9" * 5000 + ', "name": "dog"}]'), ("invalid JSON",)
    ),
    # 9. Binary files: the line and byte where decoding failed.
    Hostile(
        "png-txt", _bytes("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00"), ("{file}:1: not UTF-8", "offset 0")
    ),
    Hostile(
        "latin1-line-3", _bytes("latin1.txt", b"dog\ncat\ncaf\xe9\n"), ("{file}:3: not UTF-8", "offset 11")
    ),
    Hostile("binary-json", _bytes("bin.json", b'{"categories": [\n\xff]}'), ("{file}:2: not UTF-8",)),
    Hostile("binary-csv", _bytes("bin.csv", b"name\n\xc3\x28\n"), ("{file}:2: not UTF-8",)),
    # 10. Repeats: a line list or CSV may repeat a name (ImageNet-1K has two cranes: see
    # tests/test_domains.py); COCO ids may not repeat.
    Hostile(
        "repeat-coco-id",
        _coco(lambda: [{"id": 1, "name": "dog"}, {"id": 1, "name": "cat"}]),
        ("categories[1]: id 1 repeats categories[0]",),
    ),
]
