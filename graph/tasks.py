"""The verification task store (paper Fig. 3b): pool images the active-learning loop sends for
annotation, each asked as "Is this a <query>?", answered Yes/No by up to 5 annotators and decided
at 3 of 5 (the same rule as the concept tags).

One SQLite file, shared by the loop (``bamboo.sdk.tasks.TaskStoreAnnotator`` adds a round's tasks and
reads the decisions back) and the service (``/tasks`` endpoints and the web UI's verification screen,
``BAMBOO_TASKS_DB``). Adding a round's tasks twice adds nothing; a re-vote by the same annotator
replaces their vote; a vote on a decided task by a new annotator is refused.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bamboo.errors import TaskNotFound, VoteRejected
from bamboo.graph.tags import MAX_VOTES, VOTES_TO_DECIDE, Tally

__all__ = ["TaskDecision", "TaskStore", "VerificationTask"]

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
    """

    id: int
    round: int
    image: str
    query: str
    query_name: str
    description: str
    yes: int = 0
    no: int = 0

    @property
    def decision(self) -> bool | None:
        """True or False once 3 of 5 votes agree, else None."""
        return Tally(self.yes, self.no).value


@dataclass(frozen=True)
class TaskDecision:
    """A task's vote counts and decision right after a vote.

    Attributes:
        task: The task's id.
        yes: Yes votes.
        no: No votes.
        decision: True or False once decided, else None.
    """

    task: int
    yes: int
    no: int
    decision: bool | None


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
    """

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
        return [VerificationTask(*row) for row in rows]

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

    def next(self, annotator: str | None = None, limit: int = 1) -> list[VerificationTask]:
        """Undecided tasks this annotator has not answered: started ones first, then oldest.

        Filtered and ordered in SQLite: this is what every verification screen asks, on stores of
        any size.

        Args:
            annotator: Whose answered tasks to skip (none when ``None``).
            limit: At most this many tasks.
        """
        return self._rows(
            "WHERE t.id NOT IN (SELECT task FROM task_votes WHERE annotator = ?)",
            (annotator or "",),
            "HAVING yes < ? AND no < ? AND yes + no < ? ORDER BY yes + no DESC, t.id LIMIT ?",
            (VOTES_TO_DECIDE, VOTES_TO_DECIDE, MAX_VOTES, limit),
        )

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
                if not mine and not Tally(yes, total - yes).open:
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
