"""What a dataset loader returns: a label set of raw classes, each with the evidence the dataset gives."""

from __future__ import annotations

import codecs
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from bamboo.atomic import atomic_path
from bamboo.errors import MalformedFile  # re-exported: its home was here

__all__ = [
    "TAXON_RANKS",
    "LabelSet",
    "Loader",
    "MalformedFile",
    "RawClass",
    "Task",
    "download",
    "read_lines",
    "read_text",
]

Task = Literal["classification", "detection"]


#: Taxonomic ranks from the most specific, as datasets name them.
TAXON_RANKS = ("genus", "family", "order", "class", "phylum", "kingdom")


@dataclass(frozen=True)
class RawClass:
    """One class as the dataset states it.

    Attributes:
        index: The dataset's class index.
        raw_name: The name as written in the file.
        wnid: A WordNet 3.0 noun id the dataset gives (``n02084071``), if any.
        synset: A WordNet synset name the dataset gives (``dog.n.01``), if any.
        mid: A Freebase / Open Images machine id, if any.
        parent: The class's parent inside the dataset (a supercategory or genus name, or the MID of
            an Open Images Subcategory parent), if any.
        part_of: The MIDs of the wholes an Open Images class is a ``Part`` of.
        name: A clean display name for matching (``"bakery shop"`` for ``/b/bakery/shop``);
            defaults to ``raw_name``.
        description: The dataset's own description of the class (LVIS's ``def``, a user's CSV
            column), compared with each sense's gloss.
        lineage: The dataset's taxonomy of a species, ``(("genus", "Quercus"), ("family",
            "Fagaceae"), ...)``, most specific rank first (iNaturalist's categories).
    """

    index: int
    raw_name: str
    wnid: str | None = None
    synset: str | None = None
    mid: str | None = None
    parent: str | None = None
    part_of: tuple[str, ...] = ()
    name: str | None = None
    lineage: tuple[tuple[str, str], ...] = ()
    description: str | None = None

    @property
    def display_name(self) -> str:
        """The clean name, else the raw name with underscores as spaces."""
        return self.name or self.raw_name.replace("_", " ")


@dataclass(frozen=True)
class LabelSet:
    """A dataset's label system as read from its files.

    Attributes:
        domain: WordNet synset names every class of the dataset falls under (``("dog.n.01",)`` for
            Stanford Dogs), used to choose among a name's senses and to suggest a parent (the
            first) for a class that stays pending.
        scenes: The classes are scene categories (Places, SUN), the scene words of detection
            crawl queries rather than objects.
    """

    name: str
    task: Task
    classes: list[RawClass]
    source: str = ""
    domain: tuple[str, ...] = ()
    scenes: bool = False
    extra: dict[str, str] = field(default_factory=dict)


class Loader(Protocol):
    """A dataset's parser: ``load`` reads its official file (``filename``, a folder holding it, or a
    known redistribution of the class list); ``urls`` are where the official files live."""

    name: str
    task: Task
    urls: tuple[str, ...]
    filename: str

    def find(self, folders: Sequence[Path]) -> Path | None:
        """The dataset's label file in the first of ``folders`` that holds it, else ``None``."""
        ...

    def load(self, path: Path) -> LabelSet:
        """The label set read from ``path``.

        Raises:
            MalformedFile: the file breaks its format.
        """
        ...


def download(url: str, dest: Path, *, timeout: float = 60.0) -> Path:
    """Fetch an official file to ``dest`` atomically (needs a network; the tests never call it)."""
    request = urllib.request.Request(url, headers={"User-Agent": "bamboo-labels/0.1 (dataset loader)"})
    with (
        atomic_path(dest) as tmp,
        urllib.request.urlopen(request, timeout=timeout) as response,  # noqa: S310
        open(tmp, "wb") as fh,
    ):
        while chunk := response.read(1 << 20):
            fh.write(chunk)
    return dest


def read_text(path: Path) -> str:
    """The file as UTF-8 text (a leading byte-order mark dropped).

    Raises:
        FileNotFoundError: no such file.
        MalformedFile: a folder, or bytes that are not UTF-8 (the line and byte offset of the first).
    """
    try:
        data = path.read_bytes()
    except IsADirectoryError as exc:
        raise MalformedFile(path, None, "a folder, not a text file") from exc
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = start + exc.start
        line = data.count(b"\n", 0, at) + 1
        raise MalformedFile(
            path,
            line,
            f"not UTF-8 text: byte {data[at]:#04x} at offset {at} ({exc.reason}); is this a binary file?",
        ) from None


def read_lines(path: Path) -> list[tuple[int, str]]:
    """Non-blank lines with their 1-based line numbers; a file that is not UTF-8 text is malformed.

    Lines end at ``\\n`` (and a ``\\r`` before it) only, as editors count them: the other characters
    Python also splits at (``\\x1c``, ``\\x85``, ``\\u2028`` ...) stay in the line, for the name
    rules to refuse.
    """
    text = read_text(path)
    lines = ((n, line.removesuffix("\r")) for n, line in enumerate(text.split("\n"), start=1))
    return [(n, line) for n, line in lines if line.strip(" \t")]
