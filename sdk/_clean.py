"""Label scores for the growth cleaner, from running class statistics of the stream.

:class:`ClassStats` holds, per class, the sum and count of the (unit) samples seen with that label,
and the scatter of all of them: the sufficient statistics of class prototypes and of a
shared-covariance Gaussian classifier (linear discriminant analysis). Both are updated in O(batch)
and never refitted, so they are cheap, exact and deterministic at any stream length.

The LDA probabilities are *out of sample*: :meth:`ClassStats.lda_probs_crossfit` scores each half of a
step with the statistics of everything before the step plus the step's other half, so a sample never
votes on its own label (a mislabelled sample pulls its class mean towards itself otherwise, the
reason the in-sample prototype cleaner flags clean samples and misses noisy ones).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.linalg import cho_factor, cho_solve

Array = npt.NDArray[Any]


class ClassStats:
    """Running per-class sums and counts, and the total scatter ``sum x x^T``, of labelled samples.

    Args:
        dim: Sample size.
    """

    def __init__(self, dim: int) -> None:
        self.sums = np.zeros((0, dim), np.float64)
        self.counts = np.zeros(0, np.int64)
        self.scatter = np.zeros((dim, dim), np.float64)
        self.confidence_sums = np.zeros(0, np.float64)  # sum of each sample's own-label score, by label
        self.confidence_counts = np.zeros(0, np.int64)

    def _grow(self, classes: int) -> None:
        if classes > len(self.counts):
            more = classes - len(self.counts)
            self.sums = np.vstack([self.sums, np.zeros((more, self.sums.shape[1]))])
            self.counts = np.concatenate([self.counts, np.zeros(more, np.int64)])

    @staticmethod
    def _of(x: Array, labels: Array, classes: int) -> tuple[Array, Array, Array]:
        onehot = np.zeros((len(labels), classes), np.float32)
        onehot[np.arange(len(labels)), labels] = 1.0
        # float32 products of one step (unit rows: no cancellation), accumulated in float64
        return (
            (onehot.T @ x).astype(np.float64),
            np.bincount(labels, minlength=classes),
            (x.T @ x).astype(np.float64),
        )

    def add(self, x: Array, labels: Array) -> None:
        """Count unit samples ``x`` under ``labels``."""
        if not len(labels):
            return
        self._grow(int(labels.max()) + 1)
        sums, counts, scatter = self._of(x, labels, len(self.counts))
        self.sums += sums
        self.counts += counts
        self.scatter += scatter

    def thresholds(self, scores: Array, labels: Array) -> Array:
        """Confident learning's per-class thresholds: the mean own-label score of every sample given
        each label so far, this step's included (``inf`` for a class no sample was given).

        Args:
            scores: (N x C) label scores of the step (probabilities).
            labels: The given labels.
        """
        classes = scores.shape[1]
        if classes > len(self.confidence_counts):
            more = classes - len(self.confidence_counts)
            self.confidence_sums = np.concatenate([self.confidence_sums, np.zeros(more)])
            self.confidence_counts = np.concatenate([self.confidence_counts, np.zeros(more, np.int64)])
        own = scores[np.arange(len(labels)), labels].astype(np.float64)
        self.confidence_sums += np.bincount(labels, weights=own, minlength=len(self.confidence_sums))
        self.confidence_counts += np.bincount(labels, minlength=len(self.confidence_counts))
        counts = self.confidence_counts[:classes]
        return np.where(counts > 0, self.confidence_sums[:classes] / np.maximum(counts, 1), np.inf)

    def prototype_scores(self, x: Array) -> Array:
        """Cosine of each sample to each class prototype (the normalised class mean); ``-inf`` for
        classes not seen yet."""
        norms = np.linalg.norm(self.sums, axis=1, keepdims=True)
        protos = (self.sums / np.maximum(norms, 1e-12)).astype(np.float32)
        scores = x @ protos.T
        scores[:, self.counts == 0] = -np.inf
        return np.asarray(scores)

    def lda_probs_crossfit(self, x: Array, labels: Array, *, shrinkage: float = 0.1) -> Array:
        """Out-of-sample LDA class probabilities of a step: each half (even / odd positions) is scored
        with the statistics so far plus the other half; then the step is added to the statistics.

        Args:
            x: (N x dim) unit samples of the step.
            labels: Their given labels.
            shrinkage: Share of the pooled covariance replaced by its mean variance times the identity.

        Returns:
            (N x C) probabilities, C the classes seen so far or in the step.
        """
        self._grow(int(labels.max()) + 1 if len(labels) else 0)
        classes = len(self.counts)
        probs = np.zeros((len(x), classes), np.float32)
        halves = (np.arange(0, len(x), 2), np.arange(1, len(x), 2))
        stats = [self._of(x[h], labels[h], classes) for h in halves]
        for mine, (sums, counts, scatter) in zip(halves, stats[::-1], strict=True):
            if len(mine):
                probs[mine] = _lda_probs(
                    x[mine], self.sums + sums, self.counts + counts, self.scatter + scatter, shrinkage
                )
        for sums, counts, scatter in stats:
            self.sums += sums
            self.counts += counts
            self.scatter += scatter
        return probs


def _lda_probs(x: Array, sums: Array, counts: Array, scatter: Array, shrinkage: float) -> Array:
    """Posterior class probabilities of a shared-covariance Gaussian with class priors from ``counts``
    (uniform over the classes seen when there are too few samples to estimate a covariance)."""
    seen = counts > 0
    total = int(counts.sum())
    out = np.zeros((len(x), len(counts)), np.float32)
    if not seen.any():
        return out
    means = sums[seen] / counts[seen, None]
    dim = x.shape[1]
    within = scatter - (means * counts[seen, None]).T @ means
    cov = within / max(total - int(seen.sum()), 1)
    # Shrink towards a scaled identity: the covariance of a few hundred samples in 128-d is singular.
    cov = (1 - shrinkage) * cov + shrinkage * (np.trace(cov) / dim + 1e-9) * np.eye(dim)
    coef = cho_solve(cho_factor(cov, check_finite=False), means.T, check_finite=False)  # dim x C'
    bias = np.log(counts[seen] / total) - 0.5 * np.einsum("cd,dc->c", means, coef)
    logits = x @ coef.astype(np.float32) + bias.astype(np.float32)
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    out[:, seen] = p / p.sum(axis=1, keepdims=True)
    return out


class LabelNeighbours:
    """The given labels of every labelled sample seen, in a growing index: the label vote of a
    sample's ``k`` nearest earlier samples (kNN label agreement), out of sample like
    :meth:`ClassStats.lda_probs_crossfit` (earlier steps plus the step's other half).

    Args:
        index: An empty :class:`~bamboo.sdk._ann.OnlineIndex` for the samples.
        k: Neighbours that vote.
    """

    def __init__(self, index: Any, k: int = 10) -> None:
        self.index, self.k = index, k
        self.labels = np.zeros(0, np.int64)

    def probs_crossfit(self, x: Array, labels: Array, classes: int) -> Array:
        """(N x ``classes``) shares of each label among the step's samples' nearest neighbours (rows
        of zeros where there is none yet); then the step joins the index."""
        n, k = len(x), self.k
        prev_sims, prev_ids = self.index.search(x, k)
        known = np.concatenate([self.labels, [-1]])  # position -1 (no neighbour) reads -1
        prev_labels = known[prev_ids]
        within = x @ x.T
        half = np.arange(n) % 2
        within[half[:, None] == half[None, :]] = -np.inf  # self and its own half do not vote
        kw = min(k, n)
        top = np.argpartition(-within, kw - 1, axis=1)[:, :kw] if n else np.zeros((0, 0), np.int64)
        top_sims = np.take_along_axis(within, top, axis=1)
        sims = np.concatenate([prev_sims, top_sims], axis=1)
        cand = np.concatenate([prev_labels, np.where(np.isfinite(top_sims), labels[top], -1)], axis=1)
        best = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        votes = np.take_along_axis(cand, best, axis=1)
        valid = votes >= 0
        probs = np.zeros((n, classes), np.float32)
        rows = np.repeat(np.arange(n), k)[valid.ravel()]
        np.add.at(probs, (rows, votes.ravel()[valid.ravel()]), 1.0)
        probs /= np.maximum(valid.sum(axis=1, keepdims=True), 1)
        self.index.add(x)
        self.labels = np.concatenate([self.labels, labels.astype(np.int64)])
        return probs


class NoiseMixture:
    """A two-component Gaussian mixture over recent label margins, as DivideMix (Li et al. 2020) fits
    one over per-sample losses: the component with the lower mean is the noise, and a sample is noisy
    when its posterior there exceeds one half.

    Fitted with scikit-learn's :class:`~sklearn.mixture.GaussianMixture` on the last ``window``
    margins (this step's included), started from a seeded k-means so that a fit is deterministic;
    refitted every step while the window fills and every ``refit_every`` steps after. The margins,
    their ring position and the fitted parameters are part of the state.

    Args:
        window: Margins kept for the fit.
        refit_every: Steps between fits once the window is full.
    """

    def __init__(self, window: int = 20_000, refit_every: int = 16) -> None:
        self.window, self.refit_every = window, refit_every
        self.history = np.zeros(0, np.float32)  # a ring once full
        self.position = 0
        self.steps_since_fit = 0
        self.params = np.zeros((0, 3), np.float64)  # rows (weight, mean, variance), the noise first

    def noise_posterior(self, margins: Array) -> Array:
        """Push a step's margins, refit when due, and return each one's posterior of the noise
        component (zeros while there are too few margins to fit)."""
        m = np.asarray(margins, np.float64)
        self._push(m.astype(np.float32))
        if (
            not len(self.params)
            or len(self.history) < self.window
            or self.steps_since_fit + 1 >= self.refit_every
        ):
            self._fit()
        else:
            self.steps_since_fit += 1
        if not len(self.params):
            return np.zeros(len(m), np.float64)
        w, mu, var = self.params.T
        log = np.log(w) - 0.5 * (np.log(2 * np.pi * var) + (m[:, None] - mu) ** 2 / var)
        log -= log.max(axis=1, keepdims=True)
        p = np.exp(log)
        return np.asarray(p[:, 0] / p.sum(axis=1))

    def _push(self, margins: Array) -> None:
        margins = margins[np.isfinite(margins)][-self.window :]
        room = self.window - len(self.history)
        if room > 0:
            self.history = np.concatenate([self.history, margins[:room]])
            margins = margins[room:]
        if len(margins):  # the ring is full: overwrite the oldest
            self.history[(self.position + np.arange(len(margins))) % self.window] = margins
            self.position = (self.position + len(margins)) % self.window

    def _fit(self) -> None:
        from sklearn.mixture import GaussianMixture

        self.steps_since_fit = 0
        h = self.history.astype(np.float64)
        if len(h) < 50 or float(h.std()) < 1e-6:
            return
        gm = GaussianMixture(2, reg_covar=1e-4, random_state=0, max_iter=100)  # k-means start
        gm.fit(h[:, None])
        order = np.argsort(gm.means_[:, 0])
        self.params = np.stack(
            [gm.weights_[order], gm.means_[order, 0], gm.covariances_.reshape(-1)[order]], axis=1
        )

    def state(self) -> dict[str, Array]:
        """The arrays that make the mixture's decisions resumable."""
        counters = np.array([self.position, self.steps_since_fit], np.int64)
        return {"mixture_history": self.history, "mixture_params": self.params, "mixture_counters": counters}

    def restore(self, arrays: dict[str, Array]) -> None:
        """Set the state from :meth:`state`'s arrays (absent ones leave a fresh mixture)."""
        if "mixture_history" in arrays:
            self.history = arrays["mixture_history"].astype(np.float32)
            self.params = arrays["mixture_params"].astype(np.float64)
            self.position, self.steps_since_fit = (int(v) for v in arrays["mixture_counters"])
