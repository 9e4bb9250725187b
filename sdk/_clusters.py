"""ClusterMargin's batch filling, shared by the in-memory sampler and the array pool (torch-free)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["round_robin"]


def round_robin(
    items: npt.ArrayLike, labels: npt.ArrayLike, budget: int, rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """Up to ``budget`` of ``items`` taken round-robin over their clusters, smallest clusters first.

    ``items[i]`` belongs to cluster ``labels[i]``. The items are shuffled by ``rng`` first, so the
    order inside a cluster is random; then the first item of every cluster is taken (smallest
    cluster first, ties by cluster id), then the second of each, and so on.

    Example:
        >>> round_robin([10, 11, 12, 13], [0, 0, 0, 1], 3, np.random.default_rng(0)).tolist()[0]
        13
    """
    items_a: npt.NDArray[Any] = np.asarray(items, dtype=np.int64)
    labels_a: npt.NDArray[Any] = np.asarray(labels, dtype=np.int64)
    if len(items_a) != len(labels_a):
        raise ValueError(f"{len(items_a)} items for {len(labels_a)} cluster labels")
    perm = rng.permutation(len(items_a))
    if len(items_a) == 0:
        return items_a
    lab = labels_a[perm]
    uniq, inverse, sizes = np.unique(lab, return_inverse=True, return_counts=True)
    # Rank of each item inside its cluster, in shuffled order.
    by_cluster = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    depth = np.empty(len(lab), dtype=np.int64)
    depth[by_cluster] = np.arange(len(lab)) - np.repeat(starts, sizes)
    # Clusters ordered by (size, id): np.unique sorted them by id already.
    cluster_rank = np.empty(len(uniq), dtype=np.int64)
    cluster_rank[np.lexsort((uniq, sizes))] = np.arange(len(uniq))
    order = np.lexsort((cluster_rank[inverse], depth))
    return items_a[perm][order[: max(0, budget)]]
