"""Serialising the store's rule-checked writes: in-process locks by key, and the conflict retry.

A write that checks a rule before it writes (the vote cap, an acyclic IS_A graph) is safe only if
no other write of the same kind runs between its check and its commit. Inside one process,
:class:`KeyedLocks` queues such writes by key. Across processes, the transaction first writes a
guard record of the same key (``cypher.CLAIM_GUARDS``): of two transactions that overlap, the graph
database commits one and answers the other with a write conflict, which :func:`retry_delays` paces
the retries of.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from neo4j.exceptions import Neo4jError, TransientError

__all__ = ["KeyedLocks", "is_conflict", "retry_delays"]


class KeyedLocks:
    """One lock per key, made on first use and dropped once nobody holds or waits for it.

    Example:
        >>> locks = KeyedLocks()
        >>> with locks.hold("vote:wn:n02084071:visual"):
        ...     pass
        >>> len(locks)
        0
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    def __len__(self) -> int:
        """Keys held or waited for now."""
        with self._mutex:
            return len(self._locks)

    @contextmanager
    def hold(self, *keys: str) -> Iterator[None]:
        """Hold the locks of ``keys`` (in sorted order, so two holders of overlapping keys cannot
        deadlock) for the ``with`` block."""
        ordered = sorted(set(keys))
        locks = [self._enter(key) for key in ordered]
        taken: list[threading.Lock] = []
        try:
            for lock in locks:
                lock.acquire()
                taken.append(lock)
            yield
        finally:
            for lock in reversed(taken):
                lock.release()
            for key in ordered:
                self._leave(key)

    def _enter(self, key: str) -> threading.Lock:
        with self._mutex:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
            return lock

    def _leave(self, key: str) -> None:
        with self._mutex:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


def is_conflict(exc: Neo4jError) -> bool:
    """Whether a failed write lost a race and may simply be retried: a transient error (ArcadeDB
    answers a concurrent change of the same record so), or a unique key that a concurrent
    ``MERGE`` created first (the retry's ``MERGE`` finds it)."""
    return isinstance(exc, TransientError) or (exc.code or "").endswith("ConstraintValidationFailed")


def retry_delays(attempts: int, *, first_s: float = 0.01, most_s: float = 0.5) -> Iterator[float]:
    """The waits before each retry: doubling from ``first_s`` up to ``most_s``, each with full
    jitter so that writers who lost the same race do not meet again; ``attempts - 1`` of them.

    >>> delays = list(retry_delays(4, first_s=0.1, most_s=0.3))
    >>> len(delays), all(0 <= d <= 0.3 for d in delays)
    (3, True)
    """
    for n in range(attempts - 1):
        yield random.uniform(0, min(most_s, first_s * 2**n))
