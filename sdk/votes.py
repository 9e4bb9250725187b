"""Aggregating annotators' votes (paper §4.1.5; Liao, Kar & Fidler, "Towards good practices for
efficiently annotating large-scale image classification datasets", CVPR 2021).

* :func:`majority_vote`: the paper's rule, a label wins with ``quorum`` agreeing votes (3 of 5).
* :class:`DawidSkene`: EM over per-worker confusion matrices, optionally combined with the machine
  model's per-image class probabilities as the prior (instead of one global class prior).
* :func:`annotate_adaptively`: ask for votes a few at a time, re-estimate with EM, and stop asking
  about an image once its posterior risk (1 - max posterior) is below ``risk``; each extra vote goes
  to the available worker currently estimated best (greedy task assignment).
* :class:`SimulatedWorkers`: workers with uniform noise or class-structured noise (mistakes go to
  similar classes); :meth:`SimulatedWorkers.people` adds worker-specific confusions and spammers,
  :meth:`SimulatedWorkers.yes_no` careful workers, Yes-sayers and spammers for verification.

Votes are triples of equal-length arrays: ``items``, ``workers``, ``labels``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "AdaptiveResult",
    "DawidSkene",
    "SimulatedWorkers",
    "annotate_adaptively",
    "majority_vote",
]

Array = npt.NDArray[Any]


def majority_vote(
    items: Array, labels: Array, n_items: int, n_classes: int, *, quorum: int = 3
) -> npt.NDArray[np.int64]:
    """Per item, the label with at least ``quorum`` votes, else -1 (also -1 on a tie for the most).

    Args:
        items: The item each vote is about.
        labels: The label each vote gives.
        n_items: How many items there are.
        n_classes: How many labels there are.
        quorum: Votes a label needs.

    Example:
        >>> majority_vote(np.array([0, 0, 0, 1]), np.array([2, 2, 1, 0]), 2, 3, quorum=2).tolist()
        [2, -1]
    """
    counts = np.zeros((n_items, n_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(items), np.asarray(labels)), 1)
    best = counts.argmax(axis=1)
    top = counts.max(axis=1)
    tied = (counts == top[:, None]).sum(axis=1) > 1
    return np.where((top >= quorum) & ~tied, best, -1).astype(np.int64)


@dataclass
class DawidSkene:
    """Dawid-Skene EM over workers' votes: a confusion matrix per worker and a posterior per item.

    Args:
        n_classes: How many labels there are.
        iters: Most EM iterations.
        tol: Stop when no posterior moves more than this.
        smoothing: Pseudo-counts added to every confusion row.
        diag_prior: Further pseudo-counts on the diagonal (workers are assumed better than chance
            until shown otherwise).
    """

    n_classes: int
    iters: int = 50
    tol: float = 1e-6
    smoothing: float = 0.5
    diag_prior: float = 2.0
    posterior_: Array = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    confusion_: Array = field(default_factory=lambda: np.zeros((0, 0, 0)), repr=False)
    class_prior_: Array = field(default_factory=lambda: np.zeros(0), repr=False)

    def fit(
        self,
        items: Array,
        workers: Array,
        labels: Array,
        n_items: int,
        n_workers: int,
        prior: Array | None = None,
    ) -> DawidSkene:
        """Run EM over the votes.

        Args:
            items: The item each vote is about.
            workers: The worker who gave each vote.
            labels: The label each vote gives.
            n_items: How many items there are.
            n_workers: How many workers there are.
            prior: (n_items x K) machine probabilities, multiplied into each item's posterior.

        Returns:
            Itself, with ``posterior_``, ``confusion_`` and ``class_prior_`` set.
        """
        i, w, lab = (np.asarray(a, dtype=np.int64) for a in (items, workers, labels))
        k = self.n_classes
        log_prior = None if prior is None else np.log(np.clip(np.asarray(prior, dtype=np.float64), 1e-6, 1))
        t = np.full((n_items, k), 1.0 / k)  # initial posterior: vote shares (and the prior)
        np.add.at(t, (i, lab), 1.0)
        if log_prior is not None:
            t *= np.exp(log_prior)
        t /= t.sum(axis=1, keepdims=True)
        rho = np.full(k, 1.0 / k)
        conf = np.zeros((n_workers, k, k))
        for _ in range(self.iters):
            conf = np.full((n_workers, k, k), self.smoothing) + self.diag_prior * np.eye(k)
            np.add.at(conf, (w, slice(None), lab), t[i])  # type: ignore[arg-type]  # conf[w, :, given] += T[i]
            conf /= conf.sum(axis=2, keepdims=True)
            rho = t.mean(axis=0) + 1e-9
            logp = np.zeros((n_items, k)) + (log_prior if log_prior is not None else np.log(rho))
            np.add.at(logp, i, np.log(conf[w, :, lab]))
            logp -= logp.max(axis=1, keepdims=True)
            new = np.exp(logp)
            new /= new.sum(axis=1, keepdims=True)
            delta = float(np.abs(new - t).max())
            t = new
            if delta < self.tol:
                break
        self.posterior_, self.confusion_, self.class_prior_ = t, conf, rho / rho.sum()
        return self

    @property
    def labels_(self) -> npt.NDArray[np.int64]:
        """The most probable label per item."""
        return np.asarray(self.posterior_.argmax(axis=1), dtype=np.int64)

    def worker_accuracy(self) -> npt.NDArray[np.float64]:
        """Estimated accuracy per worker: the class-prior-weighted diagonal of its confusion."""
        diag = np.diagonal(self.confusion_, axis1=1, axis2=2)
        return np.asarray(diag @ self.class_prior_)


@dataclass
class SimulatedWorkers:
    """Simulated annotators; answers are deterministic per (item, worker) given the seed.

    Args:
        confusion: ``confusion[w, true, given]``, the probability worker ``w`` answers ``given``
            for an item of class ``true``.
        seed: Seeds every answer.
    """

    confusion: Array
    seed: int = 0

    @classmethod
    def uniform(cls, accuracies: Array, n_classes: int, seed: int = 0) -> SimulatedWorkers:
        """Workers right with their given accuracy, their mistakes spread evenly over the other classes.

        Example:
            >>> SimulatedWorkers.uniform(np.array([0.9, 0.6]), 3).n_workers
            2
        """
        a = np.asarray(accuracies, dtype=np.float64)[:, None, None]
        off = (1 - a) / (n_classes - 1)
        conf = np.broadcast_to(off, (len(a), n_classes, n_classes)).copy()
        conf[:, np.arange(n_classes), np.arange(n_classes)] = a[:, 0]
        return cls(conf, seed)

    @classmethod
    def structured(cls, accuracies: Array, similarity: Array, seed: int = 0) -> SimulatedWorkers:
        """Mistakes go to other classes in proportion to ``similarity[true]`` (e.g. digits 3 and 8)."""
        sim = np.asarray(similarity, dtype=np.float64).copy()
        np.fill_diagonal(sim, 0)
        sim /= sim.sum(axis=1, keepdims=True)
        a = np.asarray(accuracies, dtype=np.float64)[:, None, None]
        conf = (1 - a) * sim[None]
        k = len(sim)
        conf[:, np.arange(k), np.arange(k)] = a[:, 0]
        return cls(conf, seed)

    @classmethod
    def people(
        cls,
        similarity: Array,
        n_workers: int,
        *,
        accuracy: tuple[float, float] = (0.6, 0.95),
        spammers: float = 0.1,
        concentration: float = 5.0,
        seed: int = 0,
    ) -> SimulatedWorkers:
        """Workers that behave like people: each has its own skill and its own confusions.

        A worker's accuracy is drawn from ``U(*accuracy)`` and each class gets its own accuracy
        around it (some classes are harder for some people); its mistakes follow the class
        ``similarity`` (cat and dog, car and truck), perturbed per worker by a Dirichlet draw of the
        given ``concentration`` (lower: more personal confusions). A share ``spammers`` of the
        workers answer at random, half of them uniformly and half with one favourite label.

        Example:
            >>> crowd = SimulatedWorkers.people(np.ones((3, 3)), 10, spammers=0.2)
            >>> crowd.n_workers, bool(np.allclose(crowd.confusion.sum(axis=2), 1))
            (10, True)
        """
        rng = np.random.default_rng(seed)
        sim = np.asarray(similarity, dtype=np.float64).copy()
        np.fill_diagonal(sim, 0)
        sim /= sim.sum(axis=1, keepdims=True)
        k = len(sim)
        conf = np.zeros((n_workers, k, k))
        for w in range(n_workers):
            base = rng.uniform(*accuracy)
            per_class = np.clip(base + rng.normal(0, 0.05, k), 1.0 / k, 0.995)
            for c in range(k):
                off = rng.dirichlet(concentration * k * sim[c] + 1e-3)
                off[c] = 0
                conf[w, c] = (1 - per_class[c]) * off / off.sum()
                conf[w, c, c] = per_class[c]
        n_spam = int(round(spammers * n_workers))
        for j, w in enumerate(rng.choice(n_workers, n_spam, replace=False).tolist()):
            if j % 2 == 0:
                conf[w] = 1.0 / k
            else:
                favourite = rng.integers(k)
                conf[w] = 0.2 / k
                conf[w, :, favourite] += 0.8
        return cls(conf, seed)

    @classmethod
    def yes_no(
        cls,
        n_workers: int,
        *,
        accuracy: tuple[float, float] = (0.7, 0.95),
        yes_sayers: float = 0.2,
        spammers: float = 0.1,
        seed: int = 0,
    ) -> SimulatedWorkers:
        """Workers for "Is this a <concept>?" (label 0 = No, 1 = Yes).

        Careful workers are right with probability ``U(*accuracy)`` on both sides; a share
        ``yes_sayers`` answer Yes too easily (they accept 40-70 % of the wrong images while still
        accepting the right ones), and a share ``spammers`` answer Yes or No at random.

        Example:
            >>> bool(SimulatedWorkers.yes_no(10, yes_sayers=0.3).confusion[:, 0, 1].max() > 0.35)
            True
        """
        rng = np.random.default_rng(seed)
        conf = np.zeros((n_workers, 2, 2))
        kinds = rng.permutation(
            np.repeat(
                [0, 1, 2],
                [
                    n_workers - int(round(yes_sayers * n_workers)) - int(round(spammers * n_workers)),
                    int(round(yes_sayers * n_workers)),
                    int(round(spammers * n_workers)),
                ],
            )
        )
        for w, kind in enumerate(kinds.tolist()):
            hit, reject = rng.uniform(*accuracy), rng.uniform(*accuracy)
            if kind == 1:
                hit, reject = max(hit, 0.9), 1 - rng.uniform(0.4, 0.7)
            elif kind == 2:
                hit = reject = 0.5
            conf[w] = [[reject, 1 - reject], [1 - hit, hit]]
        return cls(conf, seed)

    @property
    def n_workers(self) -> int:
        """How many workers there are."""
        return len(self.confusion)

    def answer(self, items: Array, workers: Array, truth: Array) -> npt.NDArray[np.int64]:
        """Each worker's answer about each item (vectorised; same inputs, same answers)."""
        items, workers, truth = (np.asarray(a, dtype=np.int64) for a in (items, workers, truth))
        u = np.array(
            [
                np.random.default_rng((self.seed, int(a), int(b))).random()
                for a, b in zip(items, workers, strict=True)
            ]
        )
        cdf = np.cumsum(self.confusion[workers, truth[items]], axis=1)
        return np.minimum((u[:, None] > cdf).sum(axis=1), cdf.shape[1] - 1).astype(np.int64)


