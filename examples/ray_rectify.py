"""Scoring a pool that outgrows one machine: OOD rectification on Ray Data ``map_batches``.

The SDK's functions are batch-pure (columns in, columns out, no state between batches), so the
same code runs in a loop here and on a Ray cluster. Each Ray worker loads the snapshot once (a
callable class), then rectifies whole batches: a column ``query`` (concept id per image) and a
column ``topk`` (the model's top-5 class indices) in, ``keep`` and ``reason`` out.

Install the extra first: ``pip install 'bamboo-labels[ray,sdk]'``. Usage::

    bamboo snapshot taxonomy.npz
    python examples/ray_rectify.py taxonomy.npz --dataset imagenet-1k --pool pool.parquet --out kept/

Without ``--pool`` a synthetic pool of ``--images`` rows is generated. Without Ray installed the
same callable runs over local batches, which is what the test does.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from bamboo.sdk.labels import OfflineLabels
from bamboo.sdk.ood import ClassificationRectifier, rectify_batch


class Rectify:
    """The ``map_batches`` callable: built once per Ray worker, called once per batch."""

    def __init__(self, snapshot: str, dataset: str, levels: int = 1) -> None:
        labels = OfflineLabels.load(snapshot)
        self.rectifier = ClassificationRectifier(labels, labels.label_space(dataset), levels=levels)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        return rectify_batch(batch, self.rectifier)


def synthetic_pool(snapshot: str, dataset: str, images: int, seed: int = 0) -> dict[str, np.ndarray]:
    labels = OfflineLabels.load(snapshot)
    space = labels.label_space(dataset)
    rng = np.random.default_rng(seed)
    classes = [c for c in space.concepts if c]
    return {
        "image": np.array([f"https://example.org/pool/{i}.jpg" for i in range(images)]),
        "query": rng.choice(np.array(classes), images),
        "topk": rng.integers(0, len(space), size=(images, 5)),
    }


def run_ray(snapshot: str, dataset: str, pool: dict[str, np.ndarray] | str, out: Path) -> int:
    import ray

    if isinstance(pool, str):
        ds = ray.data.read_parquet(pool)
    else:
        rows = zip(pool["image"].tolist(), pool["query"].tolist(), pool["topk"], strict=True)
        ds = ray.data.from_items([{"image": i, "query": q, "topk": t} for i, q, t in rows])
    scored = ds.map_batches(
        Rectify,
        fn_constructor_args=(snapshot, dataset),
        batch_format="numpy",
        batch_size=65536,
        concurrency=2,
    )
    kept = scored.filter(lambda row: bool(row["keep"]))
    kept.drop_columns(["topk"]).write_parquet(str(out))
    return kept.count()


def run_local(snapshot: str, dataset: str, pool: dict[str, np.ndarray], batch_size: int = 65536) -> int:
    step = Rectify(snapshot, dataset)
    kept = 0
    for lo in range(0, len(pool["query"]), batch_size):
        batch = {k: v[lo : lo + batch_size] for k, v in pool.items()}
        kept += int(step(batch)["keep"].sum())
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("snapshot")
    parser.add_argument("--dataset", default="imagenet-1k")
    parser.add_argument("--pool", help="Parquet with columns image, query, topk (default: synthetic)")
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=Path("results/kept"))
    parser.add_argument("--local", action="store_true", help="Run the batches in this process, no Ray.")
    args = parser.parse_args()
    pool = args.pool or synthetic_pool(args.snapshot, args.dataset, args.images)
    if args.local or not _has_ray():
        if isinstance(pool, str):
            raise SystemExit("without Ray, use the synthetic pool (drop --pool)")
        print(f"kept {run_local(args.snapshot, args.dataset, pool):,} images (local batches)")
    else:
        print(f"kept {run_ray(args.snapshot, args.dataset, pool, args.out):,} images; written to {args.out}")


def _has_ray() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
