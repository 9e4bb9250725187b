"""An inner-product faiss index that grows online: exact (flat) while small, then IVF or HNSW.

Vectors are expected unit-length, so inner product is cosine. Below ``exact_until`` vectors the index
is an exhaustive ``IndexFlatIP`` (exact); when it passes that size the approximate index is built from
the vectors held so far (IVF: k-means on them, fixed seed, about 39 vectors per list up to ``nlist``
lists) and later vectors are added to it. An IVF index is rebuilt with more lists each time it grows
eightfold, until it has ``nlist``, so lists stay short while the set grows from thousands to millions.
Positions are insertion order, as faiss numbers them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]

KINDS = ("ivf", "hnsw", "flat")


class OnlineIndex:
    """Cosine kNN over a growing set of unit vectors.

    Args:
        dim: Vector size.
        kind: ``"ivf"`` (IVF-Flat), ``"hnsw"`` (HNSW-Flat) or ``"flat"`` (always exact).
        exact_until: Exact search while fewer vectors than this are held.
        nlist: Most IVF lists.
        nprobe: IVF lists searched per query.
        hnsw_m: HNSW links per node.
        ef_search: HNSW search depth.
    """

    def __init__(
        self,
        dim: int,
        kind: str = "ivf",
        *,
        exact_until: int = 10_000,
        nlist: int = 4096,
        nprobe: int = 8,
        hnsw_m: int = 32,
        ef_search: int = 64,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"index kind must be one of {', '.join(KINDS)}, not {kind!r}")
        self.dim, self.kind = dim, kind
        self.exact_until, self.nlist, self.nprobe = exact_until, nlist, nprobe
        self.hnsw_m, self.ef_search = hnsw_m, ef_search
        self.index: Any = faiss.IndexFlatIP(dim)
        self.built_at = 0  # vectors held when the approximate index was last built

    @property
    def ntotal(self) -> int:
        """Vectors held."""
        return int(self.index.ntotal)

    @property
    def approximate(self) -> bool:
        """Whether searches are approximate now."""
        return not isinstance(self.index, faiss.IndexFlat)

    def add(self, x: Array) -> None:
        """Add unit vectors (rows), switching to the approximate index when it is due."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if not len(x):
            return
        self.index.add(x)
        if self.kind == "flat":
            return
        if (
            not self.approximate
            and self.ntotal >= self.exact_until
            or (
                self.kind == "ivf"
                and self.approximate
                and self.ntotal >= 8 * self.built_at
                and self._lists(self.ntotal) > self.index.nlist
            )
        ):
            self._build()

    def _lists(self, n: int) -> int:
        lists = 16
        while lists * 2 * 39 <= n and lists * 2 <= self.nlist:
            lists *= 2
        return lists

    def _build(self) -> None:
        held = self.index.reconstruct_n(0, self.ntotal)
        self.built_at = self.ntotal
        if self.kind == "ivf":
            # An HNSW coarse quantizer: assigning a query to its lists costs a few hundred distances
            # instead of nlist; the centroids themselves come from exact k-means.
            quantizer = faiss.IndexHNSWFlat(self.dim, 32, faiss.METRIC_INNER_PRODUCT)
            lists = self._lists(len(held))
            index: Any = faiss.IndexIVFFlat(quantizer, self.dim, lists, faiss.METRIC_INNER_PRODUCT)
            index.cp.seed = 1234
            index.cp.niter = 10
            index.cp.max_points_per_centroid = 64
            index.clustering_index = faiss.IndexFlatIP(self.dim)
            index.train(held)
            index.nprobe = self.nprobe
        else:
            index = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efSearch = self.ef_search
        index.add(held)
        self.index = index

    def search(self, x: Array, k: int) -> tuple[Array, Array]:
        """``(similarities, positions)``, each (N x k), best first; ``-1`` / ``-inf`` where fewer are held."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if not self.ntotal or not len(x):
            return np.full((len(x), k), -np.inf, np.float32), np.full((len(x), k), -1, np.int64)
        sims, ids = self.index.search(x, k)
        sims = np.where(ids < 0, -np.inf, sims).astype(np.float32)
        return sims, ids

    def save(self, path: Path) -> None:
        """Write the index to ``path`` (the caller makes it atomic)."""
        faiss.write_index(self.index, str(path))

    def load(self, path: Path) -> None:
        """Replace the index by the one saved at ``path``."""
        index = faiss.read_index(str(path))
        if isinstance(index, faiss.IndexIVF):
            index.nprobe = self.nprobe
        elif isinstance(index, faiss.IndexHNSW):
            index.hnsw.efSearch = self.ef_search
        self.index = index
