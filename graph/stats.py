"""``graph_stats``: counts, invariants and the content hash of the label system (``bamboo stats``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bamboo.graph.invariants import InvariantReport, check_invariants, content_hash, read_contents
from bamboo.graph.store import GraphStore

__all__ = ["GraphStats", "graph_stats"]


@dataclass(frozen=True)
class GraphStats:
    concepts: int
    is_a_edges: int
    concepts_by_source: dict[str, int]
    is_a_by_kind: dict[str, int]
    build_status: str | None
    content_hash: str
    invariants: InvariantReport

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["invariants"] = {
            "ok": self.invariants.ok,
            "acyclic": self.invariants.acyclic,
            "rooted": self.invariants.rooted,
            "unique_ids": self.invariants.unique_ids,
            "detail": self.invariants.describe(),
        }
        return out


def graph_stats(store: GraphStore) -> GraphStats:
    contents = read_contents(store)
    by_source: dict[str, int] = {}
    for props in contents.concepts:
        key = str(props.get("source"))
        by_source[key] = by_source.get(key, 0) + 1
    by_kind: dict[str, int] = {}
    for edge in contents.edges:
        key = str(edge.get("kind"))
        by_kind[key] = by_kind.get(key, 0) + 1
    return GraphStats(
        concepts=len(contents.concepts),
        is_a_edges=len(contents.edges),
        concepts_by_source=dict(sorted(by_source.items())),
        is_a_by_kind=dict(sorted(by_kind.items())),
        build_status=store.get_meta("build.status"),
        content_hash=content_hash(contents),
        invariants=check_invariants(contents),
    )
