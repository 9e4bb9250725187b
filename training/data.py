"""Training data: an image folder (one sub-folder per class, sorted) or a meta file of
``[path] [class_index]`` lines (the format the SDK's de-duplication writes), with augmentation that
is seeded per (seed, epoch, image), so a run is reproducible whatever the number of processes or
where it resumed."""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from bamboo.errors import ConfigurationError, MalformedFile
from bamboo.sdk.dedup import IMAGE_SUFFIXES, iter_source

__all__ = ["ImageList", "read_entries"]


def read_entries(source: str | Path) -> tuple[list[tuple[str, int]], list[str]]:
    """``(path, class index)`` pairs and class names (folder names; ``"<index>"`` for meta files;
    concept ids for the active-learning loop's labelled images).

    Args:
        source: An image folder, a meta file, or an active-learning loop's folder or pools.sqlite.

    Returns:
        ``(entries, class names)``.

    Raises:
        ConfigurationError: the source does not exist or holds no images.
        MalformedFile: a meta line without a class index, or a URL (download the images first).
    """
    path = Path(source)
    if not path.exists():
        raise ConfigurationError(f"training data {path} does not exist")
    if path.name == "pools.sqlite" or (path / "pools.sqlite").is_file():
        return _read_pools(path if path.name == "pools.sqlite" else path / "pools.sqlite")
    if path.is_dir():
        classes = sorted(d.name for d in path.iterdir() if d.is_dir())
        entries = [
            (str(f), i)
            for i, c in enumerate(classes)
            for f in sorted((path / c).rglob("*"))
            if f.suffix.lower() in IMAGE_SUFFIXES
        ]
    else:
        entries = []
        for item in iter_source(path):
            if item.label is None:
                raise MalformedFile(path, item.line, "a training meta line needs a class index")
            if item.location.startswith(("http://", "https://")):
                raise MalformedFile(path, item.line, "URLs are not read during training; download the images")
            entries.append((item.location, item.label))
        classes = [str(i) for i in range(max((lab for _, lab in entries), default=-1) + 1)]
    if not entries:
        raise ConfigurationError(f"no images in {path}")
    return entries, classes


class ImageList(torch.utils.data.Dataset[tuple[torch.Tensor, int]]):
    """Images and labels, transformed with randomness seeded per (seed, epoch, image).

    Args:
        entries: ``(image path, class index)`` pairs.
        transform: Applied to each RGB image; its random draws are reproducible.
        seed: The run's seed.
    """

    def __init__(
        self, entries: list[tuple[str, int]], transform: Callable[[Image.Image], Any], seed: int = 0
    ) -> None:
        self.entries, self.transform, self.seed = entries, transform, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch the augmentation's seeds follow (call at the start of each epoch)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        path, label = self.entries[i]
        state = zlib.crc32(f"{self.seed}:{self.epoch}:{i}".encode())
        random.seed(state)  # timm / torchvision transforms draw from these two generators
        torch.manual_seed(state)
        with Image.open(path) as image:
            return self.transform(image.convert("RGB")), label


def _read_pools(db_path: Path) -> tuple[list[tuple[str, int]], list[str]]:
    """The loop's labelled images. The label space is the concepts that have data: each loop label
    with at least one labelled image becomes a class (in label order), named by the query concept
    most of its images were crawled for."""
    import sqlite3
    from collections import Counter

    from bamboo.sdk.loop import read_pools

    try:
        rows = [
            (key, query, label)
            for key, query, state, label, _, _ in read_pools(db_path.parent)
            if state == "labeled" and label is not None
        ]
    except sqlite3.DatabaseError as exc:
        raise ConfigurationError(f"{db_path} is not an active-learning state database: {exc}") from None
    if not rows:
        raise ConfigurationError(f"no labelled images in {db_path}")
    queries: dict[int, Counter[str]] = {}
    for _, query, label in rows:
        queries.setdefault(int(label), Counter())[query] += 1
    labels = sorted(queries)
    position = {lab: i for i, lab in enumerate(labels)}
    classes = [queries[lab].most_common(1)[0][0] for lab in labels]
    return [(key, position[int(label)]) for key, _, label in rows], classes