@dataclass(frozen=True)
class AdaptiveResult:
    """What :func:`annotate_adaptively` collected and decided.

    Attributes:
        labels: The decided label per item.
        posterior: The EM posterior per item (n_items x K).
        votes_per_item: How many votes each item got.
        items: The item of each vote, in the order asked.
        workers: The worker of each vote.
        answers: The label each vote gave.
    """

    labels: npt.NDArray[np.int64]
    posterior: Array
    votes_per_item: npt.NDArray[np.int64]
    items: npt.NDArray[np.int64]
    workers: npt.NDArray[np.int64]
    answers: npt.NDArray[np.int64]

    @property
    def mean_votes(self) -> float:
        """The average number of votes per item."""
        return float(self.votes_per_item.mean())


def annotate_adaptively(
    ask: Callable[[Array, Array], Array],
    n_items: int,
    n_workers: int,
    n_classes: int,
    *,
    prior: Array | None = None,
    risk: float = 0.05,
    min_votes: int = 1,
    max_votes: int = 5,
    seed: int = 0,
) -> AdaptiveResult:
    """Collect votes until every image's posterior risk is below ``risk`` (or it has ``max_votes``).

    Each round, every image still at risk gets one more vote, from the worker with the best current
    EM accuracy estimate who has not voted on it, spreading load so no worker takes more than its
    share of the round (greedy assignment).

    Args:
        ask: ``ask(items, workers)`` returns the answer of each worker about each item.
        n_items: How many items there are.
        n_workers: How many workers there are.
        n_classes: How many labels there are.
        prior: (n_items x K) machine probabilities for the EM posterior.
        risk: Largest posterior probability of a wrong label that is accepted.
        min_votes: Votes every item gets before its risk is looked at.
        max_votes: Most votes per item (at most ``n_workers``).
        seed: Seeds the first workers' choice.
    """
    rng = np.random.default_rng(seed)
    max_votes = min(max_votes, n_workers)
    items_l: list[Array] = []
    workers_l: list[Array] = []
    answers_l: list[Array] = []
    voted = np.zeros((n_items, n_workers), dtype=bool)
    counts = np.zeros(n_items, dtype=np.int64)
    skill = np.full(n_workers, 0.5) + rng.random(n_workers) * 1e-6  # unknown: ties broken at random
    em = DawidSkene(n_classes)
    need = np.arange(n_items)
    for _ in range(max_votes):
        if not len(need):
            break
        share = int(np.ceil(len(need) / n_workers)) + 1
        load = np.zeros(n_workers, dtype=np.int64)
        order = np.argsort(-skill, kind="stable")
        batch = rng.permutation(need)
        pick = np.empty(len(batch), dtype=np.int64)
        for j, item in enumerate(batch.tolist()):
            free = [w for w in order if not voted[item, w] and load[w] < share]
            w = free[0] if free else next(w for w in order if not voted[item, w])
            pick[j] = w
            load[w] += 1
        answers = np.asarray(ask(batch, pick), dtype=np.int64)
        voted[batch, pick] = True
        counts[batch] += 1
        items_l.append(batch)
        workers_l.append(pick)
        answers_l.append(answers)
        em.fit(
            np.concatenate(items_l),
            np.concatenate(workers_l),
            np.concatenate(answers_l),
            n_items,
            n_workers,
            prior,
        )
        skill = em.worker_accuracy()
        at_risk = 1 - em.posterior_.max(axis=1) > risk
        need = np.flatnonzero((at_risk & (counts < max_votes)) | (counts < min_votes))
    return AdaptiveResult(
        em.labels_,
        em.posterior_,
        counts,
        np.concatenate(items_l),
        np.concatenate(workers_l),
        np.concatenate(answers_l),
    )
