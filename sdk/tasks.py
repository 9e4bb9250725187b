"""The active-learning loop's side of the verification task store (paper Fig. 3b).

:class:`TaskStoreAnnotator` adds a round's tasks to the shared SQLite store
(:class:`bamboo.graph.tasks.TaskStore`, re-exported here) and reads the decisions back; until
every task is decided the loop stops with :class:`AwaitingVotes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bamboo.graph.tasks import TaskDecision, TaskStore, VerificationTask
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
