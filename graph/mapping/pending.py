"""Re-place the new dataset concepts import flagged for review (``bamboo link datasets``).

Import places every new concept at once (:mod:`bamboo.graph.mapping.datasets`); the ones it placed on weak
evidence (the dataset's domain, the root, a close head-noun sense) carry ``review = "check"``.
Each is linked by its name with the combined policy (head-noun parsing, then sentence
embeddings), scoped to its current parent unless that is the root. A sure link scored above the
current placement moves the concept (``IS_A {kind: "placement", method: "link-<strategy>",
score, evidence}``, ``review = "linked"``); an unsure one is recorded as ``proposed_parent/_by/
_score/_evidence`` for a person (``bamboo review``). Re-running gives the same result; a later
``bamboo build`` keeps a placement scored higher than its own.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bamboo.errors import InvariantViolation
from bamboo.graph.link.embed import Embedder, SynsetIndex
from bamboo.graph.link.head import HeadLinker
from bamboo.graph.link.lexicon import Lexicon
from bamboo.graph.link.policy import LinkPolicy, Query
from bamboo.graph.mapping.senses import PHYSICAL_OBJECT
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.invariants import GraphContents, check_invariants
from bamboo.graph.taxonomy.model import ENTITY_ID

__all__ = ["PendingReport", "link_pending"]


@dataclass(frozen=True)
class PendingReport:
    """``pending`` (flagged concepts examined) ``== placed + proposed + unresolved``."""

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
    """Link the concepts flagged for review (of ``datasets``, default all) and write the result in
    one transaction. ``candidates`` restricts the embedding search (default: every WordNet synset with
    hyponyms, about 16K, whose vectors are cached in ``cache_dir``).

    Raises:
        InvariantViolation: the placements would break the graph's invariants (nothing written).
    """
    started = time.perf_counter()
    rows = [
        asdict(r)
        for r in store.review_items(limit=10_000_000).placements
        if datasets is None or set(r.datasets or ()) & datasets
    ]
    concepts, edges = store.all_concepts(), store.all_is_a()
    lex = Lexicon(concepts, edges)
    log(f"{len(rows)} concepts flagged for review; {len(lex.concepts)} WordNet concepts")
    index = None
    if embed and rows:
        pool = candidates if candidates is not None else [c for c in lex.concepts if lex.children.get(c)]
        index = SynsetIndex(lex, embedder or Embedder(), pool, cache_dir)
    policy = LinkPolicy(HeadLinker(lex, nlp), index)
    roots = {ENTITY_ID, PHYSICAL_OBJECT}
    queries = [
        Query(
            str(r["name"] or r["id"]),
            scope=r["parent"] if r["parent"] in lex.concepts and r["parent"] not in roots else None,
        )
        for r in rows
    ]
    decisions = policy.decide_many(queries)
    placed: list[dict[str, Any]] = []
    props: list[dict[str, Any]] = []
    proposed = 0
    for r, d in zip(rows, decisions, strict=True):
        if d.link is None or d.link.concept == r["parent"]:
            continue
        link = {
            "id": r["id"],
            "parent": d.link.concept,
            "method": f"link-{d.link.method}",
            "score": d.link.score,
            "evidence": d.link.evidence,
            "source": "bamboo-link",
        }
        if not d.review and d.link.score > (r["score"] or 0.0):
            placed.append(link)
            alternatives = [r["parent"], *[a for a in r["alternatives"] or () if a != d.link.concept]]
            props.append(
                {
                    "id": r["id"],
                    "props": {
                        "review": "linked",
                        "placed_by": link["method"],
                        "alternatives": alternatives[:3],
                    },
                }
            )
        else:
            proposed += 1
            props.append(
                {
                    "id": r["id"],
                    "props": {
                        "proposed_parent": link["parent"],
                        "proposed_by": link["method"],
                        "proposed_score": link["score"],
                        "proposed_evidence": link["evidence"],
                    },
                }
            )
    moved = {p["id"]: p["parent"] for p in placed}
    after = [e for e in edges if e["child"] not in moved]
    after += [{"child": c, "parent": p} for c, p in moved.items()]
    report = check_invariants(GraphContents(concepts=concepts, edges=after))
    if not report.ok:  # nothing written
        raise InvariantViolation(f"linking the flagged concepts would break the graph: {report.describe()}")
    store.place_concepts(placed, props, why="link")
    return PendingReport(
        pending=len(rows),
        placed=len(placed),
        proposed=proposed,
        unresolved=len(rows) - len(placed) - proposed,
        by_method=dict(Counter(p["method"] for p in placed)),
        seconds=round(time.perf_counter() - started, 1),
    )
