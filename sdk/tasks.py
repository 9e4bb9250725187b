"""The verification task store (paper Fig. 3b): pool images the active-learning loop sends for
annotation, each asked as "Is this a <query>?", answered Yes/No by up to 5 annotators and decided
at 3 of 5 (the same rule as the concept tags).

One SQLite file, shared by the loop (:class:`TaskStoreAnnotator` adds a round's tasks and reads
the decisions back) and the service (``/tasks`` endpoints and the web UI's verification screen,
``BAMBOO_TASKS_DB``). Adding a round's tasks twice adds nothing; a re-vote by the same annotator
replaces their vote; a vote on a decided task by a new annotator is refused.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bamboo.errors import TaskNotFound, VoteRejected
from bamboo.graph.tags import MAX_VOTES, VOTES_TO_DECIDE, decide
from bamboo.sdk.annotate import Awaiting

__all__ = ["AwaitingVotes", "TaskDecision", "TaskStore", "TaskStoreAnnotator", "VerificationTask"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY, round INTEGER NOT NULL, image TEXT NOT NULL, query TEXT NOT NULL,
    query_name TEXT NOT NULL, description TEXT NOT NULL, UNIQUE (round, image));
CREATE TABLE IF NOT EXISTS task_votes (
    task INTEGER NOT NULL REFERENCES tasks(id), annotator TEXT NOT NULL, value INTEGER NOT NULL,
    at TEXT NOT NULL, PRIMARY KEY (task, annotator));
"""


@dataclass(frozen=True)
class VerificationTask:
    id: int
    round: int
    image: str  # a local path or an http(s) URL
    query: str  # concept id
    query_name: str
    description: str
    yes: int = 0
    no: int = 0

    @property
    def decision(self) -> bool | None:
        return decide(self.yes, self.no)


@dataclass(frozen=True)
class TaskDecision:
    task: int
    yes: int
    no: int
    decision: bool | None


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


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


_SELECT = """
SELECT t.id, t.round, t.image, t.query, t.query_name, t.description,
       coalesce(sum(v.value), 0) AS yes, count(v.value) - coalesce(sum(v.value), 0) AS no
FROM tasks t LEFT JOIN task_votes v ON v.task = t.id
"""


class TaskStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db:
            db.executescript(_SCHEMA)

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
        """Add one task per (image, query concept) of ``round_no``; returns how many were new."""
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
        return [VerificationTask(*row) for row in rows]

    def task(self, task_id: int) -> VerificationTask:
        """Raises: TaskNotFound."""
        rows = self._rows("WHERE t.id = ?", (task_id,))
        if not rows:
            raise TaskNotFound(task_id)
        return rows[0]

    def tasks(self, round_no: int | None = None) -> list[VerificationTask]:
        if round_no is None:
            return self._rows(tail="ORDER BY t.id")
        return self._rows("WHERE t.round = ?", (round_no,), "ORDER BY t.id")

    def next(self, annotator: str | None = None, limit: int = 1) -> list[VerificationTask]:
        """Undecided tasks this annotator has not answered: started ones first, then oldest (filtered
        and ordered in SQLite: this is what every verification screen asks, on stores of any size)."""
        return self._rows(
            "WHERE t.id NOT IN (SELECT task FROM task_votes WHERE annotator = ?)",
            (annotator or "",),
            "HAVING yes < ? AND no < ? AND yes + no < ? ORDER BY yes + no DESC, t.id LIMIT ?",
            (VOTES_TO_DECIDE, VOTES_TO_DECIDE, MAX_VOTES, limit),
        )

    def vote(self, task_id: int, annotator: str, value: bool) -> TaskDecision:
        """Record (or replace) ``annotator``'s answer.

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
                if not mine and (decide(yes, total - yes) is not None or total >= MAX_VOTES):
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
        return TaskDecision(t.id, t.yes, t.no, t.decision)

    def progress(self, round_no: int | None = None) -> dict[str, int]:
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
    """

    store: TaskStore
    query_label: dict[str, int]
    names: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)

    def __call__(
        self, round_no: int, keys: list[str], queries: list[str]
    ) -> list[int | None] | AwaitingVotes:
        """Add the round's tasks (once) and answer from their decisions, or :class:`AwaitingVotes`."""
        self.store.add(round_no, keys, queries, names=self.names, descriptions=self.descriptions)
        decided = {(t.image, t.query): t.decision for t in self.store.tasks(round_no)}
        pending = sum(decided[(k, q)] is None for k, q in zip(keys, queries, strict=True))
        if pending:
            return AwaitingVotes.of(round_no, pending, len(keys), self.store.path)
        return [self.query_label[q] if decided[(k, q)] else None for k, q in zip(keys, queries, strict=True)]
