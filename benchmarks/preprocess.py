"""Which input normalisation the packaged EfficientNet-Lite weights read best, on real labelled photos.

The same photos, the same bicubic resize, the same model; only the normalisation differs: the one the
weights declare (:func:`bamboo.sdk.models.normalisation`, timm's ``pretrained_cfg``: mean = std = 0.5)
against ImageNet's mean / std (0.485... / 0.229..., what ``preprocess`` used before 2026-12-07).

* **CIFAR-10** (``../shared/data/images``, test file, ``--per-class`` photos per class, resized to
  ``--size``): a photo is a top-1 / top-5 hit when its top-1 / one of its top-5 ImageNet-1K classes lies
  in its CIFAR class's WordNet subtree (the synsets of ``CIFAR10_CONCEPTS``, as ``benchmarks/rectify.py``).
* **skimage photos** with obvious labels: ``chelsea`` and ``cat`` (cat subtree), ``coffee`` (cup subtree,
  coffee mug, espresso), ``rocket`` (missile, projectile, space shuttle); the top-1 class is printed too.

* **stem BatchNorm fit**, label-free: how far the first convolution's outputs on the CIFAR photos sit
  from the running mean / variance its BatchNorm kept while training (median over channels, per batch
  of 100, median over batches): near 0 when the inputs are normalised as in training.

Prints hit rates per variant and normalisation, per CIFAR class, the skimage photos' top-1 classes and
the stem fit.
Usage: ``python benchmarks/preprocess.py [--variants 0 1 2] [--per-class 60] [--size 224] [--threads 2]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import cast

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from _cifar_features import load_images  # noqa: E402

from bamboo.training.study.config import CIFAR10_CONCEPTS  # noqa: E402

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
# skimage photo -> the concepts whose subtrees count as right (ImageNet-1K has no class for a person).
SKIMAGE = {
    "chelsea": ["wn:n02121620"],
    "cat": ["wn:n02121620"],
    "coffee": ["wn:n03147509", "wn:n03063599", "wn:n07920052"],
    "rocket": ["wn:n03773504", "wn:n04008634", "wn:n04266014"],
}


def hits(logits: np.ndarray, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per photo: top-1 and top-5 hit, ``allowed`` being photos x classes."""
    top5 = np.argsort(-logits, axis=1)[:, :5]
    inside = np.take_along_axis(allowed, top5, axis=1)
    return inside[:, 0], np.asarray(inside.any(axis=1))


def stem_fit(model: torch.nn.Module, x: torch.Tensor) -> tuple[float, float]:
    """How far the stem's outputs on ``x`` sit from the statistics its BatchNorm kept in training: median
    over channels (those with running variance > 0.01) of |mean - running mean| / running sd and of
    |log(variance / running variance)|; 0 for inputs normalised as in training."""
    stem, bn = cast(torch.nn.Module, model.conv_stem), cast(torch.nn.BatchNorm2d, model.bn1)
    with torch.inference_mode():
        out = stem(x)
    assert bn.running_mean is not None and bn.running_var is not None
    ok = bn.running_var > 1e-2
    shift = ((out.mean((0, 2, 3)) - bn.running_mean) / bn.running_var.sqrt())[ok].abs().median()
    scale = (out.var((0, 2, 3)) / bn.running_var)[ok].log().abs().median()
    return float(shift), float(scale)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, nargs="+", default=[0])
    parser.add_argument("--per-class", type=int, default=60)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()

    from skimage import data as photos
    from timm.data import ImageNetInfo

    from bamboo.sdk.labels import OfflineLabels
    from bamboo.sdk.models import efficientnet_lite, imagenet1k_wnids, normalisation, preprocess

    torch.set_num_threads(args.threads)
    tax = OfflineLabels.from_wordnet().taxonomy
    space = [f"wn:{w}" for w in imagenet1k_wnids()]
    info = ImageNetInfo()

    def subtree(concepts: list[str]) -> np.ndarray:
        inside = set().union(*(tax.descendants(c) | {c} for c in concepts))
        return np.array([c in inside for c in space])

    images, labels, names = load_images("test")
    rng = np.random.default_rng(args.seed)
    pick = np.sort(
        np.concatenate(
            [rng.choice(np.flatnonzero(labels == c), args.per_class, replace=False) for c in range(10)]
        )
    )
    images, labels = images[pick], labels[pick]
    per_class = np.stack([subtree([CIFAR10_CONCEPTS[n]]) for n in names])
    allowed = per_class[labels]
    extra = {name: getattr(photos, name)() for name in SKIMAGE}
    extra_allowed = np.stack([subtree(c) for c in SKIMAGE.values()])
    print(
        f"CIFAR-10 test file: {len(images)} photos ({args.per_class} per class) at {args.size} px; skimage: "
        f"{', '.join(extra)}; subtree sizes (ImageNet-1K classes) "
        + ", ".join(f"{n} {int(per_class[i].sum())}" for i, n in enumerate(names))
    )
    print(f"{'model':<8}{'normalisation':<22}{'top-1':>7}{'top-5':>7}  skimage top-1 / top-5 hits")
    for variant in args.variants:
        model = efficientnet_lite(variant)
        declared = normalisation(model)
        runs = {f"declared {declared[0][0]}/{declared[1][0]}": declared, "ImageNet mean/std": IMAGENET}
        for label, (mean, std) in runs.items():
            out, fits = [], []
            with torch.inference_mode():
                for batch in [list(images[i : i + 100]) for i in range(0, len(images), 100)] + [
                    list(extra.values())
                ]:
                    x = preprocess(batch, args.size, model=model)
                    # Undo the declared normalisation, then apply this run's (the same resized pixels).
                    raw = x * torch.tensor(declared[1]).view(1, 3, 1, 1) + torch.tensor(declared[0]).view(
                        1, 3, 1, 1
                    )
                    x = (raw - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
                    out.append(model(x).numpy())
                    fits.append(stem_fit(model, x))
            logits = np.concatenate(out)
            top1, top5 = hits(logits[: len(images)], allowed)
            s1, s5 = hits(logits[len(images) :], extra_allowed)
            tops = [info.index_to_description(int(j)) for j in logits[len(images) :].argmax(axis=1)]
            named = ", ".join(f"{n}: {t}" for n, t in zip(extra, tops, strict=True))
            n = len(extra)
            print(
                f"Lite{variant:<4}{label:<22}{top1.mean():7.1%}{top5.mean():7.1%}"
                f"  {int(s1.sum())}/{n} / {int(s5.sum())}/{n}  ({named})"
            )
            shift, scale = np.median(np.array(fits[:-1]), axis=0)
            print(f"{'':<30}stem BatchNorm fit (0 = as trained): shift {shift:.3f}, log-variance {scale:.3f}")
            per = "  ".join(f"{n} {top5[labels == c].mean():.0%}" for c, n in enumerate(names))
            print(f"{'':<30}top-5 per class: {per}")
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
