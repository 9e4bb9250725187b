"""The active-learning loop's side of the verification task store (paper Fig. 3b).

:class:`TaskStoreAnnotator` adds a round's tasks to the shared SQLite store
(:class:`bamboo.graph.tasks.db.TaskStore`, re-exported here) and reads the decisions back; until
every task is decided the loop stops with :class:`AwaitingVotes`.

In an adaptive store (``TaskStore(path, risk=0.05)``, #22) the annotator also writes the machine's
P(yes) of each task (``prior``: the round model with the OOD rectifier, see
:func:`bamboo.sdk.online.verification_prior`) and re-estimates every annotator's skill by Dawid-Skene
EM over all the store's votes (:meth:`TaskStoreAnnotator.refit_skills`), persisted in the store, so a
task takes 0-5 votes and the verification queue gives each annotator the tasks they help most. The
prior is calibrated on the votes of earlier tasks before it is written (a raw round model is
overconfident); until there are votes to calibrate it on, it decides no task alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bamboo.graph.tasks.db import TaskDecision, TaskStore, VerificationTask
from bamboo.sdk.annotate import Awaiting

__all__ = ["AwaitingVotes", "TaskDecision", "TaskStore", "TaskStoreAnnotator", "VerificationTask"]


@dataclass(frozen=True)
class AwaitingVotes(Awaiting):
    """Some of a round's verification tasks are not decided yet; the loop goes on once they are.

    Attributes:
        round_no: The round whose tasks are open.
        open_tasks: How many of them still need votes.
        total: How many tasks the round has.
        db: The task store file the votes go to.
    """

    round_no: int
    open_tasks: int
    total: int
    db: Path

    @classmethod
    def of(cls, round_no: int, open_tasks: int, total: int, db: Path) -> AwaitingVotes:
        """The state with a message that says how many tasks are open and where to answer them."""
        message = (
            f"round {round_no}: {open_tasks} of {total} verification tasks still need votes "
            f"(task store {db}; answer them in the web UI at /ui/verify)"
        )
        return cls(message, round_no, open_tasks, total, db)


@dataclass
class TaskStoreAnnotator:
    """The loop's ``annotate`` step through the task store.

    The round's sampled images become tasks; until every one is decided the annotator answers
    :class:`AwaitingVotes` (the loop stops; run it again later), then each image is valid (its
    query's label) or not (``None``).

    Args:
        store: The task store shared with the service.
        query_label: Query concept -> the class index a valid image of it gets.
        names: Query concept -> the name shown in the question.
        descriptions: Query concept -> the description shown with its tasks.
        prior: ``prior(round, keys, queries)`` -> P(yes) per image, written to an adaptive store.
        calibrate_prior: Calibrate ``prior`` on the votes already in the store (a logistic fit of
            the raw log-odds to the voted tasks' posteriors) rather than trust it as is: a raw round
            model is overconfident and decides wrong tasks with no vote. Until there are votes to
            fit on, the prior decides no task alone. The raw priors are kept
            (``TaskStore.machine_priors``).
    """

    store: TaskStore
    query_label: dict[str, int]
    names: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    prior: Callable[[int, list[str], list[str]], np.ndarray] | None = None
    calibrate_prior: bool = True

    def __call__(
        self, round_no: int, keys: list[str], queries: list[str]
    ) -> list[int | None] | AwaitingVotes:
        """Add the round's tasks (once) and answer from their decisions, or :class:`AwaitingVotes`."""
        self.store.add(round_no, keys, queries, names=self.names, descriptions=self.descriptions)
        if self.store.adaptive:
            if self.prior is not None:
                p_yes = np.asarray(self.prior(round_no, keys, queries), dtype=np.float64)
                ids = {(t.image, t.query): t.id for t in self.store.tasks(round_no)}
                raw = {ids[(k, q)]: float(p) for k, q, p in zip(keys, queries, p_yes.tolist(), strict=True)}
                self.store.set_machine_priors(raw)
                self.store.set_priors(raw if not self.calibrate_prior else self._calibrated(raw))
            self.refit_skills()
        decided = {(t.image, t.query): t.decision for t in self.store.tasks(round_no)}
        pending = sum(decided[(k, q)] is None for k, q in zip(keys, queries, strict=True))
        if pending:
            return AwaitingVotes.of(round_no, pending, len(keys), self.store.path)
        return [self.query_label[q] if decided[(k, q)] else None for k, q in zip(keys, queries, strict=True)]

    def _calibrated(self, raw: dict[int, float], min_tasks: int = 20) -> dict[int, float]:
        """``raw`` through a logistic calibrator of the raw log-odds fitted on the voted tasks'
        posteriors. While fewer than ``min_tasks`` tasks with raw priors have votes (or their
        posteriors all lean one way), the raw prior is kept inside ``[risk, 1 - risk]``: it may order
        the queue but decides no task without a vote."""
        from bamboo.sdk.online import SoftmaxLearner

        machine = self.store.machine_priors()
        voted = [
            t for t in self.store.tasks() if t.yes + t.no > 0 and t.id in machine and t.p_yes is not None
        ]
        posterior = np.array([t.p_yes for t in voted], dtype=np.float64)
        if len(voted) < min_tasks or len(np.unique(posterior >= 0.5)) < 2:
            r = self.store.risk or 0.0
            return {i: min(max(p, r), 1 - r) for i, p in raw.items()}

        def logit(p: np.ndarray) -> np.ndarray:
            p = np.clip(p, 1e-6, 1 - 1e-6)
            return np.log(p / (1 - p))[:, None]

        cal = SoftmaxLearner(l2=1e-3).fit(
            logit(np.array([machine[t.id] for t in voted])), np.stack([1 - posterior, posterior], axis=1)
        )
        ids = list(raw)
        p_yes = cal.predict_proba(logit(np.array([raw[i] for i in ids])))[:, 1]
        return dict(zip(ids, p_yes.tolist(), strict=True))

    def refit_skills(self) -> dict[str, tuple[float, float]]:
        """Re-estimate every annotator's sensitivity and specificity by EM over all the store's
        votes and persist them.

        With ``calibrate_prior`` (the default) the EM sees the votes alone: fitted with an
        overconfident prior as each task's class prior, it explains the votes against the prior by
        reading truthful annotators as liars (seen with a round model sure of coin-flip tasks). With
        ``calibrate_prior=False`` the prior is trusted and used.

        Returns:
            Annotator -> ``(sensitivity, specificity)``.
        """
        from bamboo.sdk.votes import DawidSkene

        votes = self.store.votes()
        if not votes:
            return {}
        tasks = sorted({t for t, _, _ in votes})
        people = sorted({a for _, a, _ in votes})
        t_index = {t: i for i, t in enumerate(tasks)}
        a_index = {a: i for i, a in enumerate(people)}
        priors = self.store.priors()
        p_yes = np.array([priors.get(t, 0.5) for t in tasks])
        trusted = None if self.calibrate_prior else np.stack([1 - p_yes, p_yes], axis=1)
        em = DawidSkene(2).fit(
            np.array([t_index[t] for t, _, _ in votes]),
            np.array([a_index[a] for _, a, _ in votes]),
            np.array([int(v) for _, _, v in votes]),
            len(tasks),
            len(people),
            prior=trusted,
        )
        counts = np.bincount([a_index[a] for _, a, _ in votes], minlength=len(people))
        skills = {
            a: (float(em.confusion_[i, 1, 1]), float(em.confusion_[i, 0, 0]), int(counts[i]))
            for a, i in a_index.items()
        }
        self.store.set_skills(skills)
        return {a: (s, p) for a, (s, p, _) in skills.items()}
