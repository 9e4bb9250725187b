"""``build_wordnet``: write the WordNet backbone into the graph, idempotently.

An empty store takes the bulk path (:meth:`GraphStore.bulk_create`: ``CREATE`` in large batches);
a store that holds concepts (a rebuild, or a build killed half-way) gets idempotent upserts (``MERGE``
in batched ``UNWIND`` transactions), so a killed build is finished by simply running it again, and
running it twice leaves the same graph (the bulk path writes the same content). The build state
(``running`` / ``complete``) is kept on a ``:Meta`` node so that ``stats`` can tell a half-built
graph from a finished one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bamboo.errors import InvariantViolation
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.invariants import InvariantReport, check_invariants, content_hash, read_contents
from bamboo.graph.taxonomy.wordnet import WordNetNouns

__all__ = ["BuildReport", "build_wordnet"]

#: Called with (stage, done_in_this_call, total_of_stage).
BuildProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BuildReport:
    """What :func:`build_wordnet` wrote, how long it took, and the invariant check of the result."""

    concepts: int
    edges: int
    seconds: float
    invariants: InvariantReport
    content_hash: str


def build_wordnet(
    store: GraphStore,
    nouns: WordNetNouns,
    *,
    batch_size: int = 5000,
    progress: BuildProgress | None = None,
    check: bool = True,
) -> BuildReport:
    """Write WordNet nouns and their IS_A edges, then check the invariants.

    Raises:
        InvariantViolation: the finished graph is not a rooted DAG with unique ids (the build
            state stays ``running`` so the problem is visible in ``bamboo stats``).
    """
    start = time.perf_counter()
    store.ensure_schema()
    store.set_meta("build.status", "running")

    def stage(name: str, total: int) -> Callable[[int], None] | None:
        if progress is None:
            return None
        return lambda n: progress(name, n, total)

    if store.count_concepts() == 0:  # a fresh store: the bulk path (CREATE, large batches)
        store.bulk_create(nouns.concepts, nouns.edges, progress=progress)
    else:  # a rebuild, or a resumed one: idempotent upserts
        store.upsert_concepts(
            nouns.concepts, batch_size=batch_size, progress=stage("concepts", len(nouns.concepts))
        )
        store.upsert_is_a(nouns.edges, batch_size=batch_size, progress=stage("edges", len(nouns.edges)))
    contents = read_contents(store)
    report = check_invariants(contents) if check else InvariantReport(True, True, True)
    if not report.ok:
        raise InvariantViolation(f"the graph breaks its invariants after the build: {report.describe()}")
    digest = content_hash(contents)
    store.set_meta("build.wordnet", "3.0")
    store.set_meta("build.content_hash", digest)
    store.set_meta("graph.version", digest)
    store.set_meta("build.status", "complete")
    return BuildReport(
        concepts=len(contents.concepts),
        edges=len(contents.edges),
        seconds=time.perf_counter() - start,
        invariants=report,
        content_hash=digest,
    )
