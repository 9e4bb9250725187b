"""``graph_stats``: counts, invariants and the content hash of the label system (``bamboo stats``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.invariants import InvariantReport, check_invariants, content_hash, read_contents
from bamboo.graph.taxonomy.model import ENTITY_ID

__all__ = ["GraphStats", "by_key", "graph_stats", "invariants_summary", "under_entity"]


def by_key(rows: Iterable[Mapping[str, Any]], key: str) -> dict[str, int]:
    """How many rows have each value of ``key`` (missing values count as ``"None"``), sorted by value.

    >>> by_key([{"source": "wordnet"}, {"source": "wordnet"}, {}], "source")
    {'None': 1, 'wordnet': 2}
    """
    counts: dict[str, int] = {}
    for row in rows:
        value = str(row.get(key))
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def invariants_summary(report: InvariantReport) -> dict[str, Any]:
    """The invariant check as plain values: ``ok``, ``acyclic``, ``rooted``, ``unique_ids``, ``detail``."""
    return {
        "ok": report.ok,
        "acyclic": report.acyclic,
        "rooted": report.rooted,
        "unique_ids": report.unique_ids,
        "detail": report.describe(),
    }


@dataclass(frozen=True)
class GraphStats:
    """Counts, invariants and content hash of the label system.

    Attributes:
        concepts: Number of concepts.
        is_a_edges: Number of IS_A edges.
        concepts_by_source: Concepts per ``source`` property.
        is_a_by_kind: IS_A edges per ``kind``.
        build_status: The ``build.status`` meta value.
        content_hash: Hash of concepts and edges (equal graphs, equal hashes).
        invariants: The invariant check.
        under_entity: Concepts brought by datasets or Wikidata whose only parent is *entity* (the
            last resort: nothing closer placed them).
    """

    concepts: int
    is_a_edges: int
    concepts_by_source: dict[str, int]
    is_a_by_kind: dict[str, int]
    build_status: str | None
    content_hash: str
    invariants: InvariantReport
    under_entity: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON, the invariants as :func:`invariants_summary`."""
        out = asdict(self)
        out["invariants"] = invariants_summary(self.invariants)
        return out


def graph_stats(store: GraphStore) -> GraphStats:
    """Read the whole graph once and count it (``bamboo stats``; the service counts its cached view)."""
    contents = read_contents(store)
    return GraphStats(
        concepts=len(contents.concepts),
        is_a_edges=len(contents.edges),
        concepts_by_source=by_key(contents.concepts, "source"),
        is_a_by_kind=by_key(contents.edges, "kind"),
        build_status=store.get_meta("build.status"),
        content_hash=content_hash(contents),
        invariants=check_invariants(contents),
        under_entity=under_entity(contents.concepts, contents.edges),
    )


def under_entity(concepts: Iterable[Mapping[str, Any]], edges: Iterable[Mapping[str, Any]]) -> int:
    """Concepts not from WordNet whose only parent is *entity*.

    >>> under_entity(
    ...     [{"id": "a", "source": "dataset"}, {"id": "b", "source": "wordnet"}, {"id": "c", "source": "x"}],
    ...     [{"child": "a", "parent": ENTITY_ID}, {"child": "b", "parent": ENTITY_ID},
    ...      {"child": "c", "parent": ENTITY_ID}, {"child": "c", "parent": "d"}],
    ... )
    1
    """
    parents: dict[str, set[str]] = {}
    for e in edges:
        parents.setdefault(str(e["child"]), set()).add(str(e["parent"]))
    return sum(parents.get(str(c["id"])) == {ENTITY_ID} for c in concepts if c.get("source") != "wordnet")
