"""EfficientNet-Lite0 features and ImageNet-1K logits of the team's CIFAR-10 images, cached.

The growth and retrieval benchmarks share them: penultimate features (1,280-d, the AL study's
features) and the 1,000 ImageNet logits (the retrieval bridge's input; the classifier head applied to
the features, so only features are cached). Computed once on CPU and cached under
``~/.cache/bamboo/features`` as ``<file stem>-efficientnet_lite0-<digest>.npz`` (never inside the
repository), the digest of the images and of the input normalisation (:func:`cache_digest`), the name
``benchmarks/annotation.py`` uses too, so either benchmark reuses the other's features and features of
another normalisation (ImageNet mean / std before 2026-12-07) are never reused.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import numpy as np

from bamboo import paths

CIFAR = Path(os.environ.get("BAMBOO_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
FILES = {"train": "cifar10_train_subset_1000pc_from_jpeg.npz", "test": "cifar10_test_from_jpeg.npz"}
CACHE = paths.cache_dir("features")


def load_images(split: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(images uint8 N x 32 x 32 x 3, labels, class names)`` of one split."""
    with np.load(CIFAR / "images" / FILES[split]) as f:
        return f["images"], f["labels"].astype(np.int64), [str(c) for c in f["class_names"]]


def cache_digest(images: np.ndarray) -> str:
    """The digest feature caches are named by: the images and the normalisation ``preprocess`` applies."""
    from bamboo.sdk.models import normalisation

    return hashlib.sha256(images.tobytes() + repr(normalisation()).encode()).hexdigest()[:16]


def _features(images: np.ndarray, stem: str, threads: int) -> tuple[np.ndarray, np.ndarray]:
    """``(features, logits)`` of uint8 images, features cached under ``stem`` and the images' digest."""
    import torch

    from bamboo.atomic import atomic_path
    from bamboo.sdk.models import efficientnet_lite0
    from bamboo.training.probe import extract_features

    torch.set_num_threads(threads)
    path = CACHE / f"{stem}-efficientnet_lite0-{cache_digest(images)}.npz"
    model = efficientnet_lite0()
    if not path.exists():
        feats = []
        started = time.perf_counter()
        for i in range(0, len(images), 500):
            feats.append(extract_features(model, images[i : i + 500]).astype(np.float32))
            print(f"{stem}: {i + 500}/{len(images)} in {time.perf_counter() - started:.0f} s", flush=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, ".tmp.npz") as tmp:
            np.savez(tmp, features=np.concatenate(feats))
    with np.load(path) as f:
        features = f["features"].astype(np.float32)
    with torch.inference_mode():
        logits = model.get_classifier()(torch.from_numpy(features)).numpy().astype(np.float32)
    return features, logits


def cifar_features(split: str, *, per_class: int | None = None, threads: int = 1) -> dict[str, np.ndarray]:
    """``features`` (N x 1280), ``logits`` (N x 1000), ``labels`` and ``class_names`` of one split (the
    first ``per_class`` images of each class when given: the files are sorted by class, so their first
    images are of one or two classes only)."""
    images, labels, names = load_images(split)
    if per_class is not None:
        pick = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(len(names))])
        images, labels = images[pick], labels[pick]
    features, logits = _features(images, Path(FILES[split]).stem, threads)
    return {"features": features, "logits": logits, "labels": labels, "class_names": np.array(names)}


def near_copies(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` near-copies of random training images (mirrored, shifted by 2 pixels, 10 % brighter) and the
    positions of their originals: real images, so their features are near, not equal, to the originals'."""
    images, _, _ = load_images("train")
    originals = np.sort(np.random.default_rng(seed).choice(len(images), n, replace=False))
    copies = images[originals][:, :, ::-1].astype(np.int16)
    copies = np.roll(copies, 2, axis=2)
    copies = np.clip(copies * 1.1, 0, 255).astype(np.uint8)
    return copies, originals


def copy_features(n: int, seed: int = 0, *, threads: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(features, logits, originals)`` of :func:`near_copies`, cached like :func:`cifar_features`."""
    copies, originals = near_copies(n, seed)
    features, logits = _features(copies, "cifar10-near-copies", threads)
    return features, logits, originals


if __name__ == "__main__":
    cifar_features("train")
    cifar_features("test", per_class=300)
    copy_features(2000)
