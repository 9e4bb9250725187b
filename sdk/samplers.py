"""Active-learning samplers with one interface: a pool in, the indices to annotate out.

``select(budget, probs=..., embeddings=..., labeled=..., clusters=..., seed=...)`` returns
``budget`` distinct positions into the pool (fewer when the pool is smaller), best first. ``probs``
are the current model's class probabilities on the pool (N x C), ``embeddings`` its features
(N x d), ``labeled`` the features of already labelled images (CoreSet's starting centres),
``clusters`` a cluster id per pool image (ClusterMargin's clustering, computed once by
``cluster``). Each sampler declares the inputs it needs in ``needs`` (a subset of :data:`INPUTS`),
so a caller such as :class:`~bamboo.sdk.loop.ActiveLoop` computes and passes only those; results
depend only on the inputs and the seed.

Samplers are registered by name (``@register_sampler("name")``, as the dataset loaders):
:func:`list_samplers` names them and :func:`make_sampler` builds one.

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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypedDict, TypeVar, Unpack

import numpy as np
import numpy.typing as npt
import torch

from bamboo.sdk._clusters import round_robin

__all__ = [
    "INPUTS",
    "ClusterMarginSampler",
    "ClusteringSampler",
    "CoreSetSampler",
    "EntropySampler",
    "HACClustering",
    "Inputs",
    "LeastConfidenceSampler",
    "MarginSampler",
    "RandomSampler",
    "Sampler",
    "list_samplers",
    "make_sampler",
    "margins",
    "register_sampler",
]

Array = npt.NDArray[Any]

#: The inputs a sampler may declare in ``needs``: the keyword arguments of ``select``.
INPUTS = frozenset({"probs", "embeddings", "labeled", "clusters"})


class Inputs(TypedDict, total=False):
    """The keyword arguments of every sampler's ``select``, declared once.

    Attributes:
        probs: Class probabilities of the current model on the pool (N x C).
        embeddings: Features of the pool (N x d).
        labeled: Features of the already labelled images.
        clusters: A cluster id per pool image.
        seed: Seeds every random choice (0 when left out).
    """

    probs: Array | None
    embeddings: Array | None
    labeled: Array | None
    clusters: Array | None
    seed: int


class Sampler(Protocol):
    """What every sampler offers: a ``name``, the inputs it ``needs``, and ``select``."""

    name: str
    needs: ClassVar[frozenset[str]]

    def select(self, budget: int, **inputs: Unpack[Inputs]) -> npt.NDArray[np.int64]:
        """The pool positions to annotate next, best first.

        Args:
            budget: How many to pick (fewer when the pool is smaller).
            **inputs: The keyword inputs of :class:`Inputs`: ``probs``, ``embeddings``, ``labeled``,
                ``clusters`` and ``seed``.

        Returns:
            Distinct positions into the pool (int64).

        Raises:
            ValueError: An input the sampler needs is missing.
        """
        ...


class ClusteringSampler(Sampler, Protocol):
    """A sampler that needs ``clusters``: it also says how to cluster the whole pool, once."""

    def cluster(self, embeddings: Array, *, seed: int = 0) -> npt.NDArray[np.int64]:
        """A cluster id per row of ``embeddings``."""
        ...


_REGISTRY: dict[str, Callable[..., Sampler]] = {}
_S = TypeVar("_S")


def register_sampler(name: str) -> Callable[[type[_S]], type[_S]]:
    """A class decorator that makes the sampler available to :func:`make_sampler` as ``name``.

    Raises:
        ValueError: ``name`` is registered already.
    """

    def add(cls: type[_S]) -> type[_S]:
        if name in _REGISTRY:
            raise ValueError(f"sampler {name!r} is registered twice")
        _REGISTRY[name] = cls  # type: ignore[assignment]
        return cls

    return add


def list_samplers() -> list[str]:
    """The registered samplers' names, in registration order.

    Example:
        >>> list_samplers()[:3]
        ['random', 'entropy', 'margin']
    """
    return list(_REGISTRY)


def _need(value: Array | None, what: str, sampler: str) -> Array:
    if value is None:
        raise ValueError(f"the {sampler} sampler needs {what}")
    return np.asarray(value)


def _checked(inputs: Inputs) -> Inputs:
    """``inputs`` itself; an unknown keyword is a TypeError, as for a declared signature."""
    unknown = inputs.keys() - Inputs.__optional_keys__
    if unknown:
        raise TypeError(f"select() got unexpected keyword arguments: {', '.join(sorted(unknown))}")
    return inputs


class _PoolSampler:
    """Base of the built-in samplers: ``select`` checks the keyword inputs and hands them to ``pick``."""

    name: str

    def select(self, budget: int, **inputs: Unpack[Inputs]) -> npt.NDArray[np.int64]:
        """See :meth:`Sampler.select`."""
        return self.pick(budget, _checked(inputs), inputs.get("seed", 0))

    def pick(self, budget: int, inputs: Inputs, seed: int) -> npt.NDArray[np.int64]:
        """The positions :meth:`select` returns, from the checked inputs."""
        raise NotImplementedError


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
    """Top-1 minus top-2 probability per row.

    Example:
        >>> margins(np.array([[0.7, 0.2, 0.1]])).round(2).tolist()
        [0.5]
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.shape[1] < 2:
        return np.ones(len(p))
    top2 = np.partition(p, p.shape[1] - 2, axis=1)[:, -2:]
    return np.asarray(top2[:, 1] - top2[:, 0])


