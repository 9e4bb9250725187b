"""Datasets whose official class list is one name per line, the line order being the class index.

CIFAR-10 (``batches.meta.txt`` of the binary release), CIFAR-100 (``fine_label_names.txt``),
Food-101 (``meta/classes.txt``), Pascal VOC and Cityscapes (their devkits' class lists).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bamboo.loaders.base import RawClass
from bamboo.loaders.file import FileLoader
from bamboo.loaders.formats import parse_names
from bamboo.loaders.registry import register_loader

__all__ = ["NameListLoader"]


@dataclass
class NameListLoader(FileLoader):
    """One class name per line."""

    def parse(self, path: Path) -> list[RawClass]:
        """The classes of a one-name-per-line file."""
        return parse_names(path)


_CIFAR = "https://www.cs.toronto.edu/~kriz/"
for _name, _file, _url, _task, _mirror in (
    ("cifar-10", "batches.meta.txt", _CIFAR + "cifar-10-binary.tar.gz", "classification",
     "mmpretrain__cifar10_categories_10.txt"),
    ("cifar-100", "fine_label_names.txt", _CIFAR + "cifar-100-binary.tar.gz", "classification",
     "mmpretrain__cifar100_categories_100.txt"),
    ("food-101", "classes.txt", "http://data.vision.ee.ethz.ch/cvl/food-101.tar.gz", "classification",
     "tfds__food101.txt"),
    ("pascal-voc", "voc_classes.txt", "http://host.robots.ox.ac.uk/pascal/VOC/voc2012/", "detection",
     "mmdet__voc_20.txt"),
    ("cityscapes", "cityscapes_classes.txt", "https://www.cityscapes-dataset.com/downloads/", "detection",
     "mmdet__cityscapes_8.txt"),
):  # fmt: skip
    register_loader(_name)(
        lambda n=_name, f=_file, u=_url, t=_task, m=_mirror: NameListLoader(  # type: ignore[misc]
            name=n,
            urls=(u,),
            filename=f,
            task=t,
            mirrors=((m, "names"),),
            domain=("food.n.02", "food.n.01") if n == "food-101" else (),
        )
    )
