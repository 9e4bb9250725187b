"""ImageNet family: class lists given as WordNet ids.

Two official layouts are read: a plain list of wnids, one per line (timm's ``imagenet_synsets.txt``,
``imagenet21k_goog_synsets.txt``, ``imagenet22k_synsets.txt``; the class index is the line order),
and ILSVRC's ``LOC_synset_mapping.txt`` (``n01440764 tench, Tinca tinca``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bamboo.loaders.base import FileLoader, LabelSet, MalformedFile, RawClass, read_lines
from bamboo.loaders.registry import register_loader

__all__ = ["WnidListLoader"]

_WNID = re.compile(r"^n\d{8}$")
_TIMM = "https://raw.githubusercontent.com/huggingface/pytorch-image-models/main/timm/data/_info/"


@dataclass
class WnidListLoader(FileLoader):
    """A dataset whose classes are WordNet ids, one per line, optionally followed by names."""

    def load(self, path: Path) -> LabelSet:
        path = self.resolve(path)
        classes: list[RawClass] = []
        seen: dict[str, int] = {}
        for number, line in read_lines(path):
            wnid, _, rest = line.strip().partition(" ")
            if not _WNID.match(wnid):
                raise MalformedFile(path, number, f"expected a WordNet id like n02084071, got {wnid[:40]!r}")
            if wnid in seen:
                raise MalformedFile(path, number, f"{wnid} repeats line {seen[wnid]}")
            seen[wnid] = number
            classes.append(RawClass(index=len(classes), raw_name=rest.strip() or wnid, wnid=wnid))
        return self.label_set(path, classes)


for _name, _file in (
    ("imagenet-1k", "imagenet_synsets.txt"),
    ("imagenet-21k", "imagenet21k_goog_synsets.txt"),
    ("imagenet-22k", "imagenet22k_synsets.txt"),
    ("imagenet-21k-p", "imagenet21k_miil_synsets.txt"),
    ("imagenet-12k", "imagenet12k_synsets.txt"),
):
    register_loader(_name)(
        lambda n=_name, f=_file: WnidListLoader(name=n, urls=(_TIMM + f,), filename=f)  # type: ignore[misc]
    )
