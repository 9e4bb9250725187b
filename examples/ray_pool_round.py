"""One round of Algorithm 1 over an :class:`~bamboo.sdk.pool.ArrayPool` with its chunk work on Ray Data.

``pool_round`` splits the round into pure per-chunk work (rectify a chunk; the lowest-margin
candidates of a chunk) and a merge that stays in the driver (the global lowest margins, k-means,
the cluster round-robin, the commits). :func:`ray_chunk_map` runs the chunk work as Ray Data
``map_batches`` tasks (:func:`bamboo.sdk.pool.ray_chunk_map`) that open the pool's memory-mapped
arrays by path, so the decisions are the
same as the local loop's: ``benchmarks/scale.py --parts pool --ray`` checks that they are identical.

Install the extra first: ``pip install 'bamboo-labels[ray,sdk]'``. Usage (a pool folder as
``benchmarks/scale.py`` writes it: ``state/``, ``top5.npy``, ``top5_probs.npy``,
``embeddings.npy``, ``related.npy``)::

    python examples/ray_pool_round.py POOL_FOLDER --budget 50000
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bamboo.sdk.pool import ArrayPool, pool_round, ray_chunk_map


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--budget", type=int, default=50_000)
    parser.add_argument("--round", type=int, default=1)
    parser.add_argument("--margin-factor", type=float, default=10.0)
    args = parser.parse_args()
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    pool = ArrayPool.open(args.folder / "state")
    report = pool_round(
        pool,
        args.round,
        top5=np.load(args.folder / "top5.npy", mmap_mode="r"),
        top5_probs=np.load(args.folder / "top5_probs.npy", mmap_mode="r"),
        embeddings=np.load(args.folder / "embeddings.npy", mmap_mode="r"),
        related=np.load(args.folder / "related.npy"),
        budget=args.budget,
        margin_factor=args.margin_factor,
        map_chunks=ray_chunk_map(args.folder, int(np.ceil(args.margin_factor * args.budget))),
    )
    print(report)


if __name__ == "__main__":
    main()