@register_sampler("random")
@dataclass
class RandomSampler(_PoolSampler):
    """Uniformly random positions (the pool size is read from ``probs``, else ``embeddings``).

    Example:
        >>> RandomSampler().select(2, probs=np.ones((5, 2)), seed=0).shape
        (2,)
    """

    name: str = "random"
    needs: ClassVar[frozenset[str]] = frozenset({"probs"})

    def pick(self, budget: int, inputs: Inputs, seed: int) -> npt.NDArray[np.int64]:
        """See :meth:`Sampler.select`."""
        probs = inputs.get("probs")
        n = (
            len(probs)
            if probs is not None
            else len(_need(inputs.get("embeddings"), "probs or embeddings", self.name))
        )
        return np.random.default_rng(seed).permutation(n)[: min(budget, n)].astype(np.int64)


@dataclass
class _LowestScore(_PoolSampler):
    """Samplers that rank the pool by a score of ``probs`` and take the lowest."""

    name: str = ""
    needs: ClassVar[frozenset[str]] = frozenset({"probs"})

    def score(self, probs: Array) -> Array:
        """Per pool row, the score whose lowest values are picked first."""
        raise NotImplementedError

    def pick(self, budget: int, inputs: Inputs, seed: int) -> npt.NDArray[np.int64]:
        """See :meth:`Sampler.select` (only ``probs`` is used)."""
        return _lowest(self.score(_need(inputs.get("probs"), "probs", self.name)), budget, seed)


@register_sampler("entropy")
@dataclass
class EntropySampler(_LowestScore):
    """The most uncertain predictions first: highest entropy of ``probs``.

    Example:
        >>> EntropySampler().select(1, probs=np.array([[0.9, 0.1], [0.5, 0.5]])).tolist()
        [1]
    """

    name: str = "entropy"

    def score(self, probs: Array) -> Array:
        """Minus the entropy of each row."""
        p = np.clip(probs.astype(np.float64), 1e-12, 1)
        return np.asarray((p * np.log(p)).sum(axis=1))  # lowest -H first


@register_sampler("margin")
@dataclass
class MarginSampler(_LowestScore):
    """The smallest top-1 minus top-2 probability first.

    Example:
        >>> MarginSampler().select(1, probs=np.array([[0.9, 0.1], [0.6, 0.4]])).tolist()
        [1]
    """

    name: str = "margin"

    def score(self, probs: Array) -> Array:
        """The :func:`margins` of the rows."""
        return margins(probs)


@register_sampler("least-confidence")
@dataclass
class LeastConfidenceSampler(_LowestScore):
    """The lowest top-1 probability first.

    Example:
        >>> LeastConfidenceSampler().select(1, probs=np.array([[0.9, 0.1], [0.7, 0.3]])).tolist()
        [1]
    """

    name: str = "least-confidence"

    def score(self, probs: Array) -> Array:
        """The top-1 probability of each row."""
        return np.asarray(probs.max(axis=1))


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@register_sampler("coreset")
@dataclass
class CoreSetSampler(_PoolSampler):
    """k-center greedy over ``embeddings``, starting from the ``labeled`` images as centres.

    Args:
        name: The sampler's name in reports.
        device: Where the distance updates run (default: CUDA when available).
    """

    name: str = "coreset"
    device: str | None = None
    needs: ClassVar[frozenset[str]] = frozenset({"embeddings", "labeled"})

    def pick(self, budget: int, inputs: Inputs, seed: int) -> npt.NDArray[np.int64]:
        """See :meth:`Sampler.select` (without ``labeled``, a seeded random first centre)."""
        import faiss

        x = np.ascontiguousarray(_need(inputs.get("embeddings"), "embeddings", self.name), dtype=np.float32)
        n = len(x)
        centres = _labeled_features(inputs.get("labeled"), x, self.name)
        if len(centres):
            index = faiss.IndexFlatL2(x.shape[1])
            index.add(centres)
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


