"""The verification task store (paper Fig. 3b): pool images the active-learning loop sends for
annotation, each asked as "Is this a <query>?", answered Yes/No by up to 5 annotators and decided
at 3 of 5 (the same rule as the concept tags), or adaptively (#22).

Adaptive stores (``TaskStore(path, risk=0.05)``; the rule is kept in the file, so the service and
the loop agree) decide a task once its posterior risk ``min(P(yes), P(no))`` is below ``risk`` (or
at 5 votes, by the posterior): P(yes) starts from the machine prior set with :meth:`TaskStore.set_priors`
(0.5 when none) and each vote multiplies in the likelihood of its annotator's estimated skill
(:meth:`TaskStore.set_skills`, fitted by EM on the SDK side). A confident prior decides a task with no
vote at all; :meth:`TaskStore.next` gives an annotator the open tasks their answer helps most.

One SQLite file, shared by the loop (``bamboo.sdk.tasks.TaskStoreAnnotator`` adds a round's tasks and
reads the decisions back) and the service (``/tasks`` endpoints and the web UI's verification screen,
``BAMBOO_TASKS_DB``). Adding a round's tasks twice adds nothing; a re-vote by the same annotator
replaces their vote; a vote on a decided task by a new annotator is refused.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bamboo.errors import TaskNotFound, VoteRejected
from bamboo.graph.taxonomy.tags import MAX_VOTES, VOTES_TO_DECIDE, Tally

__all__ = ["DEFAULT_SKILL", "TaskDecision", "TaskStore", "VerificationTask"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY, round INTEGER NOT NULL, image TEXT NOT NULL, query TEXT NOT NULL,
    query_name TEXT NOT NULL, description TEXT NOT NULL, UNIQUE (round, image));
CREATE TABLE IF NOT EXISTS task_votes (
    task INTEGER NOT NULL REFERENCES tasks(id), annotator TEXT NOT NULL, value INTEGER NOT NULL,
    at TEXT NOT NULL, PRIMARY KEY (task, annotator));
CREATE TABLE IF NOT EXISTS task_priors (task INTEGER PRIMARY KEY REFERENCES tasks(id), p_yes REAL NOT NULL);
CREATE TABLE IF NOT EXISTS task_machine (task INTEGER PRIMARY KEY REFERENCES tasks(id), p_yes REAL NOT NULL);
CREATE TABLE IF NOT EXISTS annotator_skills (
    annotator TEXT PRIMARY KEY, sensitivity REAL NOT NULL, specificity REAL NOT NULL,
    votes INTEGER NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS task_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

#: The skill assumed for an annotator with no estimate yet: right 80 % of the time on either side.
DEFAULT_SKILL = (0.8, 0.8)


@dataclass(frozen=True)
class VerificationTask:
    """One "Is this a <query>?" question about a pool image, with its vote counts.

    Attributes:
        id: The task's id in the store.
        round: The active-learning round that added it.
        image: A local path or an http(s) URL.
        query: The concept id asked about.
        query_name: The concept's display name.
        description: The concept's gloss, shown to annotators.
        yes: Yes votes so far.
        no: No votes so far.
        p_yes: Adaptive stores: the posterior probability of Yes (the machine prior times the votes'
            likelihoods); ``None`` in a 3-of-5 store.
        max_risk: Adaptive stores: the risk below which the task is decided.
    """

    id: int
    round: int
    image: str
    query: str
    query_name: str
    description: str
    yes: int = 0
    no: int = 0
    p_yes: float | None = None
    max_risk: float | None = None

    @property
    def risk(self) -> float | None:
        """Adaptive stores: the probability that the more probable answer is wrong, ``min(P(yes), P(no))``.

        Example:
            >>> round(VerificationTask(1, 0, "a.jpg", "q", "q", "", p_yes=0.9, max_risk=0.05).risk, 3)
            0.1
        """
        return None if self.p_yes is None else min(self.p_yes, 1 - self.p_yes)

    @property
    def decision(self) -> bool | None:
        """3-of-5 stores: True or False once 3 of 5 votes agree. Adaptive stores (``max_risk`` set):
        the more probable answer once the risk is below ``max_risk`` or the task has 5 votes. Else None.

        Example:
            >>> VerificationTask(1, 0, "a.jpg", "q", "q", "", yes=1, p_yes=0.99, max_risk=0.05).decision
            True
        """
        if self.max_risk is None or self.p_yes is None:
            return Tally(self.yes, self.no).value
        if min(self.p_yes, 1 - self.p_yes) < self.max_risk or self.yes + self.no >= MAX_VOTES:
            return self.p_yes >= 0.5
        return None


@dataclass(frozen=True)
class TaskDecision:
    """A task's vote counts and decision right after a vote.

    Attributes:
        task: The task's id.
        yes: Yes votes.
        no: No votes.
        decision: True or False once decided, else None.
        p_yes: Adaptive stores: the posterior probability of Yes after the vote, else ``None``.
        risk: Adaptive stores: ``min(P(yes), P(no))`` after the vote, else ``None``.
    """

    task: int
    yes: int
    no: int
    decision: bool | None
    p_yes: float | None = None
    risk: float | None = None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


_SELECT = """
SELECT t.id, t.round, t.image, t.query, t.query_name, t.description,
       coalesce(sum(v.value), 0) AS yes, count(v.value) - coalesce(sum(v.value), 0) AS no
