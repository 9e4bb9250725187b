"""Place the dataset classes that import left pending (``bamboo link datasets``).

Every concept under ``bamboo:pending`` is linked by its name with the combined policy, scoped to
its ``suggested_parent`` (the dataset's parent class or domain) when it has one. A sure decision
moves the concept under its parent (``IS_A {kind: "link", source: "bamboo-link", method, score,
evidence}``, ``review = "linked"``) and its dataset classes record ``method = "link-<strategy>"``;
an unsure one stays pending with ``proposed_parent/_by/_score/_evidence`` for a person to accept.
Re-running links only what is still pending and writes the same proposals again; a later
``bamboo build`` keeps the placements (see :func:`bamboo.graph.datasets.import_label_set`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bamboo.errors import InvariantViolation
from bamboo.graph.datasets import PENDING_ID
from bamboo.graph.invariants import GraphContents, check_invariants
from bamboo.graph.link.embed import Embedder, SynsetIndex
from bamboo.graph.link.head import HeadLinker
from bamboo.graph.link.lexicon import Lexicon
from bamboo.graph.link.policy import LinkPolicy, Query
from bamboo.graph.store import GraphStore

__all__ = ["PendingReport", "link_pending"]


@dataclass(frozen=True)
class PendingReport:
    """``pending == placed + proposed + unresolved``."""

    pending: int
    placed: int
    proposed: int
    unresolved: int
    by_method: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def link_pending(
    store: GraphStore,
    *,
    datasets: set[str] | None = None,
    embedder: Embedder | None = None,
    embed: bool = True,
    candidates: Sequence[str] | None = None,
    nlp: Any | None = None,
    cache_dir: Path | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> PendingReport:
    """Link the pending concepts (of ``datasets``, default all) and write the result in one
    transaction. ``candidates`` restricts the embedding search (default: every WordNet synset with
    hyponyms, about 16K, whose vectors are cached in ``cache_dir``).

    Raises:
        InvariantViolation: the placements would break the graph's invariants (nothing written).
    """
    started = time.perf_counter()
    rows = [r for r in store.pending_concepts(PENDING_ID) if datasets is None or r["dataset"] in datasets]
    concepts, edges = store.all_concepts(), store.all_is_a()
    lex = Lexicon(concepts, edges)
    log(f"{len(rows)} pending concepts; {len(lex.concepts)} WordNet concepts")
    index = None
    if embed and rows:
        pool = candidates if candidates is not None else [c for c in lex.concepts if lex.children.get(c)]
        index = SynsetIndex(lex, embedder or Embedder(), pool, cache_dir)
    policy = LinkPolicy(HeadLinker(lex, nlp), index)
    queries = [
        Query(
            str(r["name"] or r["id"]),
            scope=r["suggested_parent"] if r["suggested_parent"] in lex.concepts else None,
        )
        for r in rows
    ]
    decisions = policy.decide_many(queries)
    placed: list[dict[str, Any]] = []
    proposed: list[dict[str, Any]] = []
    for r, d in zip(rows, decisions, strict=True):
        if d.link is None:
            continue
        link = {
            "id": r["id"],
            "parent": d.link.concept,
            "method": f"link-{d.link.method}",
            "score": d.link.score,
            "evidence": d.link.evidence,
        }
        (proposed if d.review else placed).append(link)
    moved = {p["id"] for p in placed}
    after = [e for e in edges if not (e["child"] in moved and e["parent"] == PENDING_ID)]
    after += [{"child": p["id"], "parent": p["parent"]} for p in placed]
    report = check_invariants(GraphContents(concepts=concepts, edges=after))
    if not report.ok:  # nothing written
        raise InvariantViolation(f"linking the pending concepts would break the graph: {report.describe()}")
    store.place_pending(PENDING_ID, placed=placed, proposed=proposed)
    return PendingReport(
        pending=len(rows),
        placed=len(placed),
        proposed=len(proposed),
        unresolved=len(rows) - len(placed) - len(proposed),
        by_method=dict(Counter(p["method"] for p in placed)),
        seconds=round(time.perf_counter() - started, 1),
    )
