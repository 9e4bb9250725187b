"""Scene datasets whose official class lists are paths: Places365 and SUN397.

``categories_places365.txt``: ``/a/airfield 0`` (path, index). SUN397's ``ClassName.txt``:
``/a/abbey`` (index = line order). The display name used for matching is the scene word followed
by its qualifiers, with underscores as spaces: ``/b/bakery/shop`` -> "bakery shop". A path with
qualifiers names a view of its place (``/c/church/outdoor``), so the place is the class's dataset
parent (``parent="church"``): a new concept goes under the place, never under *outdoors*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bamboo.loaders.base import MalformedFile, RawClass, read_lines
from bamboo.loaders.file import FileLoader
from bamboo.loaders.registry import register_loader

__all__ = ["ScenePathLoader"]

_PATH = re.compile(r"^/[a-z]/([a-z0-9_\-]+)((?:/[a-z0-9_\-]+)*)$")


@dataclass
class ScenePathLoader(FileLoader):
    """Scene paths, with (Places365) or without (SUN397) an index column."""

    indexed: bool = False
    scenes: bool = True

    def parse(self, path: Path) -> list[RawClass]:
        """The classes of a ``/x/scene [INDEX]`` list."""
        classes: list[RawClass] = []
        for number, line in read_lines(path):
            parts = line.split()
            if self.indexed and (len(parts) != 2 or not parts[1].isdigit()):
                raise MalformedFile(path, number, f"expected '/x/scene INDEX', got {line[:80]!r}")
            if not self.indexed and len(parts) != 1:
                raise MalformedFile(path, number, f"expected '/x/scene', got {line[:80]!r}")
            m = _PATH.match(parts[0])
            if not m:
                raise MalformedFile(path, number, f"not a scene path like /a/airfield: {parts[0][:80]!r}")
            index = int(parts[1]) if self.indexed else len(classes)
            if index != len(classes):
                raise MalformedFile(path, number, f"index {index} out of order (expected {len(classes)})")
            place = m.group(1).replace("_", " ")
            qualifier = m.group(2).strip("/").replace("/", " ").replace("_", " ")
            display = " ".join(p for p in (place, qualifier) if p)
            # "/c/church/outdoor" is a view of a church: the place is its parent, not "outdoor"
            parent = place if qualifier else None
            classes.append(RawClass(index=index, raw_name=parts[0], name=display, parent=parent))
        return classes


register_loader("places365")(
    lambda: ScenePathLoader(
        name="places365",
        urls=("http://data.csail.mit.edu/places/places365/filelist_places365-standard.tar",),
        filename="categories_places365.txt",
        indexed=True,
    )
)
register_loader("sun397")(
    lambda: ScenePathLoader(
        name="sun397",
        urls=("https://vision.princeton.edu/projects/2010/SUN/download/Partitions.zip",),
        filename="ClassName.txt",
        indexed=False,
        mirrors=(("tfds__sun397.txt", "official"),),
    )
)
