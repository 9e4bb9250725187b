"""The base of loaders that read one official file (or folder), or a known redistribution of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bamboo.loaders.base import LabelSet, MalformedFile, RawClass, Task
from bamboo.loaders.formats import FORMATS

__all__ = ["FileLoader"]


@dataclass
class FileLoader:
    """Fields and file handling shared by the dataset loaders.

    Attributes:
        name: The dataset's registry name.
        urls: Where the official files are published (the first is the class list's source).
        filename: The official file (or folder) holding the class list.
        task: What the dataset is used for.
        mirrors: ``(file name, format)`` of known redistributions of the same class list, e.g. the
            lists that tensorflow-datasets, mmdet or mmpretrain ship, saved as ``<package>__<file>``;
            the format is a key of :data:`bamboo.loaders.formats.FORMATS`, or ``"official"``.
        domain: WordNet synset names every class falls under (see :class:`LabelSet`).
        scenes: The classes are scene categories (see :class:`LabelSet`).
    """

    name: str
    urls: tuple[str, ...]
    filename: str
    task: Task = "classification"
    mirrors: tuple[tuple[str, str], ...] = ()
    domain: tuple[str, ...] = ()
    scenes: bool = False

    def find(self, folders: Sequence[Path]) -> Path | None:
        """The first of the official file, then the mirrors, found in ``folders``, or ``None``."""
        for candidate in (self.filename, *(m for m, _ in self.mirrors)):
            for folder in folders:
                if (folder / candidate).exists():
                    return folder / candidate
        return None

    def load(self, path: Path) -> LabelSet:
        """Read the class list at ``path``, or the one :meth:`find` finds in the folder ``path``.

        Raises:
            FileNotFoundError: nothing to read.
            MalformedFile: the file breaks its format (the message names file and line).
        """
        if path.is_dir() and path.name != self.filename:
            found = self.find([path])
            if found is None:
                raise FileNotFoundError(f"{self.name}: no {self.filename} in {path} (see {self.urls[0]})")
            path = found
        if not path.exists():
            raise FileNotFoundError(f"{self.name}: {path} not found (see {self.urls[0]})")
        fmt = dict(self.mirrors).get(path.name, "official") if path.name != self.filename else "official"
        classes = self.parse(path) if fmt == "official" else FORMATS[fmt](path)
        if not classes:
            raise MalformedFile(path, None, "no classes in file")
        return LabelSet(
            name=self.name,
            task=self.task,
            classes=classes,
            source=str(path),
            domain=self.domain,
            scenes=self.scenes,
        )

    def parse(self, path: Path) -> list[RawClass]:
        """Classes from the official file; each loader implements it."""
        raise NotImplementedError
