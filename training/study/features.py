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

__all__ = ["cached_features", "imagenet_keep", "preprocess_key"]

Array = npt.NDArray[Any]


def preprocess_key(size: int = 224) -> str:
    """A digest of what :func:`bamboo.sdk.models.preprocess` makes of a fixed probe image at ``size``.

    Feature caches include it in their key, so a change of the resize or the normalisation (mean / std)
    invalidates them instead of mixing features of two preprocessings.

    >>> preprocess_key(32) == preprocess_key(32) != preprocess_key(16)
    True
    """
    import hashlib

    from bamboo.sdk.models import preprocess

    probe = ((np.arange(12 * 12 * 3).reshape(12, 12, 3) * 37) % 256).astype(np.uint8)
    return hashlib.sha256(preprocess([probe], size).numpy().tobytes()).hexdigest()[:16]


def cached_features(cand: Candidates, out: Path) -> tuple[Array, Array, Array]:
    """EfficientNet-Lite0 penultimate features and ImageNet-1K top-5, cached in ``out/features.npz``.

    The cache is keyed by a digest of the images and of the preprocessing (:func:`preprocess_key`), so
    changed candidates or a changed normalisation recompute it.

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

    digest = hashlib.sha256(
        cand.images.tobytes() + cand.test_images.tobytes() + preprocess_key().encode()
    ).hexdigest()[:16]
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


def imagenet_keep(cand: Candidates, top5: Array, levels: int | None, *, labels: Any = None) -> Array:
    """Keep mask of every candidate for its query word (the imagenet rectifier).

    EfficientNet-Lite0's top-5 against the WordNet related set of the query's concept over ImageNet-1K
    (:class:`~bamboo.sdk.ood.ClassificationRectifier`).

    Args:
        cand: CIFAR-10 candidates (their classes must be keys of ``CIFAR10_CONCEPTS``).
        top5: Per candidate, its ImageNet-1K top-5 class indices.
        levels: Related-set levels; None for the default rule
            (:data:`~bamboo.graph.taxonomy.related.DEFAULT_RULE`).
        labels: The label system (an ``OfflineLabels``); left out, WordNet's, loaded here (slow: pass
            one to call this more than once).

    Returns:
        A boolean mask over the candidates.
    """
    from bamboo.sdk.labels import LabelSpace, OfflineLabels
    from bamboo.sdk.models import imagenet1k_wnids
    from bamboo.sdk.ood import ClassificationRectifier

    labels = labels if labels is not None else OfflineLabels.from_wordnet()
    space = LabelSpace.of([f"wn:{w}" for w in imagenet1k_wnids()])
    rect = ClassificationRectifier(labels, space, levels=levels, device="cpu")
    concepts = [CIFAR10_CONCEPTS[c] for c in cand.classes]
    return np.asarray(rect([concepts[q] for q in cand.query.tolist()], top5).keep, dtype=bool)


def cached_lite0(
    images: Array, test_images: Array, *, maps_size: int | None = None, say: Any = None
) -> dict[str, Array]:
    """EfficientNet-Lite0 outputs of ``images`` and ``test_images``, cached under the project cache folder.

    The cache (``bamboo.paths.cache_dir("study")``, never the repository) is keyed by a digest of the
    images, ``maps_size`` and :func:`preprocess_key` at both sizes, so a changed preprocessing
    recomputes it.

    Args:
        images: Pool candidates, uint8 H x W x 3.
        test_images: Test images.
        maps_size: Also the last stage's feature maps (the input of ``conv_head``) at this input side,
            for the fine-tuned learner; None for none.
        say: Called with a progress line.

    Returns:
        ``pool`` and ``test`` (224-px penultimate features), ``top5`` (the pool's ImageNet-1K top-5) and,
        with ``maps_size``, ``pool_maps`` and ``test_maps`` (float16, N x 320 x s x s).
    """
    import hashlib
    import time

    import torch

    from bamboo.atomic import atomic_path
    from bamboo.paths import cache_dir
    from bamboo.sdk.models import efficientnet_lite0, preprocess

    keys = preprocess_key(224) + (preprocess_key(maps_size) if maps_size else "")
    digest = hashlib.sha256(
        images.tobytes() + test_images.tobytes() + f"{maps_size}:{keys}".encode()
    ).hexdigest()[:16]
    cache = cache_dir("study", f"openset-lite0-{maps_size or 0}-{digest}.npz")
    if cache.exists():
        with np.load(cache) as f:
            return {k: f[k] for k in f.files}
    model = efficientnet_lite0()
    out: dict[str, list[Array]] = {}
    started = time.perf_counter()
    with torch.inference_mode():
        for name, pics in (("pool", images), ("test", test_images)):
            for i in range(0, len(pics), 128):
                chunk = list(pics[i : i + 128])
                f = model.forward_head(model.forward_features(preprocess(chunk, 224)), pre_logits=True)
                out.setdefault(name, []).append(f.float().numpy())
                if name == "pool":
                    out.setdefault("top5", []).append(model.classifier(f).topk(5, dim=1).indices.numpy())
                if maps_size:
                    x = preprocess(chunk, maps_size)
                    m = model.blocks(model.bn1(model.conv_stem(x)))
                    out.setdefault(f"{name}_maps", []).append(m.half().numpy())
                if say and i % 2048 == 0:
                    say(f"features {name} {i}/{len(pics)} ({time.perf_counter() - started:.0f} s)")
    arrays = {k: np.concatenate(v) for k, v in out.items()}
    cache.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(cache, ".tmp.npz") as tmp:
        np.savez(tmp, **arrays)  # type: ignore[arg-type]
    return arrays
