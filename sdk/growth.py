"""Growing a dataset from a stream (InfoGrowth, Qin et al. 2024): clean each arriving sample, measure
its information gain over the dataset so far, sample, and add.

Per batch of embeddings (unit vectors in any space; rows are normalised here):

1. **Quality** (noise detection and correction). A label score per class: the probabilities of a
   model (``probs``, the paper's P(c|d)), the cosine to fixed label vectors in a shared image-text
   space (``label_vectors``, e.g. CLIP text embeddings of the class names), or, when only labels are
   given, a classifier of the stream itself from running class statistics of every sample seen with
   its given label (:mod:`bamboo.sdk._clean`): out-of-sample LDA probabilities (``cleaner="lda"``, the
   default: each half of a step is scored by the statistics before the step plus its other half) or
   the cosine to the class prototypes (``cleaner="prototype"``); ``cleaner="lda+knn"`` averages the LDA
   probabilities with the label vote of the ``label_neighbours`` nearest earlier samples (a second
   index, of every labelled sample seen: twice the search work). A sample is noise, with
   ``noise_rule="confident"`` (the default; confident learning, Northcutt et al. 2021), when the
   best-scoring class among those at or above their thresholds (the mean own-label score of the
   samples given that class so far) is another than its own: per class, so it follows
   class-dependent noise, and in no score units, so it fits probabilities and cosines alike; with
   ``noise_rule="margin"`` when another class outscores its own by more than ``noise_margin``; with
   ``noise_rule="mixture"`` (DivideMix's rule, Li et al. 2020) when a two-component Gaussian mixture
   over the recent margins of the own label over the best other class (in log-odds for
   probabilities, as they are for cosines) puts it in the lower component with posterior over one
   half (measured: good on symmetric noise, but on class-dependent noise it flags hard, clean
   samples by the thousand); and with any rule when its own score is under ``min_alignment``. With
   ``correction="filter"`` (the default) noise is dropped; with ``correction="relabel"`` it takes the
   best class when that leads by at least ``relabel_margin``, else it is dropped (relabelling
   measured worse on CIFAR-10: most new labels were wrong). Captioned data (``captions``) is scored
   by the cosine of sample and caption, and with ``correction="relabel"`` a noisy sample whose
   ``recaptions`` row aligns is kept with the new caption (the paper's recaptioner).
2. **Gain**: the mean cosine distance to the sample's ``k`` nearest members (arithmetic, geometric or
   harmonic mean; a missing neighbour counts as distance 1), searched in a faiss index that grows
   online (exact while small, then IVF or HNSW; :mod:`bamboo.sdk._ann`). Samples are ranked by the
   gain times their label score to the power ``quality_weight`` (0: the gain alone), so that a far
   but doubtful sample does not outrank a far, well-labelled one. A sample within
   ``duplicate_similarity`` of a member or of a sample accepted earlier in the same step is redundant.
3. **Sampling**: *static* keeps the highest-ranked clean samples of each step of ``step`` samples, as
   many as keep the running kept share at ``keep_fraction`` of the stream (a per-step gain quantile);
   only kept samples join the index, so later gains are over the grown dataset. *Dynamic* (the
   paper's two-phase variant) keeps every clean, non-redundant sample with its gain and draws the
   training subset per epoch with :meth:`DatasetGrowth.epoch_sample`.

Decisions depend only on the state and the batches, so a run resumed from a saved state
(:meth:`DatasetGrowth.save`, :meth:`DatasetGrowth.load`) with the same batches decides the same.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bamboo.atomic import atomic_path
from bamboo.errors import ConfigurationError
from bamboo.sdk._ann import KINDS, OnlineIndex
from bamboo.sdk._clean import ClassStats, LabelNeighbours, NoiseMixture

__all__ = ["Decision", "DatasetGrowth", "GrowthConfig", "GrowthResult", "neighbourhood_gain"]

Array = npt.NDArray[Any]
STATE_VERSION = 3  # 3: the mixture state; the confident rule counts as cleanlab does
MEANS = ("arithmetic", "geometric", "harmonic")
CLEANERS = ("lda", "lda+knn", "prototype")
NOISE_RULES = ("margin", "confident", "mixture")


class Decision(IntEnum):
    """What happened to a sample: kept (as labelled, or relabelled / recaptioned) or why it was dropped."""

    KEPT = 0
    RELABELLED = 1
    NOISE = 2
    REDUNDANT = 3
    LOW_GAIN = 4


@dataclass(frozen=True)
class GrowthConfig:
    """How a :class:`DatasetGrowth` cleans, scores and samples.

    Attributes:
        dim: Embedding size.
        keep_fraction: Static sampling: the share of the stream kept. Dynamic: the share drawn per epoch.
        sampling: ``"static"`` or ``"dynamic"``.
        k: Neighbours in the gain (the paper's k, 4 there).
        mean: How the neighbour distances are averaged: arithmetic, geometric or harmonic.
        duplicate_similarity: Cosine at or above which a sample is redundant with a member.
        cleaner: Label scores when only labels are given: ``"lda"`` (out-of-sample probabilities of
            a shared-covariance Gaussian classifier of the stream) or ``"prototype"`` (cosine to the
            running class means) or ``"lda+knn"`` (LDA averaged with the label vote of the nearest
            earlier samples, out of sample too; keeps an index of every labelled sample seen).
        label_neighbours: Neighbours in the label vote of ``cleaner="lda+knn"``.
        correction: ``"filter"`` (noise is dropped), ``"relabel"`` (confident noise takes the best
            class; needed for ``recaptions``) or ``"none"`` (no cleaning).
        noise_rule: ``"confident"`` (noise when the best class at or above its per-class threshold
            is another), ``"margin"`` (when another class beats the sample's own by more than
            ``noise_margin``) or ``"mixture"`` (when a two-component mixture over the recent label
            margins puts the sample in its lower component).
        noise_margin: The margin of ``noise_rule="margin"``, in score units (0.3 was the value chosen
            on CIFAR-10's validation split for the LDA cleaner's probabilities).
        relabel_margin: Relabel (instead of drop) when the best class leads by at least this.
        min_alignment: Noise when the own-label or caption score is below this (``None``: no floor).
        quality_weight: Rank by ``gain * max(score of the kept label, 0) ** quality_weight``.
        step: Samples decided together; within a step only duplicates are checked between samples.
        index: ``"ivf"``, ``"hnsw"`` or ``"flat"`` (exact throughout; the baseline).
        exact_until: Members below which the index is exact.
        nlist: Most IVF lists (fewer while the dataset is small; see :mod:`bamboo.sdk._ann`).
        nprobe: IVF lists searched.
        hnsw_m: HNSW links per node.
        ef_search: HNSW search depth.
        seed: Seed of the dynamic per-epoch draws.
    """

    dim: int
    keep_fraction: float = 0.5
    sampling: str = "static"
    k: int = 4
    mean: str = "arithmetic"
    duplicate_similarity: float = 0.95
    cleaner: str = "lda"
    label_neighbours: int = 10
    correction: str = "filter"
    noise_rule: str = "confident"
    noise_margin: float = 0.0
    relabel_margin: float = 0.1
    min_alignment: float | None = None
    quality_weight: float = 0.0
    step: int = 1024
    index: str = "ivf"
    exact_until: int = 5_000
    nlist: int = 4096
    nprobe: int = 8
    hnsw_m: int = 32
    ef_search: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        problems = []
        if self.dim < 1:
            problems.append("dim must be positive")
        if not 0 < self.keep_fraction <= 1:
            problems.append("keep_fraction must be in (0, 1]")
        if self.sampling not in ("static", "dynamic"):
            problems.append("sampling must be 'static' or 'dynamic'")
        if self.mean not in MEANS:
            problems.append(f"mean must be one of {', '.join(MEANS)}")
        if self.cleaner not in CLEANERS:
            problems.append(f"cleaner must be one of {', '.join(CLEANERS)}")
        if self.noise_rule not in NOISE_RULES:
            problems.append(f"noise_rule must be one of {', '.join(NOISE_RULES)}")
        if self.quality_weight < 0:
            problems.append("quality_weight must be non-negative")
        if self.correction not in ("relabel", "filter", "none"):
            problems.append("correction must be 'relabel', 'filter' or 'none'")
        if self.index not in KINDS:
            problems.append(f"index must be one of {', '.join(KINDS)}")
        if self.k < 1 or self.step < 1 or self.label_neighbours < 1:
            problems.append("k, step and label_neighbours must be positive")
        if problems:
            raise ConfigurationError("bad growth config: " + "; ".join(problems))


@dataclass
class GrowthResult:
    """Per-sample decisions of one :meth:`DatasetGrowth.add` call, in input order.

    Attributes:
        decision: A :class:`Decision` code per sample.
        gain: The sample's gain over the dataset when it arrived (NaN for noise).
        label: Its label after cleaning (the new class when relabelled; ``-1`` without labels).
        alignment: Its own-label (or caption) score (NaN without labels or captions).
        nearest: Cosine to its nearest member (``-inf`` when the dataset was empty; NaN for noise).
        ids: The samples' ids.
    """

    decision: Array
    gain: Array
    label: Array
    alignment: Array
    nearest: Array
    ids: Array

    @property
    def kept(self) -> Array:
        """Mask of the samples that joined the dataset (kept or relabelled)."""
        return np.isin(self.decision, (Decision.KEPT, Decision.RELABELLED))

    def counts(self) -> dict[str, int]:
        """Samples per decision, by name."""
        return {d.name.lower(): int((self.decision == d).sum()) for d in Decision}


def _unit(x: Array) -> Array:
    x = np.ascontiguousarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def neighbourhood_gain(similarities: Array, *, mean: str = "arithmetic") -> Array:
    """Gain from neighbour cosines: the mean of ``1 - cosine`` over each row (the paper's submodular
    neighbourhood gain). ``-inf`` entries (no such neighbour) count as distance 1.

    Args:
        similarities: (N x k) cosines to the nearest members.
        mean: ``"arithmetic"``, ``"geometric"`` or ``"harmonic"``.

    Returns:
        One gain per row, in ``[0, 2]``.

    Example:
        >>> neighbourhood_gain(np.array([[1.0, 0.5], [-np.inf, -np.inf]])).tolist()
        [0.25, 1.0]
    """
    d = np.where(np.isfinite(similarities), 1.0 - similarities, 1.0).clip(0.0, 2.0)
    if mean == "arithmetic":
        return np.asarray(d.mean(axis=1), dtype=np.float32)
    if mean == "geometric":
        return np.exp(np.log(d + 1e-6).mean(axis=1)).astype(np.float32)
    if mean == "harmonic":
        return (1.0 / (1.0 / (d + 1e-6)).mean(axis=1)).astype(np.float32)
    raise ValueError(f"mean must be one of {', '.join(MEANS)}")


@dataclass
class _Members:
    ids: list[Array] = field(default_factory=list)
    labels: list[Array] = field(default_factory=list)
    gains: list[Array] = field(default_factory=list)

    def extend(self, ids: Array, labels: Array, gains: Array) -> None:
        self.ids.append(ids)
        self.labels.append(labels.astype(np.int64))
        self.gains.append(gains.astype(np.float32))

    def packed(self) -> tuple[Array, Array, Array]:
        def cat(parts: list[Array], dtype: Any) -> Array:
            return np.concatenate(parts) if parts else np.zeros(0, dtype)

        ids, labels, gains = cat(self.ids, np.int64), cat(self.labels, np.int64), cat(self.gains, np.float32)
        self.ids, self.labels, self.gains = [ids], [labels], [gains]
        return ids, labels, gains


class DatasetGrowth:
    """A dataset grown from a stream: a faiss index of its members, their ids, labels and gains.

    Args:
        config: How to clean, score and sample.
        label_vectors: (C x dim) label embeddings in the samples' space (for example text embeddings
            of the class names); without them labels are scored against running class prototypes.

    Example:
        >>> g = DatasetGrowth(GrowthConfig(dim=2, keep_fraction=1.0, correction="none"))
        >>> g.add(np.array([[1.0, 0.0], [1.0, 0.001], [0.0, 1.0]])).counts()["redundant"]
        1
    """

    def __init__(self, config: GrowthConfig, label_vectors: Array | None = None) -> None:
        self.config = config
        self.label_vectors = None if label_vectors is None else _unit(label_vectors)
        if self.label_vectors is not None and self.label_vectors.shape[1] != config.dim:
            raise ConfigurationError(
                f"label vectors have {self.label_vectors.shape[1]} dimensions, the config {config.dim}"
            )
        c = config
        self.index = self._new_index()
        self.seen = 0
        self.kept = 0
        self.members = _Members()
        self.stats = ClassStats(c.dim)
        self.mixture = NoiseMixture()
        self.neighbours = (
            LabelNeighbours(self._new_index(), c.label_neighbours) if c.cleaner == "lda+knn" else None
        )

    def _new_index(self) -> OnlineIndex:
        c = self.config
        return OnlineIndex(
            c.dim,
            c.index,
            exact_until=c.exact_until,
            nlist=c.nlist,
            nprobe=c.nprobe,
            hnsw_m=c.hnsw_m,
            ef_search=c.ef_search,
        )

    # --- scoring -------------------------------------------------------------------------------

    def _label_scores(self, x: Array, labels: Array | None, probs: Array | None) -> Array | None:
        if probs is not None:
            return np.asarray(probs, dtype=np.float32)
        if self.label_vectors is not None:
            return np.asarray(x @ self.label_vectors.T)
        if labels is None:
            return None
        if self.config.cleaner in ("lda", "lda+knn"):
            scores = self.stats.lda_probs_crossfit(x, labels)  # adds the step to the statistics
            if self.neighbours is not None:
                votes = self.neighbours.probs_crossfit(x, labels, scores.shape[1])
                voted = votes.sum(axis=1, keepdims=True) > 0
                scores = np.where(voted, (scores + votes) / 2, scores)
        else:  # prototypes include the step itself, as they always did
            self.stats.add(x, labels)
            scores = self.stats.prototype_scores(x)
        return scores

    def _clean(
        self,
        x: Array,
        labels: Array | None,
        probs: Array | None,
        captions: Array | None,
        recaptions: Array | None,
    ) -> tuple[Array, Array, Array, Array]:
        """``(decision so far, labels after correction, alignment, quality)``: NOISE / RELABELLED / KEPT;
        the quality is the score of the label (or caption) kept, 1 when there is none."""
        c = self.config
        n = len(x)
        decision = np.full(n, Decision.KEPT, np.int8)
        out = labels.copy() if labels is not None else np.full(n, -1, np.int64)
        align = np.full(n, np.nan, np.float32)
        quality = np.ones(n, np.float32)
        if captions is not None:
            align = np.einsum("ij,ij->i", x, _unit(captions)).astype(np.float32)
            floor = 0.0 if c.min_alignment is None else c.min_alignment
            noisy = align < floor
            quality = align.copy()
            if recaptions is not None and c.correction == "relabel":
                realign = np.einsum("ij,ij->i", x, _unit(recaptions)).astype(np.float32)
                fixed = noisy & (realign >= floor)
                decision[fixed] = Decision.RELABELLED
                quality[fixed] = realign[fixed]
                noisy &= ~fixed
            if c.correction != "none":
                decision[noisy] = Decision.NOISE
            return decision, out, align, quality
        scores = self._label_scores(x, labels, probs)
        if scores is None or labels is None:
            return decision, out, align, quality
        rows = np.arange(n)
        own = scores[rows, labels]
        best = scores.argmax(axis=1)
        lead = scores[rows, best] - own
        align = own.astype(np.float32)
        quality = align.copy()
        if c.correction == "none":
            return decision, out, align, quality
        if c.noise_rule == "confident":
            # the confident joint's guess: the best-scoring class among those at or above their
            # thresholds, the given one included (as cleanlab counts it); noise when it is another
            above = scores >= self.stats.thresholds(scores, labels)[None, : scores.shape[1]]
            guess = np.where(above, scores, -np.inf).argmax(axis=1)
            noisy = above.any(axis=1) & (guess != labels)
            best = np.where(noisy, guess, best)
            lead = scores[rows, best] - own
        elif c.noise_rule == "mixture":
            others = scores.copy()
            others[rows, labels] = -np.inf
            if probs is not None or (self.label_vectors is None and c.cleaner != "prototype"):
                # probabilities: the margin in log-odds (for LDA, a difference of linear scores)
                margin = np.log(own + 1e-6) - np.log(others.max(axis=1) + 1e-6)
            else:  # cosines: already logits up to a temperature, which the mixture does not see
                margin = own - others.max(axis=1)
            noisy = self.mixture.noise_posterior(margin) > 0.5
        else:
            noisy = lead > c.noise_margin
        if c.min_alignment is not None:
            noisy |= own < c.min_alignment
        fix = (
            noisy & (best != labels) & (lead >= c.relabel_margin)
            if c.correction == "relabel"
            else noisy & False
        )
        if c.min_alignment is not None:
            fix &= scores[rows, best] >= c.min_alignment
        decision[noisy] = Decision.NOISE
        decision[fix] = Decision.RELABELLED
        out[fix] = best[fix]
        quality[fix] = scores[rows, best][fix]
        return decision, out, align, quality

    # --- the stream ----------------------------------------------------------------------------

    def add(
        self,
        embeddings: Array,
        *,
        labels: Array | None = None,
        ids: Array | None = None,
        probs: Array | None = None,
        captions: Array | None = None,
        recaptions: Array | None = None,
    ) -> GrowthResult:
        """Decide a batch of arriving samples and add the kept ones to the dataset.

        Args:
            embeddings: (N x dim) sample embeddings.
            labels: Their class indices (noisy labels welcome).
            ids: Their ids (stream positions when ``None``).
            probs: (N x C) a model's class probabilities, scored instead of label vectors/prototypes.
            captions: (N x dim) caption embeddings in the same space (captioned data, no labels).
            recaptions: (N x dim) replacement caption embeddings for noisy captioned samples (with
                ``correction="relabel"``).

        Returns:
            The decisions, gains and cleaned labels, in input order.

        Raises:
            ConfigurationError: Arrays of the wrong shape, or recaptions without relabelling.
        """
        x = _unit(np.asarray(embeddings, dtype=np.float32).reshape(len(embeddings), -1))
        n = len(x)
        if x.shape[1] != self.config.dim:
            raise ConfigurationError(
                f"embeddings have {x.shape[1]} dimensions, the dataset {self.config.dim}"
            )
        for name, arr in (("labels", labels), ("ids", ids), ("probs", probs), ("captions", captions)):
            if arr is not None and len(arr) != n:
                raise ConfigurationError(f"{name} has {len(arr)} rows, embeddings {n}")
        if recaptions is not None and self.config.correction != "relabel":
            raise ConfigurationError("recaptions are used only with correction='relabel'")
        lab = None if labels is None else np.asarray(labels, dtype=np.int64)
        if lab is not None and len(lab) and lab.min() < 0:
            raise ConfigurationError("labels must be non-negative class indices")
        sample_ids = np.arange(self.seen, self.seen + n) if ids is None else np.asarray(ids)
        parts = []
        for s in range(0, n, self.config.step):
            e = min(n, s + self.config.step)
            parts.append(
                self._step(
                    x[s:e],
                    None if lab is None else lab[s:e],
                    sample_ids[s:e],
                    None if probs is None else np.asarray(probs)[s:e],
                    None if captions is None else np.asarray(captions)[s:e],
                    None if recaptions is None else np.asarray(recaptions)[s:e],
                )
            )
        if not parts:
            empty = np.zeros(0, np.float32)
            return GrowthResult(np.zeros(0, np.int8), empty, np.zeros(0, np.int64), empty, empty, sample_ids)
        return GrowthResult(
            *(np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(parts[0]))
        )

    def _step(
        self,
        x: Array,
        labels: Array | None,
        ids: Array,
        probs: Array | None,
        captions: Array | None,
        recaptions: Array | None,
    ) -> GrowthResult:
        c = self.config
        n = len(x)
        decision, out_labels, align, quality = self._clean(x, labels, probs, captions, recaptions)
        gain = np.full(n, np.nan, np.float32)
        nearest = np.full(n, np.nan, np.float32)
        cand = np.flatnonzero(decision != Decision.NOISE)
        lists = None
        if len(cand):
            sims, _, cand_lists = self.index.search_lists(x[cand], c.k)
            gain[cand] = neighbourhood_gain(sims, mean=c.mean)
            nearest[cand] = sims[:, 0]
            if cand_lists is not None:
                lists = np.full(n, -1, np.int64)
                lists[cand] = cand_lists
        self.seen += n
        if c.sampling == "static":
            budget = max(0, int(np.floor(c.keep_fraction * self.seen + 1e-9)) - self.kept)
            rank: Array = gain[cand]
            if c.quality_weight:
                rank = rank * np.maximum(quality[cand], 0.0) ** c.quality_weight
            order = cand[np.argsort(-rank, kind="stable")]
        else:
            budget = n
            order = cand
        accepted = self._accept(x, order, nearest, budget, decision)
        if len(accepted):
            accepted = np.sort(accepted)
            self.index.add(x[accepted], None if lists is None else lists[accepted])
            self.members.extend(ids[accepted], out_labels[accepted], gain[accepted])
            self.kept += len(accepted)
        return GrowthResult(decision, gain, out_labels, align, nearest, ids)

    def _accept(self, x: Array, order: Array, nearest: Array, budget: int, decision: Array) -> Array:
        """Walk candidates in ``order``: a candidate within ``duplicate_similarity`` of a member, or of a
        non-redundant candidate before it in this step, is redundant; the first ``budget`` others are
        accepted and the rest have too little gain.

        Only a prefix of ``order`` long enough to fill the budget is compared pairwise (candidates
        past it are low gain whatever they duplicate), and only candidates with a close earlier
        neighbour are walked one by one; the rest is vectorised."""
        dup = self.config.duplicate_similarity
        redundant = nearest[order] >= dup
        size = min(len(order), int(budget * 1.5) + 64)
        while True:
            head = order[:size]
            sims = x[head] @ x[head].T
            rows, cols = np.nonzero(np.tril(sims >= dup, -1))  # (later, earlier) close pairs
            for later in np.unique(rows):  # ascending: earlier ones are settled first
                if (~redundant[cols[rows == later]]).any():
                    redundant[later] = True
            free = np.flatnonzero(~redundant[:size])
            if len(free) >= budget or size == len(order):
                break
            size = min(len(order), size * 2)
        tail = np.arange(size, len(order))
        accepted = order[free[:budget]]
        decision[order[np.flatnonzero(redundant[:size])]] = Decision.REDUNDANT
        decision[order[free[budget:]]] = Decision.LOW_GAIN
        decision[order[tail[~redundant[tail]]]] = Decision.LOW_GAIN
        decision[order[tail[redundant[tail]]]] = Decision.REDUNDANT
        return accepted

    # --- the dataset ---------------------------------------------------------------------------

    def dataset(self) -> tuple[Array, Array, Array]:
        """The members: ``(ids, labels after cleaning, gains at arrival)``, in arrival order."""
        return self.members.packed()

    def epoch_sample(self, epoch: int) -> Array:
        """Dynamic two-phase sampling: member positions drawn for one training epoch.

        Gains are normalised by their 99th percentile and clipped to 1. Odd epochs draw each member
        with probability proportional to its gain, even epochs proportional to ``max(1 - gain, 0.1)``
        (the low-gain members get their turn), both scaled so that about ``keep_fraction`` of the
        samples seen are drawn. Deterministic in ``(seed, epoch)``.

        Args:
            epoch: The epoch number (1-based).

        Returns:
            Sorted member positions (into :meth:`dataset`).
        """
        _, _, gains = self.dataset()
        if not len(gains):
            return np.zeros(0, np.int64)
        g = np.clip(gains / max(float(np.quantile(gains, 0.99)), 1e-12), 0.0, 1.0)
        weight = g if epoch % 2 == 1 else np.maximum(1.0 - g, 0.1)
        target = min(len(gains), self.config.keep_fraction * self.seen)
        p = weight
        for _ in range(20):  # scale to the target size; clipping at 1 needs a few rounds
            p = np.clip(p * target / max(p.sum(), 1e-12), 0.0, 1.0)
        rng = np.random.default_rng([self.config.seed, epoch])
        return np.flatnonzero(rng.random(len(p)) < p)

    # --- persistence ---------------------------------------------------------------------------

    def save(self, folder: str | Path) -> Path:
        """Write the state (config, counters, members, class statistics, index) to ``folder`` atomically: the
        folder is replaced whole, so a crash leaves the previous state intact."""
        ids, labels, gains = self.dataset()
        with atomic_path(folder) as tmp:
            tmp.mkdir(parents=True)
            meta = {
                "version": STATE_VERSION,
                "config": dataclasses.asdict(self.config),
                "seen": self.seen,
                "kept": self.kept,
                "index_built_at": self.index.built_at,
            }
            if self.neighbours is not None:
                meta["neighbours_built_at"] = self.neighbours.index.built_at
            (tmp / "state.json").write_text(json.dumps(meta, indent=1))
            arrays: dict[str, Any] = {"ids": ids, "labels": labels, "gains": gains}
            arrays |= {"class_sums": self.stats.sums, "class_counts": self.stats.counts}
            arrays["class_scatter"] = self.stats.scatter
            arrays["confidence_sums"] = self.stats.confidence_sums
            arrays["confidence_counts"] = self.stats.confidence_counts
            arrays |= self.mixture.state()
            if self.label_vectors is not None:
                arrays["label_vectors"] = self.label_vectors
            np.savez(tmp / "members.npz", **arrays)
            self.index.save(tmp / "index.faiss")
            if self.neighbours is not None:
                self.neighbours.index.save(tmp / "neighbours.faiss")
                np.save(tmp / "neighbour_labels.npy", self.neighbours.labels)
        return Path(folder)

    @classmethod
    def load(cls, folder: str | Path) -> DatasetGrowth:
        """The state saved in ``folder``.

        Raises:
            ConfigurationError: Not a growth state, or one of another version.
        """
        path = Path(folder)
        try:
            meta = json.loads((path / "state.json").read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigurationError(f"{path} is not a dataset-growth state: {exc}") from exc
        if meta.get("version") != STATE_VERSION:
            raise ConfigurationError(f"{path}: state version {meta.get('version')}, expected {STATE_VERSION}")
        with np.load(path / "members.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        growth = cls(GrowthConfig(**meta["config"]), arrays.get("label_vectors"))
        growth.seen, growth.kept = int(meta["seen"]), int(meta["kept"])
        growth.members.extend(arrays["ids"], arrays["labels"], arrays["gains"])
        growth.stats.sums, growth.stats.counts = arrays["class_sums"], arrays["class_counts"]
        growth.stats.scatter = arrays["class_scatter"]
        growth.stats.confidence_sums = arrays["confidence_sums"]
        growth.stats.confidence_counts = arrays["confidence_counts"]
        growth.mixture.restore(arrays)
        growth.index.load(path / "index.faiss")
        growth.index.built_at = int(meta["index_built_at"])
        if growth.neighbours is not None:
            growth.neighbours.index.load(path / "neighbours.faiss")
            growth.neighbours.index.built_at = int(meta["neighbours_built_at"])
            growth.neighbours.labels = np.load(path / "neighbour_labels.npy")
        return growth

    @classmethod
    def open(
        cls, folder: str | Path, config: GrowthConfig, label_vectors: Array | None = None
    ) -> DatasetGrowth:
        """Resume the state in ``folder`` when there is one (its config must equal ``config``), else
        start a new one.

        Raises:
            ConfigurationError: The saved state was made with another config.
        """
        if (Path(folder) / "state.json").exists():
            growth = cls.load(folder)
            if growth.config != config:
                raise ConfigurationError(
                    f"{folder} holds a state made with another config ({growth.config}); "
                    "use another folder or the same settings"
                )
            return growth
        return cls(config, label_vectors)
