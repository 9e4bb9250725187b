"""ClusterMargin at scale: cluster a 1M x 128-d pool once and select a 10K batch.

Pool: a mixture of ``--blobs`` Gaussian blobs (real clustered structure, so cluster agreement is
meaningful), plus random class probabilities from a softmax over blob-aligned logits. Prints:

* the clustering time (faiss k-means to ``--centroids`` centroids, then average-linkage HAC over the
  centroids to ``--clusters`` clusters) and one selection of ``--batch`` images, with peak memory
  (goal: < 5 min and < 8 GB here);
* against exact sklearn average-linkage HAC on a ``--subset`` sample (the baseline, O(n^2) memory),
  the adjusted Rand index between the two clusterings of that sample, and both times.

Usage: ``python benchmarks/cluster_margin.py [--pool 1000000] [--dim 128] [--batch 10000]``.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.metrics import adjusted_rand_score

from bamboo.sdk.samplers import ClusterMarginSampler, HACClustering

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _options import options  # noqa: E402


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def pool_data(n: int, dim: int, blobs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, size=(blobs, dim)).astype(np.float32) * 4
    which = rng.integers(0, blobs, n)
    x = centres[which] + rng.normal(0, 1, size=(n, dim)).astype(np.float32)
    logits = rng.normal(0, 1, size=(n, 100)).astype(np.float32)
    logits[np.arange(n), which % 100] += rng.gamma(2.0, 1.0, n).astype(np.float32)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    return x, probs / probs.sum(axis=1, keepdims=True)


def main() -> None:
    args = options(
        __doc__,
        pool=1_000_000,
        dim=128,
        blobs=500,
        batch=10_000,
        clusters=1000,
        centroids=4096,
        subset=20_000,
        seed=0,
    )
    x, probs = pool_data(args.pool, args.dim, args.blobs, args.seed)
    print(
        f"pool {args.pool:,} x {args.dim}-d ({args.blobs} blobs), batch {args.batch:,}, "
        f"{args.clusters} clusters over {args.centroids} centroids; data {x.nbytes / 1e9:.2f} GB"
    )

    started = time.perf_counter()
    sampler = ClusterMarginSampler(clusters=args.clusters, centroids=args.centroids, exact_limit=0)
    sampler.fit(x, seed=args.seed)
    fit = time.perf_counter() - started
    started = time.perf_counter()
    chosen = sampler.select(args.batch, probs=probs, seed=args.seed)
    pick = time.perf_counter() - started
    assert len(np.unique(chosen)) == args.batch
    assert sampler.labels_ is not None
    spread = len(np.unique(sampler.labels_[chosen]))
    print(
        f"cluster once: {fit:.1f} s; select {args.batch:,}: {pick:.2f} s; batch spans {spread} clusters; "
        f"peak memory {_peak_gb():.2f} GB (goal < 5 min, < 8 GB)"
    )

    sub = np.random.default_rng(args.seed).choice(args.pool, args.subset, replace=False)
    xs = x[sub]
    started = time.perf_counter()
    exact = AgglomerativeClustering(n_clusters=args.clusters, linkage="average").fit_predict(xs)
    t_exact = time.perf_counter() - started
    started = time.perf_counter()
    approx = HACClustering(args.clusters, exact_limit=0, centroids=min(args.centroids, args.subset // 4)).fit(
        xs
    )
    t_approx = time.perf_counter() - started
    truth_ari = adjusted_rand_score(exact, approx)
    print(
        f"exact sklearn HAC on {args.subset:,} points: {t_exact:.1f} s; centroid HAC: {t_approx:.1f} s "
        f"({t_exact / t_approx:.1f}x); adjusted Rand index between them: {truth_ari:.3f}; "
        f"peak memory {_peak_gb():.2f} GB"
    )


if __name__ == "__main__":
    main()
