"""Frozen EfficientNet-Lite0 features of the study's images, cached on disk, and the imagenet
rectifier's keep mask computed from their ImageNet-1K top-5."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bamboo.atomic import atomic_path
from bamboo.training.study.config import CIFAR10_CONCEPTS
from bamboo.training.study.pool import Candidates

__all__ = ["cached_features", "imagenet_keep"]

Array = npt.NDArray[Any]


def cached_features(cand: Candidates, out: Path) -> tuple[Array, Array, Array]:
    """EfficientNet-Lite0 penultimate features and ImageNet-1K top-5, cached in ``out/features.npz``.

    The cache is keyed by a digest of the images, so changed candidates recompute it.

    Args:
        cand: The candidates (pool images and test images).
        out: An existing folder for the cache.

    Returns:
        ``(candidate features, test features, candidate top-5 ImageNet-1K class indices)``.
    """
    import hashlib

    import torch

    from bamboo.sdk.models import efficientnet_lite0
    from bamboo.training.probe import extract_features

    digest = hashlib.sha256(cand.images.tobytes() + cand.test_images.tobytes()).hexdigest()[:16]
    cache = out / "features.npz"
    if cache.exists():
        with np.load(cache) as f:
            if str(f["digest"]) == digest:
                return f["pool"], f["test"], f["top5"]
    model = efficientnet_lite0()
    classifier: torch.nn.Module = model.get_classifier()  # type: ignore[operator]
    feats, top5 = [], []
    with torch.inference_mode():
        for i in range(0, len(cand.images), 256):
            chunk = cand.images[i : i + 256]
            f = extract_features(model, chunk)
            feats.append(f)
            top5.append(classifier(torch.from_numpy(f)).topk(5, dim=1).indices.numpy())
    test = extract_features(model, cand.test_images)
    pool, top = np.concatenate(feats), np.concatenate(top5)
    with atomic_path(cache, ".tmp.npz") as tmp:
        np.savez(tmp, digest=digest, pool=pool, test=test, top5=top)
    return pool, test, top


def imagenet_keep(cand: Candidates, top5: Array, levels: int) -> Array:
    """Keep mask of every candidate for its query word (the imagenet rectifier).

    EfficientNet-Lite0's top-5 against the WordNet related set of the query's concept over ImageNet-1K
    (:class:`~bamboo.sdk.ood.ClassificationRectifier`).

    Args:
        cand: CIFAR-10 candidates (their classes must be keys of ``CIFAR10_CONCEPTS``).
        top5: Per candidate, its ImageNet-1K top-5 class indices.
        levels: Related-set levels.

    Returns:
        A boolean mask over the candidates.
    """
    from bamboo.sdk.labels import LabelSpace, OfflineLabels
    from bamboo.sdk.models import imagenet1k_wnids
    from bamboo.sdk.ood import ClassificationRectifier

    labels = OfflineLabels.from_wordnet()
    space = LabelSpace.of([f"wn:{w}" for w in imagenet1k_wnids()])
    rect = ClassificationRectifier(labels, space, levels=levels, device="cpu")
    concepts = [CIFAR10_CONCEPTS[c] for c in cand.classes]
    return np.asarray(rect([concepts[q] for q in cand.query.tolist()], top5).keep, dtype=bool)