def _labeled_features(
    labeled: Array | None, x: npt.NDArray[np.float32], name: str
) -> npt.NDArray[np.float32]:
    """The labelled images' features: ``labeled`` as (M x d) features, or a boolean mask over the
    pool's rows (N,) whose rows are taken from ``x``.

    Raises:
        ValueError: anything else, saying which shape was expected.
    """
    if labeled is None:
        return np.zeros((0, x.shape[1]), dtype=np.float32)
    arr = labeled.detach().cpu().numpy() if isinstance(labeled, torch.Tensor) else np.asarray(labeled)
    if arr.ndim == 1 and arr.dtype == bool:
        if len(arr) != len(x):
            raise ValueError(
                f"{name}: a labeled mask needs one entry per pool image ({len(x)}), got {len(arr)}"
            )
        return np.ascontiguousarray(x[arr])
    if arr.ndim == 2 and arr.shape[1] == x.shape[1]:
        return np.ascontiguousarray(arr, dtype=np.float32)
    if arr.size == 0:
        return np.zeros((0, x.shape[1]), dtype=np.float32)
    raise ValueError(
        f"{name}: labeled must be the labelled images' features (M x {x.shape[1]}) or a boolean mask "
        f"over the {len(x)} pool images, got shape {arr.shape} of {arr.dtype}"
    )


@dataclass
class HACClustering:
    """Average-linkage HAC that scales: exact up to ``exact_limit`` points, else over faiss k-means
    centroids (each point takes its centroid's cluster).

    Args:
        clusters: How many clusters.
        exact_limit: Largest number of points clustered by exact HAC.
        centroids: k-means centroids beyond ``exact_limit`` (at most a quarter of the points).
        kmeans_iters: k-means iterations.
        points_per_centroid: k-means trains on a sample of this many points per centroid.
        seed: Seeds k-means.
        labels_: The last :meth:`fit`'s cluster ids.
    """

    clusters: int
    exact_limit: int = 20_000
    centroids: int = 8192
    kmeans_iters: int = 20
    points_per_centroid: int = 64  # k-means trains on a sample of this many points per centroid
    seed: int = 0
    labels_: Array | None = field(default=None, repr=False)

    def fit(self, embeddings: Array) -> npt.NDArray[np.int64]:
        """Cluster the rows of ``embeddings``; returns (and keeps in ``labels_``) a cluster id per row."""
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


@register_sampler("cluster-margin")
@dataclass
class ClusterMarginSampler:
    """ClusterMargin over a clustering of the whole pool computed once.

    Either pass ``clusters`` (a cluster id per pool image, from :meth:`cluster`) to ``select``, as
    :class:`~bamboo.sdk.loop.ActiveLoop` does, or call :meth:`fit` once and let ``select`` use the
    kept ``labels_`` (with ``pool`` positions when the candidates are a subset).

    Args:
        clusters: How many HAC clusters.
        margin_factor: Candidates per round, as a multiple of the budget.
        exact_limit: Largest pool clustered by exact HAC (see :class:`HACClustering`).
        centroids: k-means centroids beyond ``exact_limit``.
        name: The sampler's name in reports.
    """

    clusters: int = 1000
    margin_factor: float = 10.0
    exact_limit: int = 20_000
    centroids: int = 8192
    name: str = "cluster-margin"
    labels_: Array | None = field(default=None, repr=False)
    needs: ClassVar[frozenset[str]] = frozenset({"probs", "clusters"})

    def cluster(self, embeddings: Array, *, seed: int = 0) -> npt.NDArray[np.int64]:
        """A cluster id per row of ``embeddings`` (average-linkage HAC), nothing kept."""
        return HACClustering(self.clusters, self.exact_limit, self.centroids, seed=seed).fit(embeddings)

    def fit(self, embeddings: Array, seed: int = 0) -> ClusterMarginSampler:
        """Cluster the whole pool and keep the result in ``labels_`` for later ``select`` calls."""
        self.labels_ = self.cluster(embeddings, seed=seed)
        return self

    def select(
        self, budget: int, *, pool: Array | None = None, **inputs: Unpack[Inputs]
    ) -> npt.NDArray[np.int64]:
        """See :meth:`Sampler.select`; ``pool`` picks the rows of ``labels_`` that ``probs`` covers."""
        seed = _checked(inputs).get("seed", 0)
        p = _need(inputs.get("probs"), "probs", self.name)
        clusters = inputs.get("clusters")
        if clusters is None:
            if self.labels_ is None:
                self.fit(_need(inputs.get("embeddings"), "embeddings (or call fit first)", self.name), seed)
            assert self.labels_ is not None
            clusters = self.labels_ if pool is None else self.labels_[np.asarray(pool)]
        clusters = np.asarray(clusters)
        if len(clusters) != len(p):
            raise ValueError(f"{len(p)} probability rows for {len(clusters)} clustered points")
        candidates = _lowest(margins(p), int(np.ceil(self.margin_factor * budget)), seed)
        return round_robin(candidates, clusters[candidates], budget, np.random.default_rng(seed))


def make_sampler(name: str, **kwargs: Any) -> Sampler:
    """A registered sampler by name (see :func:`list_samplers`), built with ``kwargs``.

    Raises:
        ValueError: No sampler of that name.

    Example:
        >>> make_sampler("margin").needs
        frozenset({'probs'})
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown sampler {name!r}; choose from {', '.join(_REGISTRY)}")
    return _REGISTRY[name](**kwargs)
