"""Active-learning samplers with one interface: a pool in, the indices to annotate out.

``select(budget, probs=..., embeddings=..., labeled=..., seed=...)`` returns ``budget`` distinct
positions into the pool (fewer when the pool is smaller), best first. ``probs`` are the current
model's class probabilities on the pool (N x C), ``embeddings`` its features (N x d), ``labeled``
the features of already labelled images (CoreSet's starting centres). Each sampler says which
inputs it needs; results depend only on the inputs and the seed.

* random, entropy, margin (top-1 minus top-2), least confidence;
* CoreSet: k-center greedy (Sener & Savarese 2018): start from the labelled set's nearest-centre
  distances (faiss), then repeatedly take the point farthest from every centre (torch, GPU when
  available);
* ClusterMargin (Citovsky et al. 2021): cluster the pool **once** with average-linkage HAC, then
  each round take the ``margin_factor x budget`` lowest-margin candidates and fill the batch
  round-robin over their clusters, smallest clusters first. Exact HAC needs the full distance
  matrix (O(n^2) memory: about 60K points is the limit); :class:`HACClustering` runs exact HAC up
  to ``exact_limit`` points and beyond it HAC over faiss k-means centroids (each point takes its
  centroid's cluster), which handles millions of points in minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import torch

__all__ = [
    "ClusterMarginSampler",
    "CoreSetSampler",
    "EntropySampler",
    "HACClustering",
    "LeastConfidenceSampler",
    "MarginSampler",
    "RandomSampler",
    "Sampler",
    "make_sampler",
    "margins",
]

Array = npt.NDArray[Any]


class Sampler(Protocol):
    name: str

    def select(
        self,
        budget: int,
        *,
        probs: Array | None = None,
        embeddings: Array | None = None,
        labeled: Array | None = None,
        seed: int = 0,
    ) -> npt.NDArray[np.int64]: ...


def _need(value: Array | None, what: str, sampler: str) -> Array:
    if value is None:
        raise ValueError(f"the {sampler} sampler needs {what}")
    return np.asarray(value)


def _lowest(scores: Array, budget: int, seed: int) -> npt.NDArray[np.int64]:
    """Positions of the ``budget`` lowest scores, lowest first (ties broken by a seeded shuffle)."""
    order = np.random.default_rng(seed).permutation(len(scores))
    shuffled = scores[order]
    k = min(budget, len(scores))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(shuffled, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    part = part[np.argsort(shuffled[part], kind="stable")]
    return order[part].astype(np.int64)


def margins(probs: Array) -> npt.NDArray[np.float64]:
    """Top-1 minus top-2 probability per row."""
    p = np.asarray(probs, dtype=np.float64)
    if p.shape[1] < 2:
        return np.ones(len(p))
    top2 = np.partition(p, p.shape[1] - 2, axis=1)[:, -2:]
    return np.asarray(top2[:, 1] - top2[:, 0])


@dataclass
class RandomSampler:
    name: str = "random"

    def select(
        self,
        budget: int,
        *,
        probs: Array | None = None,
        embeddings: Array | None = None,
        labeled: Array | None = None,
        seed: int = 0,
    ) -> npt.NDArray[np.int64]:
        n = len(probs) if probs is not None else len(_need(embeddings, "probs or embeddings", self.name))
        return np.random.default_rng(seed).permutation(n)[: min(budget, n)].astype(np.int64)


@dataclass
class _LowestScore:
    """Samplers that rank the pool by a score of ``probs`` and take the lowest."""

    name: str = ""

    def score(self, probs: Array) -> Array:
        raise NotImplementedError

    def select(
        self,
        budget: int,
        *,
        probs: Array | None = None,
        embeddings: Array | None = None,
        labeled: Array | None = None,
        seed: int = 0,
    ) -> npt.NDArray[np.int64]:
        return _lowest(self.score(_need(probs, "probs", self.name)), budget, seed)


@dataclass
class EntropySampler(_LowestScore):
    name: str = "entropy"

    def score(self, probs: Array) -> Array:
        p = np.clip(probs.astype(np.float64), 1e-12, 1)
        return np.asarray((p * np.log(p)).sum(axis=1))  # lowest -H first


@dataclass
class MarginSampler(_LowestScore):
    name: str = "margin"

    def score(self, probs: Array) -> Array:
        return margins(probs)


@dataclass
class LeastConfidenceSampler(_LowestScore):
    name: str = "least-confidence"

    def score(self, probs: Array) -> Array:
        return np.asarray(probs.max(axis=1))


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass
class CoreSetSampler:
    name: str = "coreset"
    device: str | None = None

    def select(
        self,
        budget: int,
        *,
        probs: Array | None = None,
        embeddings: Array | None = None,
        labeled: Array | None = None,
        seed: int = 0,
    ) -> npt.NDArray[np.int64]:
        import faiss

        x = np.ascontiguousarray(_need(embeddings, "embeddings", self.name), dtype=np.float32)
        n = len(x)
        if labeled is not None and len(labeled):
            index = faiss.IndexFlatL2(x.shape[1])
            index.add(np.ascontiguousarray(labeled, dtype=np.float32))
            dist, _ = index.search(x, 1)
            start = torch.from_numpy(dist[:, 0].astype(np.float32))
        else:  # no centre yet: a seeded random first point
            start = torch.full((n,), float("inf"))
        dev = torch.device(self.device) if self.device else _device()
        pts, best = torch.from_numpy(x).to(dev), start.to(dev)
        chosen: list[int] = []
        if not torch.isfinite(best).any() and n:
            first = int(np.random.default_rng(seed).integers(n))
            chosen.append(first)
            best = ((pts - pts[first]) ** 2).sum(dim=1)
        while len(chosen) < min(budget, n):
            i = int(torch.argmax(best))
            chosen.append(i)
            best = torch.minimum(best, ((pts - pts[i]) ** 2).sum(dim=1))
            best[i] = -1.0
        return np.asarray(chosen, dtype=np.int64)


@dataclass
class HACClustering:
    """Average-linkage HAC that scales: exact up to ``exact_limit`` points, else over ``centroids``
    faiss k-means centroids. ``fit`` returns a cluster id per point."""

    clusters: int
    exact_limit: int = 20_000
    centroids: int = 8192
    kmeans_iters: int = 20
    points_per_centroid: int = 64  # k-means trains on a sample of this many points per centroid
    seed: int = 0
    labels_: Array | None = field(default=None, repr=False)

    def fit(self, embeddings: Array) -> npt.NDArray[np.int64]:
        from sklearn.cluster import AgglomerativeClustering

        x = np.ascontiguousarray(embeddings, dtype=np.float32)
        n = len(x)
        k = min(self.clusters, n)
        if n <= self.exact_limit:
            labels = AgglomerativeClustering(n_clusters=k, linkage="average").fit_predict(x)
        else:
            import faiss

            m = max(min(self.centroids, n // 4), k)
            km = faiss.Kmeans(
                x.shape[1],
                m,
                niter=self.kmeans_iters,
                seed=self.seed,
                gpu=torch.cuda.is_available(),
                max_points_per_centroid=self.points_per_centroid,
            )
            km.train(x)
            _, assign = km.index.search(x, 1)
            top = AgglomerativeClustering(n_clusters=k, linkage="average").fit_predict(km.centroids)
            labels = top[assign[:, 0]]
        self.labels_ = np.asarray(labels, dtype=np.int64)
        return self.labels_


@dataclass
class ClusterMarginSampler:
    """ClusterMargin over a clustering computed once (:meth:`fit` on the whole pool's embeddings);
    ``select`` then takes ``probs`` (and ``pool`` positions when the candidates are a subset)."""

    clusters: int = 1000
    margin_factor: float = 10.0
    exact_limit: int = 20_000
    centroids: int = 8192
    name: str = "cluster-margin"
    labels_: Array | None = field(default=None, repr=False)

    def fit(self, embeddings: Array, seed: int = 0) -> ClusterMarginSampler:
        hac = HACClustering(self.clusters, self.exact_limit, self.centroids, seed=seed)
        self.labels_ = hac.fit(embeddings)
        return self

    def select(
        self,
        budget: int,
        *,
        probs: Array | None = None,
        embeddings: Array | None = None,
        labeled: Array | None = None,
        seed: int = 0,
        pool: Array | None = None,
    ) -> npt.NDArray[np.int64]:
        p = _need(probs, "probs", self.name)
        if self.labels_ is None:
            self.fit(_need(embeddings, "embeddings (or call fit first)", self.name), seed)
        assert self.labels_ is not None
        clusters = self.labels_ if pool is None else self.labels_[np.asarray(pool)]
        if len(clusters) != len(p):
            raise ValueError(f"{len(p)} probability rows for {len(clusters)} clustered points")
        candidates = _lowest(margins(p), int(np.ceil(self.margin_factor * budget)), seed)
        rng = np.random.default_rng(seed)
        groups: dict[int, list[int]] = {}
        for i in rng.permutation(candidates).tolist():
            groups.setdefault(int(clusters[i]), []).append(i)
        order = sorted(groups, key=lambda c: (len(groups[c]), c))  # smallest clusters first
        chosen: list[int] = []
        depth = 0
        while len(chosen) < min(budget, len(candidates)):
            for c in order:
                if depth < len(groups[c]):
                    chosen.append(groups[c][depth])
                    if len(chosen) == budget:
                        break
            depth += 1
        return np.asarray(chosen, dtype=np.int64)


def make_sampler(name: str, **kwargs: Any) -> Sampler:
    """A sampler by name: random, entropy, margin, least-confidence, coreset, cluster-margin."""
    kinds: dict[str, Any] = {
        "random": RandomSampler,
        "entropy": EntropySampler,
        "margin": MarginSampler,
        "least-confidence": LeastConfidenceSampler,
        "coreset": CoreSetSampler,
        "cluster-margin": ClusterMarginSampler,
    }
    if name not in kinds:
        raise ValueError(f"unknown sampler {name!r}; choose from {', '.join(kinds)}")
    sampler: Sampler = kinds[name](**kwargs)
    return sampler
