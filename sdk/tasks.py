"""The active-learning loop's side of the verification task store (paper Fig. 3b).

:class:`TaskStoreAnnotator` adds a round's tasks to the shared SQLite store
(:class:`bamboo.graph.tasks.TaskStore`, re-exported here) and reads the decisions back; until
every task is decided the loop stops with :class:`AwaitingVotes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bamboo.errors import BambooError
from bamboo.graph.tasks import TaskDecision, TaskStore, VerificationTask
from bamboo.sdk.labelstudio import AwaitingAnnotations

__all__ = ["AwaitingVotes", "TaskDecision", "TaskStore", "TaskStoreAnnotator", "VerificationTask"]


class AwaitingVotes(AwaitingAnnotations):
    """Some of a round's verification tasks are not decided yet; the loop goes on once they are."""

    def __init__(self, round_no: int, open_tasks: int, total: int, db: Path) -> None:
        # not AwaitingAnnotations.__init__ (Label Studio's file pair): the task store is the one place
        BambooError.__init__(
            self,
            f"round {round_no}: {open_tasks} of {total} verification tasks still need votes "
            f"(task store {db}; answer them in the web UI at /ui/verify)",
        )
        self.tasks = self.export = db
        self.round_no, self.open_tasks, self.total = round_no, open_tasks, total


@dataclass
class TaskStoreAnnotator:
    """The loop's ``annotate`` step through the task store: the round's sampled images become tasks;
    until every one is decided the loop stops with :class:`AwaitingVotes` (re-run it later), then
    each image is valid (its query's label) or not (``None``)."""

    store: TaskStore
    query_label: dict[str, int]
    names: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)

    def __call__(self, round_no: int, keys: list[str], queries: list[str]) -> list[int | None]:
        self.store.add(round_no, keys, queries, names=self.names, descriptions=self.descriptions)
        decided = {(t.image, t.query): t.decision for t in self.store.tasks(round_no)}
        pending = sum(decided[(k, q)] is None for k, q in zip(keys, queries, strict=True))
        if pending:
            raise AwaitingVotes(round_no, pending, len(keys), self.store.path)
        return [self.query_label[q] if decided[(k, q)] else None for k, q in zip(keys, queries, strict=True)]
