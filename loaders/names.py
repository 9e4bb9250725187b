"""Datasets whose official class list is one name per line, the line order being the class index.

CIFAR-10 (``batches.meta.txt`` of the binary release), CIFAR-100 (``fine_label_names.txt``),
Food-101 (``meta/classes.txt``), Pascal VOC and Cityscapes (their devkits' class lists).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bamboo.loaders.base import FileLoader, LabelSet, MalformedFile, RawClass, read_lines
from bamboo.loaders.registry import register_loader

__all__ = ["NameListLoader"]


@dataclass
class NameListLoader(FileLoader):
    """One class name per line."""

    def load(self, path: Path) -> LabelSet:
        path = self.resolve(path)
        classes: list[RawClass] = []
        seen: dict[str, int] = {}
        for number, line in read_lines(path):
            raw = line.strip()
            if "\t" in raw or len(raw) > 200:
                raise MalformedFile(path, number, f"expected one class name per line, got {raw[:80]!r}")
            if raw in seen:
                raise MalformedFile(path, number, f"{raw!r} repeats line {seen[raw]}")
            seen[raw] = number
            classes.append(RawClass(index=len(classes), raw_name=raw))
        return self.label_set(path, classes)


_CIFAR = "https://www.cs.toronto.edu/~kriz/"
for _name, _file, _url, _task in (
    ("cifar-10", "batches.meta.txt", _CIFAR + "cifar-10-binary.tar.gz", "classification"),
    ("cifar-100", "fine_label_names.txt", _CIFAR + "cifar-100-binary.tar.gz", "classification"),
    ("food-101", "classes.txt", "http://data.vision.ee.ethz.ch/cvl/food-101.tar.gz", "classification"),
    ("pascal-voc", "voc_classes.txt", "http://host.robots.ox.ac.uk/pascal/VOC/voc2012/", "detection"),
    ("cityscapes", "cityscapes_classes.txt", "https://www.cityscapes-dataset.com/downloads/", "detection"),
):
    register_loader(_name)(
        lambda n=_name, f=_file, u=_url, t=_task: NameListLoader(  # type: ignore[misc]
            name=n, urls=(u,), filename=f, task=t
        )
    )