FROM tasks t LEFT JOIN task_votes v ON v.task = t.id
"""


class TaskStore:
    """The verification tasks and their votes in one SQLite file (WAL, safe across processes).

    Args:
        path: The SQLite file; it and its folder are created when missing.
        risk: Make the store adaptive with this risk threshold (kept in the file); ``None`` keeps the
            file's rule (3 of 5 for a new file).
    """

    def __init__(self, path: str | Path, *, risk: float | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if risk is not None and not 0 < risk < 0.5:
            raise ValueError(f"risk must be between 0 and 0.5 (got {risk})")
        with closing(self._connect()) as db:
            db.executescript(_SCHEMA)
            if risk is not None:
                db.execute("INSERT OR REPLACE INTO task_meta VALUES ('risk', ?)", (repr(risk),))
            row = db.execute("SELECT value FROM task_meta WHERE key = 'risk'").fetchone()
        self.risk: float | None = None if row is None else float(row[0])

    @property
    def adaptive(self) -> bool:
        """Whether tasks are decided by posterior risk rather than 3 of 5."""
        return self.risk is not None

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def add(
        self,
        round_no: int,
        images: Sequence[str],
        queries: Sequence[str],
        *,
        names: dict[str, str] | None = None,
        descriptions: dict[str, str] | None = None,
    ) -> int:
        """Add one task per (image, query concept) of a round; tasks already there are kept.

        Args:
            round_no: The active-learning round.
            images: One image (path or URL) per task.
            queries: The concept id asked about, one per image.
            names: Display names by concept id (the id when missing).
            descriptions: Glosses by concept id (empty when missing).

        Returns:
            How many tasks were new.
        """
        rows = [
            (round_no, image, q, (names or {}).get(q, q), (descriptions or {}).get(q, ""))
            for image, q in zip(images, queries, strict=True)
        ]
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            before = db.execute("SELECT count(*) FROM tasks").fetchone()[0]
            db.executemany(
                "INSERT OR IGNORE INTO tasks (round, image, query, query_name, description) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            after = db.execute("SELECT count(*) FROM tasks").fetchone()[0]
            db.execute("COMMIT")
        return int(after - before)

    def _rows(
        self, where: str = "", params: Sequence[Any] = (), tail: str = "", tail_params: Sequence[Any] = ()
    ) -> list[VerificationTask]:
        with closing(self._connect()) as db:
            rows = db.execute(f"{_SELECT} {where} GROUP BY t.id {tail}", (*params, *tail_params)).fetchall()
            if not self.adaptive or not rows:
                return [VerificationTask(*row) for row in rows]
            posterior = self._posteriors(db, [row[0] for row in rows])
        return [replace(VerificationTask(*row), p_yes=posterior[row[0]], max_risk=self.risk) for row in rows]

    def _posteriors(self, db: sqlite3.Connection, ids: Sequence[int]) -> dict[int, float]:
        """P(yes) per task: its prior times its votes' likelihoods under the annotators' skills."""
        skills = self._skills(db)
        log_odds: dict[int, float] = {}
        for lo in range(0, len(ids), 500):
            chunk = list(ids[lo : lo + 500])
            marks = ",".join("?" * len(chunk))
            priors = dict(db.execute(f"SELECT task, p_yes FROM task_priors WHERE task IN ({marks})", chunk))
            for t in chunk:
                p = min(max(priors.get(t, 0.5), 1e-6), 1 - 1e-6)
                log_odds[t] = math.log(p / (1 - p))
            for t, who, value in db.execute(
                f"SELECT task, annotator, value FROM task_votes WHERE task IN ({marks})", chunk
            ):
                sens, spec = skills.get(who, DEFAULT_SKILL)
                log_odds[t] += math.log(sens / (1 - spec)) if value else math.log((1 - sens) / spec)
        return {t: 1 / (1 + math.exp(-min(max(v, -50.0), 50.0))) for t, v in log_odds.items()}

    @staticmethod
    def _skills(db: sqlite3.Connection) -> dict[str, tuple[float, float]]:
        return {
            a: (min(max(s, 0.01), 0.99), min(max(p, 0.01), 0.99))
            for a, s, p in db.execute("SELECT annotator, sensitivity, specificity FROM annotator_skills")
        }

    # task_priors and task_machine hold the same columns: a task id and a probability.
    def _write_probs(self, table: str, probs: dict[int, float]) -> None:
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", list(probs.items()))
            db.execute("COMMIT")

    def _read_probs(self, table: str) -> dict[int, float]:
        with closing(self._connect()) as db:
            return {int(t): float(p) for t, p in db.execute(f"SELECT task, p_yes FROM {table}")}

    def set_priors(self, priors: dict[int, float]) -> None:
        """Set the machine's P(yes) of tasks by id (the round model with the rectifier)."""
        self._write_probs("task_priors", priors)

    def priors(self) -> dict[int, float]:
        """Every task's machine P(yes) that has one, by task id."""
        return self._read_probs("task_priors")

    def set_machine_priors(self, priors: dict[int, float]) -> None:
        """Keep the round model's raw P(yes) of tasks by id, before calibration (see
        ``TaskStoreAnnotator.calibrate``); the posterior uses :meth:`priors`, not these."""
        self._write_probs("task_machine", priors)

    def machine_priors(self) -> dict[int, float]:
        """Every task's raw machine P(yes) kept with :meth:`set_machine_priors`, by task id."""
        return self._read_probs("task_machine")

    def set_skills(self, skills: dict[str, tuple[float, float, int]]) -> None:
        """Persist annotators' estimated ``(sensitivity, specificity, votes)``: P(Yes | yes),
        P(No | no) and the votes the estimate rests on."""
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "INSERT OR REPLACE INTO annotator_skills VALUES (?, ?, ?, ?, ?)",
                [(a, float(s), float(p), int(n), _now()) for a, (s, p, n) in skills.items()],
            )
            db.execute("COMMIT")

    def skills(self) -> dict[str, tuple[float, float]]:
        """Every annotator's persisted ``(sensitivity, specificity)``."""
        with closing(self._connect()) as db:
            return self._skills(db)

    def votes(self) -> list[tuple[int, str, bool]]:
        """Every current vote ``(task, annotator, value)`` (for re-estimating skills)."""
        with closing(self._connect()) as db:
            return [
                (int(t), str(a), bool(v))
                for t, a, v in db.execute("SELECT task, annotator, value FROM task_votes ORDER BY task")
            ]

    def task(self, task_id: int) -> VerificationTask:
        """The task with this id.

        Raises:
            TaskNotFound: no such task.
        """
        rows = self._rows("WHERE t.id = ?", (task_id,))
        if not rows:
            raise TaskNotFound(task_id)
        return rows[0]

    def tasks(self, round_no: int | None = None) -> list[VerificationTask]:
        """Every task in id order, or only those of ``round_no``."""
        if round_no is None:
            return self._rows(tail="ORDER BY t.id")
        return self._rows("WHERE t.round = ?", (round_no,), "ORDER BY t.id")

    def next(
        self, annotator: str | None = None, limit: int = 1, *, min_gain: float = 0.01
    ) -> list[VerificationTask]:
        """Undecided tasks this annotator has not answered: started ones first, then oldest.

        Filtered and ordered in SQLite: this is what every verification screen asks, on stores of
        any size. In an adaptive store, the open tasks are ordered by how much this annotator's
        answer is expected to lower their risk (from the annotator's estimated skill), and an
        annotator whose answer would lower it by less than ``min_gain`` (a spammer) gets none.

        Args:
            annotator: Whose answered tasks to skip (none when ``None``).
            limit: At most this many tasks.
            min_gain: Adaptive stores: the least expected risk reduction worth asking for.
        """
        if self.adaptive:
            return self._next_adaptive(annotator, limit, min_gain)
        return self._rows(
            "WHERE t.id NOT IN (SELECT task FROM task_votes WHERE annotator = ?)",
            (annotator or "",),
            "HAVING yes < ? AND no < ? AND yes + no < ? ORDER BY yes + no DESC, t.id LIMIT ?",
            (VOTES_TO_DECIDE, VOTES_TO_DECIDE, MAX_VOTES, limit),
        )

    def _next_adaptive(self, annotator: str | None, limit: int, min_gain: float) -> list[VerificationTask]:
        open_ = [
            t
            for t in self._rows(
                "WHERE t.id NOT IN (SELECT task FROM task_votes WHERE annotator = ?)",
                (annotator or "",),
                "HAVING yes + no < ? ORDER BY t.id",
                (MAX_VOTES,),
            )
            if t.decision is None
        ]
        sens, spec = self.skills().get(annotator or "", DEFAULT_SKILL)

        def gain(t: VerificationTask) -> float:
            p = t.p_yes if t.p_yes is not None else 0.5
            after = 1 - max(p * sens, (1 - p) * (1 - spec)) - max(p * (1 - sens), (1 - p) * spec)
            return min(p, 1 - p) - after

        ranked = sorted(
            ((gain(t), -(t.yes + t.no), t.id, t) for t in open_), key=lambda g: g[:3], reverse=True
        )
        return [t for g, _, _, t in ranked if g >= min_gain][:limit]

    def vote(self, task_id: int, annotator: str, value: bool) -> TaskDecision:
        """Record (or replace) ``annotator``'s answer.

        Args:
            task_id: The task voted on.
            annotator: Who votes.
            value: Yes (True) or No (False).

        Returns:
            The task's counts and decision after the vote.

        Raises:
            TaskNotFound: no such task.
            VoteRejected: the task is decided, or has its 5 votes, and this annotator has not voted on it.
        """
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT coalesce(sum(value), 0), count(value), "
                    "coalesce(sum(annotator = ?), 0) FROM task_votes WHERE task = ?",
                    (annotator, task_id),
                ).fetchone()
                if db.execute("SELECT 1 FROM tasks WHERE id = ?", (task_id,)).fetchone() is None:
                    raise TaskNotFound(task_id)
                yes, total, mine = int(row[0]), int(row[1]), int(row[2])
                if self.adaptive:
                    p = self._posteriors(db, [task_id])[task_id]
                    decided = VerificationTask(
                        task_id, 0, "", "", "", "", yes, total - yes, p, self.risk
                    ).decision
                    closed = decided is not None
                else:
                    closed = not Tally(yes, total - yes).open
                if not mine and closed:
                    raise VoteRejected(f"task {task_id} is already decided ({yes} yes, {total - yes} no)")
                db.execute(
                    "INSERT OR REPLACE INTO task_votes VALUES (?, ?, ?, ?)",
                    (task_id, annotator, int(value), _now()),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        t = self.task(task_id)
        return TaskDecision(t.id, t.yes, t.no, t.decision, t.p_yes, t.risk)

    def progress(self, round_no: int | None = None) -> dict[str, int]:
        """Counts of ``tasks``, ``decided``, ``valid`` (decided Yes) and ``votes``, for one round or all."""
        tasks = self.tasks(round_no)
        return {
            "tasks": len(tasks),
            "decided": sum(t.decision is not None for t in tasks),
            "valid": sum(t.decision is True for t in tasks),
            "votes": sum(t.yes + t.no for t in tasks),
        }

    def references(self, query: str, limit: int = 4) -> list[VerificationTask]:
        """Images already verified as showing ``query`` (reference images for annotators)."""
        rows = self._rows("WHERE t.query = ?", (query,), "ORDER BY t.id")
        return [t for t in rows if t.decision is True][:limit]
