"""ImageNet family: class lists given as WordNet ids.

Two official layouts are read: a plain list of wnids, one per line (timm's ``imagenet_synsets.txt``,
``imagenet21k_goog_synsets.txt``, ``imagenet22k_synsets.txt``; the class index is the line order),
and ILSVRC's ``LOC_synset_mapping.txt`` (``n01440764 tench, Tinca tinca``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bamboo.loaders.base import RawClass
from bamboo.loaders.file import FileLoader
from bamboo.loaders.formats import parse_wnids
from bamboo.loaders.registry import register_loader

__all__ = ["WnidListLoader"]

_TIMM = "https://raw.githubusercontent.com/huggingface/pytorch-image-models/main/timm/data/_info/"


@dataclass
class WnidListLoader(FileLoader):
    """A dataset whose classes are WordNet ids, one per line, optionally followed by names."""

    def parse(self, path: Path) -> list[RawClass]:
        """The classes of a WordNet-id-per-line file."""
        return parse_wnids(path)


for _name, _file in (
    ("imagenet-1k", "imagenet_synsets.txt"),
    ("imagenet-21k", "imagenet21k_goog_synsets.txt"),
    ("imagenet-22k", "imagenet22k_synsets.txt"),
    ("imagenet-21k-p", "imagenet21k_miil_synsets.txt"),
    ("imagenet-12k", "imagenet12k_synsets.txt"),
):
    register_loader(_name)(
        lambda n=_name, f=_file: WnidListLoader(  # type: ignore[misc]
            name=n, urls=(_TIMM + f,), filename=f, mirrors=((f"timm__{f}", "wnids"),)
        )
    )
