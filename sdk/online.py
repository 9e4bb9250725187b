"""Online labelling (Liao, Kar & Fidler, CVPR 2021, §3): annotation as semi-supervised learning.

Rounds of: fit a machine learner on the current posteriors (and, semi-supervised, on its own
confident pseudo-labels) with image features; re-estimate every worker's confusion matrix by
Dawid-Skene EM with the learner's calibrated probabilities as each image's prior; compute each
image's risk (1 - its largest posterior); accept images whose risk is below the threshold, with or
without a human answer; ask the riskiest of the rest, each of the next answers going to the available
worker whose answer is expected to lower that image's risk the most, at most ``max_per_worker``
answers per worker.

The learner's probabilities are *cross-fitted* (each image's prior comes from a model that did not
train on it or its pseudo-label) and temperature-scaled on images that humans have labelled
confidently: a learner scored on its own training images is overconfident, and an overconfident prior
accepts wrong labels without asking anyone (the paper's main pitfall).

The same function serves the loop's binary verification ("Is this a <concept>?", two classes: 0 =
No, 1 = Yes): pass ``prior`` (the round model's probability of the query class, cut by the OOD
rectifier, see :func:`verification_prior`) and ``queries`` (the class each question asks about).
P(yes) then comes from a cross-fitted logistic calibrator over the prior's log-odds and, with
``features``, a multi-class learner's log-odds of the query class: the round model's prior is never
trusted as is (on CIFAR-10 an uncalibrated one ends 10-15 points below fixed-5 majority).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from bamboo.sdk.votes import DawidSkene

__all__ = [
    "OnlineConfig",
    "OnlineResult",
    "SoftmaxLearner",
    "expected_risk_after",
    "label_online",
    "verification_prior",
]

Array = npt.NDArray[Any]


def _one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # scikit-learn's dependency; without it BLAS keeps its threads
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _softmax(z: Array) -> Array:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


@dataclass
class SoftmaxLearner:
    """Multinomial logistic regression on soft targets with per-example weights (L-BFGS).

    Args:
        l2: Weight decay on the coefficients (not the biases), per unit of total example weight.
        max_iter: Most L-BFGS iterations.
    """

    l2: float = 1e-2
    max_iter: int = 200
    coef_: Array = field(default_factory=lambda: np.zeros((0, 0)), repr=False)

    def fit(self, x: Array, targets: Array, weights: Array | None = None) -> SoftmaxLearner:
        """Fit on features ``x`` (n x d) and target distributions ``targets`` (n x K).

        Example:
            >>> x = np.array([[0.0], [1.0], [2.0], [3.0]])
            >>> t = np.eye(2)[[0, 0, 1, 1]]
            >>> SoftmaxLearner(l2=1e-3).fit(x, t).predict_proba(np.array([[0.0], [3.0]])).argmax(1).tolist()
            [0, 1]
        """
        x1 = np.hstack([x, np.ones((len(x), 1))])
        n, d = x1.shape
        k = targets.shape[1]
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
        total = w.sum()
        mask = np.ones((d, k))
        mask[-1] = 0  # no decay on the biases

        def loss(flat: Array) -> tuple[float, Array]:
            coef = flat.reshape(d, k)
            z = x1 @ coef
            z -= z.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            value = -(w[:, None] * targets * logp).sum() / total + 0.5 * self.l2 * (mask * coef**2).sum()
            p = np.exp(logp)
            grad = x1.T @ (w[:, None] * (p * targets.sum(axis=1, keepdims=True) - targets)) / total
            return float(value), (grad + self.l2 * mask * coef).ravel()

        start = self.coef_.ravel() if self.coef_.shape == (d, k) else np.zeros(d * k)
        with _one_blas_thread():  # small products: BLAS threads only contend (20x slower on 2 cores)
            res = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": self.max_iter})
        self.coef_ = res.x.reshape(d, k)
        return self

    def logits(self, x: Array) -> Array:
        """Unnormalised log-probabilities (n x K)."""
        return np.asarray(np.hstack([x, np.ones((len(x), 1))]) @ self.coef_)

    def predict_proba(self, x: Array) -> Array:
        """Class probabilities (n x K)."""
        return _softmax(self.logits(x))


def expected_risk_after(posterior: Array, confusion: Array) -> Array:
    """Expected risk of each item after one more answer from each worker (items x workers).

    The risk of an item is ``1 - max posterior``; after worker ``w`` answers ``a`` the posterior is
    proportional to ``posterior * confusion[w, :, a]``, so the expected risk is
    ``1 - sum_a max_c posterior[c] * confusion[w, c, a]``.

    Args:
        posterior: (items x K) current posteriors.
        confusion: (workers x K x K) ``confusion[w, true, given]``.

    Example:
        >>> post = np.array([[0.5, 0.5]])
        >>> conf = np.array([[[0.5, 0.5], [0.5, 0.5]], [[0.9, 0.1], [0.1, 0.9]]])
        >>> expected_risk_after(post, conf).round(2).tolist()  # a coin-flipper does not help
        [[0.5, 0.1]]
    """
    joint = posterior[:, None, :, None] * confusion[None]  # items x workers x true x given
    return np.asarray(1.0 - joint.max(axis=2).sum(axis=2))


def verification_prior(
    probs: Array, query_labels: Array, keep: Array | None = None, *, dropped_yes: float = 0.05
) -> Array:
    """The machine prior of "Is this a <query>?": (n x 2) probabilities of No and Yes.

    Args:
        probs: (n x C) the round model's class probabilities.
        query_labels: (n,) the class index each image's query stands for.
        keep: (n,) the OOD rectifier's keep mask; a dropped image keeps at most ``dropped_yes``.
        dropped_yes: Largest probability of Yes left to an image the rectifier drops.

    Example:
        >>> verification_prior(np.array([[0.8, 0.2], [0.8, 0.2]]), np.array([0, 0]), np.array([True, False]))
        array([[0.2 , 0.8 ],
               [0.95, 0.05]])
    """
    yes = np.asarray(probs, dtype=np.float64)[np.arange(len(probs)), np.asarray(query_labels)]
    if keep is not None:
        yes = np.where(np.asarray(keep, dtype=bool), yes, np.minimum(yes, dropped_yes))
    yes = np.clip(yes, 1e-4, 1 - 1e-4)
    return np.stack([1 - yes, yes], axis=1)


@dataclass(frozen=True)
class OnlineResult:
    """What :func:`label_online` asked and decided.

    Attributes:
        labels: The decided label per item.
        posterior: The final posterior per item (n x K).
        risk: ``1 - max posterior`` per item.
        votes_per_item: Human answers each item got (0 for items accepted on the learner alone).
        items: The item of each answer, in the order asked.
        workers: The worker of each answer.
        answers: The label each answer gave.
        confusion: The final EM confusion matrix per worker.
        temperature: The learner's calibration temperature in the last round (verification with
            ``queries``: the calibrator's mean weight on its first input instead).
        history: Per round: ``round``, ``answers`` (so far), ``accepted`` (items below the risk),
            ``asked`` (this round).
    """

    labels: npt.NDArray[np.int64]
    posterior: Array
    risk: Array
    votes_per_item: npt.NDArray[np.int64]
    items: npt.NDArray[np.int64]
    workers: npt.NDArray[np.int64]
    answers: npt.NDArray[np.int64]
    confusion: Array
    temperature: float
    history: list[dict[str, float]]

    @property
    def answers_per_item(self) -> float:
        """Human answers per item on average."""
        return float(self.votes_per_item.mean())

    @property
    def unanswered(self) -> float:
        """The share of items decided with no human answer."""
        return float((self.votes_per_item == 0).mean())


def _project(features: Array, dims: int) -> Array:
    """Standardised features reduced to ``dims`` principal components (whitened)."""
    x = np.asarray(features, dtype=np.float64)
    x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-8)
    if x.shape[1] > dims:
        _, s, vt = np.linalg.svd(x - x.mean(axis=0), full_matrices=False)
        x = x @ vt[:dims].T / (s[:dims] / np.sqrt(len(x)) + 1e-8)
    return x


def _temperature(logits: Array, labels: Array) -> float:
    """The temperature that minimises the NLL of ``labels`` under ``softmax(logits / T)``."""
    best, best_nll = 1.0, np.inf
    for t in np.geomspace(0.25, 8.0, 31):
        p = _softmax(logits / t)[np.arange(len(labels)), labels]
        nll = float(-np.log(np.clip(p, 1e-12, 1)).mean())
        if nll < best_nll:
            best, best_nll = float(t), nll
    return best


class _Machine:
    """The learner side of a run: cross-fitted, calibrated priors from features and posteriors."""

    def __init__(
        self,
        features: Array,
        prior: Array | None,
        k: int,
        cfg: OnlineConfig,
    ) -> None:
        x = _project(features, cfg.dims)
        if prior is not None:  # the external prior's log-probabilities are inputs the learner weighs
            x = np.hstack([x, np.log(np.clip(prior, 1e-4, 1))])
        self.x, self.k, self.pseudo, self.pseudo_weight = x, k, cfg.pseudo, cfg.pseudo_weight
        self.fold = np.random.default_rng(cfg.seed).integers(0, cfg.folds, len(x))
        self.learners = [SoftmaxLearner(l2=cfg.l2) for _ in range(cfg.folds)]
        self.temperature = 1.0

    def prior(self, posterior: Array, answered: Array, explored: Array) -> Array:
        """Cross-fitted probabilities for every item, trained on ``posterior`` of answered items
        plus the confident pseudo-labels of the rest, temperature-scaled on the ``explored`` items
        (answered because they were drawn at random, so they stand for the unanswered ones)."""
        conf = posterior.max(axis=1)
        pseudo = ~answered & (conf >= self.pseudo)
        train = answered | pseudo
        targets = np.where(pseudo[:, None], np.eye(self.k)[posterior.argmax(axis=1)], posterior)
        weights = np.where(pseudo, self.pseudo_weight, 1.0)
        logits = np.zeros((len(self.x), self.k))
        for f, learner in enumerate(self.learners):
            fit = train & (self.fold != f)
            if np.unique(posterior[fit & answered].argmax(axis=1)).size < 2:
                return np.full((len(self.x), self.k), 1.0 / self.k)  # too little to learn from yet
            learner.fit(self.x[fit], targets[fit], weights[fit])
            out = self.fold == f
            logits[out] = learner.logits(self.x[out])
        if explored.sum() >= 20:
            self.temperature = _temperature(logits[explored], posterior[explored].argmax(axis=1))
        return np.clip(_softmax(logits / self.temperature), 1e-6, 1.0)


def _logit(p: Array) -> Array:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.asarray(np.log(p / (1 - p)))


class _Verifier:
    """The learner side of a verification run ("Is this a <query>?", two classes).

    A yes/no answer says nothing about an image's features without its query, so the learner is a
    multi-class model over the query classes (trained on the labelled images, if any, and on the
    answered tasks: Yes puts the task's mass on its query class, No spreads it over the others as the
    learner's last fit did), and P(yes) is its probability of the query class. That score and the
    machine prior's log-odds are then combined by a cross-fitted logistic calibrator fitted on the
    answered tasks' posteriors, so neither the round model nor the learner is trusted as is.
    """

    def __init__(
        self,
        features: Array | None,
        queries: Array,
        classes: int,
        prior: Array | None,
        labelled: tuple[Array, Array] | None,
        cfg: OnlineConfig,
    ) -> None:
        n = len(queries)
        self.q, self.c = np.asarray(queries, dtype=np.int64), classes
        self.x: Array | None = None
        self.lx, self.ly = np.zeros((0, 0)), np.zeros(0, dtype=np.int64)
        if features is not None:
            feats = np.asarray(features, dtype=np.float64)
            if labelled is not None:
                feats = np.vstack([feats, np.asarray(labelled[0], dtype=np.float64)])
                self.ly = np.asarray(labelled[1], dtype=np.int64)
            x = _project(feats, cfg.dims)
            self.x, self.lx = x[:n], x[n:]
        self.prior_logit = None if prior is None else _logit(prior[:, 1])
        self.fold = np.random.default_rng(cfg.seed).integers(0, cfg.folds, n)
        self.learners = [SoftmaxLearner(l2=cfg.l2) for _ in range(cfg.folds)]
        self.calibrators = [SoftmaxLearner(l2=1e-3) for _ in range(cfg.folds)]
        others = 1.0 - np.eye(classes)[self.q]
        self.spread = others / others.sum(axis=1, keepdims=True)  # where a No's mass goes
        self.pseudo, self.pseudo_weight = cfg.pseudo, cfg.pseudo_weight
        self.temperature = 1.0  # the calibrator's slope on the learner's log-odds, reported

    def _scores(self, posterior: Array, answered: Array) -> Array | None:
        """Cross-fitted log-odds of each task's query class under the multi-class learner."""
        assert self.x is not None
        yes = posterior[:, 1]
        pseudo = ~answered & (posterior.max(axis=1) >= self.pseudo)
        train = answered | pseudo
        onehot = np.eye(self.c)[self.q]
        targets = yes[:, None] * onehot + (1 - yes)[:, None] * self.spread
        weights = np.where(pseudo, self.pseudo_weight, 1.0)
        scores = np.zeros(len(self.q))
        spread = self.spread.copy()
        for f, learner in enumerate(self.learners):
            fit = train & (self.fold != f)
            if len(self.ly) == 0 and (fit & answered).sum() < 2 * self.c:
                return None
            learner.fit(
                np.vstack([self.lx, self.x[fit]]),
                np.vstack([np.eye(self.c)[self.ly], targets[fit]]),
                np.concatenate([np.ones(len(self.ly)), weights[fit]]),
            )
            out = np.flatnonzero(self.fold == f)
            p = np.clip(_softmax(learner.logits(self.x[out])), 1e-9, 1.0)
            mine = p[np.arange(len(out)), self.q[out]]
            scores[out] = np.log(mine) - np.log1p(-np.minimum(mine, 1 - 1e-9))
            p[np.arange(len(out)), self.q[out]] = 0
            spread[out] = p / p.sum(axis=1, keepdims=True)
        self.spread = spread
        return scores

    def prior(self, posterior: Array, answered: Array, explored: Array) -> Array | None:
        """Cross-fitted, calibrated (n x 2) P(no), P(yes); ``None`` while too little is known."""
        inputs = []
        if self.x is not None:
            scores = self._scores(posterior, answered)
            if scores is not None:
                inputs.append(scores)
        if self.prior_logit is not None:
            inputs.append(self.prior_logit)
        if not inputs or answered.sum() < 20:
            return None
        z = np.stack(inputs, axis=1)
        p_yes = np.zeros(len(z))
        for f, cal in enumerate(self.calibrators):
            fit = answered & (self.fold != f)
            if np.unique(posterior[fit].argmax(axis=1)).size < 2:
                return None
            cal.fit(z[fit], posterior[fit])
            out = self.fold == f
            p_yes[out] = cal.predict_proba(z[out])[:, 1]
        self.temperature = float(np.mean([c.coef_[0, 1] - c.coef_[0, 0] for c in self.calibrators]))
        p_yes = np.clip(p_yes, 1e-6, 1 - 1e-6)
        return np.stack([1 - p_yes, p_yes], axis=1)


@dataclass(frozen=True)
class OnlineConfig:
    """How :func:`label_online` trades human answers for accuracy (every field has a default).

    Attributes:
        risk: An item is accepted once ``1 - max posterior`` is below this.
        batch: Answers asked per round (``None``: 5 % of the items, at least 20).
        budget: Most human answers per item on average.
        max_votes: Most answers per item (at most the number of workers).
        max_per_worker: Most answers per worker over the whole run (``None``: no cap).
        max_rounds: Most rounds.
        dims: Principal components of the features the learner sees.
        folds: Cross-fitting folds of the learner.
        l2: The learner's weight decay.
        pseudo: Unanswered items whose posterior reaches this join the learner's training set with
            their most probable label (self-training, the semi-supervised part).
        pseudo_weight: The weight of such an item (a human-answered item weighs 1).
        explore: The share of each round's answers that go to unanswered items drawn at random
            (with the first round's random batch, the learner's calibration set).
        seed: Seeds the folds, the random items and tie-breaking between workers.
    """

    risk: float = 0.05
    batch: int | None = None
    budget: float = 5.0
    max_votes: int = 5
    max_per_worker: int | None = None
    max_rounds: int = 100
    dims: int = 64
    folds: int = 3
    l2: float = 1e-2
    pseudo: float = 0.95
    pseudo_weight: float = 0.5
    explore: float = 0.1
    seed: int = 0


def label_online(
    ask: Callable[[Array, Array], Array],
    n_items: int,
    n_workers: int,
    n_classes: int,
    *,
    features: Array | None = None,
    prior: Array | None = None,
    queries: Array | None = None,
    query_classes: int | None = None,
    labelled: tuple[Array, Array] | None = None,
    config: OnlineConfig | None = None,
) -> OnlineResult:
    """Label ``n_items`` images online, asking people only where the posterior risk needs it.

    Args:
        ask: ``ask(items, workers)`` returns each worker's answer about each item.
        n_items: How many items there are.
        n_workers: How many workers there are.
        n_classes: How many labels there are (2 for verification: 0 = No, 1 = Yes).
        features: (n x d) image features for the learner (e.g. EfficientNet-Lite0 penultimate
            features); ``None`` uses ``prior`` alone (no learner).
        prior: (n x K) fixed machine probabilities (the round model with the rectifier); with
            ``features`` they become inputs of the learner.
        queries: Verification only (``n_classes == 2``): the class each item's question asks about.
            P(yes) then comes from a cross-fitted calibrator over the prior's log-odds and, with
            ``features``, a multi-class learner's log-odds of the query class (see :class:`_Verifier`).
        query_classes: How many classes ``queries`` range over.
        labelled: Verification only: ``(features, labels)`` of images labelled already (the loop's
            labelled set), which the multi-class learner also trains on.
        config: The risk threshold, budgets and learner settings (:class:`OnlineConfig`'s defaults
            when ``None``).

    Returns:
        The decisions, the answers asked, the workers' estimated confusions and a per-round history.
    """
    cfg = config or OnlineConfig()
    rng = np.random.default_rng(cfg.seed)
    k = n_classes
    max_votes = min(cfg.max_votes, n_workers)
    batch = cfg.batch or max(20, n_items // 20)
    cap = np.full(n_workers, np.iinfo(np.int64).max if cfg.max_per_worker is None else cfg.max_per_worker)
    fixed = None if prior is None else np.clip(np.asarray(prior, dtype=np.float64), 1e-6, 1.0)
    machine = _machine(k, features, fixed, queries, query_classes, labelled, cfg)
    asked = _Asked(n_items, n_workers)
    em = DawidSkene(k)
    current = np.full((n_items, k), 1.0 / k) if fixed is None else fixed
    posterior = current
    confusion = np.tile(np.eye(k) * 0.6 + 0.4 / k, (n_workers, 1, 1))
    history: list[dict[str, float]] = []
    allowed = int(cfg.budget * n_items)
    for round_no in range(cfg.max_rounds + 1):  # the last pass only takes in the last answers
        if asked.got:
            current = _estimate(em, machine, asked, current)
            posterior, confusion = em.posterior_, em.confusion_
        item_risk = 1.0 - posterior.max(axis=1)
        left = allowed - int(asked.counts.sum())
        open_ = np.flatnonzero((item_risk >= cfg.risk) & (asked.counts < max_votes))
        history.append(
            {
                "round": round_no,
                "answers": float(asked.counts.sum()),
                "accepted": float((item_risk < cfg.risk).sum()),
            }
        )
        if not len(open_) or left <= 0 or not (asked.used < cap).any() or round_no == cfg.max_rounds:
            break
        order = _next_items(rng, asked, open_, item_risk, min(batch, left), machine is not None, cfg.explore)
        gain = item_risk[order, None] - expected_risk_after(posterior[order], confusion)
        gain += rng.random(gain.shape) * 1e-9  # unknown workers: ties broken at random
        it, wk, load = _assign_workers(order, gain, asked, cap)
        if not len(it):
            break
        asked.record(it, wk, np.asarray(ask(it, wk), dtype=np.int64), load)
        history[-1]["asked"] = float(len(it))
    items, workers, answers = asked.arrays()
    return OnlineResult(
        labels=np.asarray(posterior.argmax(axis=1), dtype=np.int64),
        posterior=posterior,
        risk=1.0 - posterior.max(axis=1),
        votes_per_item=asked.counts,
        items=items,
        workers=workers,
        answers=answers,
        confusion=confusion,
        temperature=machine.temperature if machine is not None else 1.0,
        history=history,
    )


def _machine(
    k: int,
    features: Array | None,
    fixed: Array | None,
    queries: Array | None,
    query_classes: int | None,
    labelled: tuple[Array, Array] | None,
    cfg: OnlineConfig,
) -> _Machine | _Verifier | None:
    """The learner behind the prior: a verifier with ``queries``, a softmax learner with features alone,
    none without either."""
    if queries is not None:
        if k != 2 or query_classes is None:
            raise ValueError("queries need n_classes=2 (verification) and query_classes")
        return _Verifier(features, queries, query_classes, fixed, labelled, cfg)
    if features is not None:
        return _Machine(features, fixed, k, cfg)
    return None


class _Asked:
    """The answers asked so far: who answered what about which item."""

    def __init__(self, n_items: int, n_workers: int) -> None:
        self.n_items, self.n_workers = n_items, n_workers
        self.voted = np.zeros((n_items, n_workers), dtype=bool)
        self.counts = np.zeros(n_items, dtype=np.int64)  # answers per item
        self.used = np.zeros(n_workers, dtype=np.int64)  # answers per worker
        self.explored = np.zeros(n_items, dtype=bool)  # drawn at random (the calibration set)
        self.got: list[tuple[Array, Array, Array]] = []

    def record(self, items: Array, workers: Array, answers: Array, load: Array) -> None:
        """Take in one round's answers (``load``: answers per worker this round)."""
        self.voted[items, workers] = True
        self.counts[items] += 1
        self.used += load
        self.got.append((items, workers, answers))

    def arrays(self) -> tuple[Array, Array, Array]:
        """Items, workers and answers of every answer, in the order asked."""
        if not self.got:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        items, workers, answers = (np.concatenate(a) for a in zip(*self.got, strict=True))
        return items, workers, answers


def _estimate(em: DawidSkene, machine: _Machine | _Verifier | None, asked: _Asked, current: Array) -> Array:
    """Fit EM on the answers with ``current`` as the prior; with a learner, refit the learner on the
    posteriors and EM again on its prior. Returns the prior used last."""
    items, workers, answers = asked.arrays()
    em.fit(items, workers, answers, asked.n_items, asked.n_workers, current)
    if machine is not None:
        learnt = machine.prior(em.posterior_, asked.counts > 0, asked.explored)
        current = current if learnt is None else learnt
        em.fit(items, workers, answers, asked.n_items, asked.n_workers, current)
    return current


def _next_items(
    rng: np.random.Generator,
    asked: _Asked,
    open_: Array,
    item_risk: Array,
    size: int,
    learning: bool,
    explore: float,
) -> Array:
    """The items to ask about this round, at most ``size``: at random in the first round, then a share
    of scouts at random among the unanswered and the riskiest open items."""
    if not asked.got:  # nothing is known yet: a random first batch (over all items: the prior is untested)
        order = rng.permutation(np.arange(asked.n_items) if learning else open_)[:size]
        asked.explored[order] = True
        return np.asarray(order)
    # a share at random among the unanswered, accepted or not, to calibrate the learner on
    # items like the ones it accepts alone; the rest to the riskiest. The share is of the
    # round's risky items, not of the batch: once few are left, scouting must not go on
    # asking about accepted items round after round.
    fresh = np.flatnonzero(asked.counts == 0)
    scouts = int(round(explore * min(size, len(open_)))) if learning else 0
    scout = rng.permutation(fresh)[:scouts]
    asked.explored[scout] = True
    rest = np.setdiff1d(open_, scout)
    return np.concatenate([scout, rest[np.argsort(-item_risk[rest], kind="stable")]])[:size]


def _assign_workers(order: Array, gain: Array, asked: _Asked, cap: Array) -> tuple[Array, Array, Array]:
    """Each item in ``order`` to the free worker with the largest ``gain``, a worker taking about a
    round's share; returns the items and workers picked and the answers per worker."""
    share = int(np.ceil(len(order) / asked.n_workers)) + 1  # people work in parallel: a round's share
    load = np.zeros(asked.n_workers, dtype=np.int64)
    pick_items, pick_workers = [], []
    for row, item in enumerate(order.tolist()):
        free = ~asked.voted[item] & (asked.used + load < cap) & (load < share)
        if not free.any():
            free = ~asked.voted[item] & (asked.used + load < cap)
        if not free.any():
            continue
        w = int(np.argmax(np.where(free, gain[row], -np.inf)))
        pick_items.append(item)
        pick_workers.append(w)
        load[w] += 1
    return np.array(pick_items, dtype=np.int64), np.array(pick_workers, dtype=np.int64), load
