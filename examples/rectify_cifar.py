"""OOD rectification with a real model: EfficientNet-Lite0 (ImageNet-1K weights) on real photos.

Each CIFAR-10 image (``../shared/data/images``; skimage's photos when that folder is missing) is
run through the model; its top-5 ImageNet-1K classes are checked against the real WordNet related
set of a query concept over the ImageNet-1K label space. Two runs:

* **own word**: each image queried with its own class (an airplane photo crawled for "airplane"):
  most should be kept;
* **unrelated word**: each image queried with another class's word (class ``(c + 5) % 10``: an
  airplane photo as "dog", a ship as "cat"): most should be dropped.

Prints keep rates per class and overall, for related-set levels 1 (the default) and 2.

Usage: ``python examples/rectify_cifar.py [--per-class 100] [--snapshot taxonomy.npz]``
(without ``--snapshot`` the taxonomy is read from WordNet 3.0 directly).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bamboo.sdk.labels import LabelSpace, OfflineLabels
from bamboo.sdk.models import efficientnet_lite0, imagenet1k_wnids, preprocess
from bamboo.sdk.ood import ClassificationRectifier
from bamboo.training.study import CIFAR10_CONCEPTS

SHARED_DATA = Path(
    os.environ.get("BAMBOO_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
CIFAR = SHARED_DATA / "images" / "cifar10_test_from_jpeg.npz"


def load_images(per_class: int, seed: int = 0) -> tuple[list[np.ndarray], list[str]]:
    """``per_class`` CIFAR-10 test images per class (or skimage photos), with their class names."""
    if CIFAR.exists():
        with np.load(CIFAR) as data:
            names, labels, images = data["class_names"].tolist(), data["labels"], data["images"]
            rng = np.random.default_rng(seed)
            picks = [
                int(i)
                for c in range(10)
                for i in rng.choice(np.flatnonzero(labels == c), per_class, replace=False)
            ]
            return [images[i] for i in picks], [names[labels[i]] for i in picks]
    from skimage import data as photos

    return [photos.chelsea(), photos.cat()], ["cat", "cat"]


def top5(images: list[np.ndarray], batch: int = 64) -> torch.Tensor:
    model = efficientnet_lite0()
    out = []
    with torch.inference_mode():
        for i in range(0, len(images), batch):
            out.append(model(preprocess(images[i : i + batch], model=model)).topk(5, dim=1).indices)
    return torch.cat(out)


def run(per_class: int, snapshot: Path | None = None) -> dict[str, Any]:
    labels = OfflineLabels.load(snapshot) if snapshot else OfflineLabels.from_wordnet()
    space = LabelSpace.of([f"wn:{w}" for w in imagenet1k_wnids()], None)
    images, classes = load_images(per_class)
    started = time.perf_counter()
    top = top5(images)
    inference = time.perf_counter() - started
    names = list(CIFAR10_CONCEPTS)
    own = [CIFAR10_CONCEPTS[c] for c in classes]
    other = [CIFAR10_CONCEPTS[names[(names.index(c) + 5) % 10]] for c in classes]
    result: dict[str, Any] = {"images": len(images), "inference_s": round(inference, 1), "levels": {}}
    for levels in (1, 2):
        rect = ClassificationRectifier(labels, space, levels=levels, device="cpu")
        kept_own, kept_other = rect(own, top).keep, rect(other, top).keep
        per_class_rates = {
            c: {
                "own_kept": float(kept_own[[k == c for k in classes]].mean()),
                "unrelated_dropped": float(1 - kept_other[[k == c for k in classes]].mean()),
            }
            for c in dict.fromkeys(classes)
        }
        result["levels"][levels] = {
            "own_word_kept": float(kept_own.mean()),
            "unrelated_word_dropped": float(1 - kept_other.mean()),
            "per_class": per_class_rates,
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--snapshot", type=Path)
    parser.add_argument("--out", type=Path, default=Path("results/rectify-cifar.json"))
    args = parser.parse_args()
    result = run(args.per_class, args.snapshot)
    print(f"{result['images']} images, EfficientNet-Lite0 top-5 in {result['inference_s']} s")
    for levels, r in result["levels"].items():
        print(
            f"levels={levels}: own word kept {r['own_word_kept']:.1%}; "
            f"unrelated word dropped {r['unrelated_word_dropped']:.1%}"
        )
        for c, pc in r["per_class"].items():
            print(f"  {c:<11} own kept {pc['own_kept']:.0%}  unrelated dropped {pc['unrelated_dropped']:.0%}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
