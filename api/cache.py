"""``GraphCache``: the service's in-memory view of the label system.

Reads (concept pages, hierarchy, search, related sets, crawl queries) are answered from memory:
a :class:`GraphView` (taxonomy as CSR arrays, concept properties, dataset classes, search index),
rebuilt when the ``graph.version`` meta value changes (builds and dataset imports bump it), and a
:class:`TagView` (current votes and decisions), reloaded when ``tags.version`` changes (every vote
bumps it). Both versions are checked with one small query at most every ``refresh_s`` seconds, so
a write made by another process is visible here within ``refresh_s``; a vote cast through this
process invalidates the tag view at once (read-your-writes).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from bamboo.graph.invariants import InvariantReport, check_invariants, read_contents
from bamboo.graph.search import SearchIndex
from bamboo.graph.snapshot import taxonomy_from_contents
from bamboo.graph.store import GraphStore
from bamboo.graph.taxonomy import Taxonomy

__all__ = ["GraphCache", "GraphView", "TagView"]


@dataclass(frozen=True)
class GraphView:
    version: str | None
    taxonomy: Taxonomy
    search: SearchIndex
    props: dict[str, dict[str, Any]]
    edge_kind: dict[tuple[str, str], str]
    edge_info: dict[tuple[str, str], dict[str, Any]]  # (child, parent) -> source, method, score
    datasets_of: dict[str, list[dict[str, Any]]]
    invariants: InvariantReport
    edges: int


@dataclass(frozen=True)
class TagView:
    version: str | None
    votes_of: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def decided(self, concept_id: str) -> tuple[bool | None, bool | None]:
        from bamboo.graph.tags import decide

        out: list[bool | None] = []
        for tag in ("visual", "common"):
            values = [v["value"] for v in self.votes_of.get(concept_id, []) if v["tag"] == tag]
            out.append(decide(sum(values), len(values) - sum(values)))
        return out[0], out[1]


class GraphCache:
    def __init__(self, store: GraphStore, *, refresh_s: float = 1.0) -> None:
        self._store = store
        self._refresh_s = refresh_s
        self._lock = threading.Lock()
        self._view: GraphView | None = None
        self._tags: TagView | None = None
        self._checked = 0.0
        self._reloading: threading.Thread | None = None

    def _reload_in_background(self, version: str | None) -> None:
        """Rebuild the graph view off the request path; requests keep the old view meanwhile."""
        if self._reloading is not None and self._reloading.is_alive():
            return

        def run() -> None:
            view = self._load_graph(version)
            with self._lock:
                self._view = view

        self._reloading = threading.Thread(target=run, name="bamboo-graph-reload", daemon=True)
        self._reloading.start()

    def _load_graph(self, version: str | None) -> GraphView:
        contents = read_contents(self._store)
        datasets: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in sorted(self._store.all_dataset_classes(), key=lambda r: (r["dataset"], r["index"])):
            datasets[row.pop("concept")].append(row)
        return GraphView(
            version=version,
            taxonomy=taxonomy_from_contents(contents),
            search=SearchIndex(contents.concepts),
            props={c["id"]: c for c in contents.concepts},
            edge_kind={(e["child"], e["parent"]): e["kind"] for e in contents.edges},
            edge_info={
                (e["child"], e["parent"]): {
                    "source": e.get("source"),
                    "method": e.get("method"),
                    "confidence": e.get("score"),
                }
                for e in contents.edges
            },
            datasets_of=dict(datasets),
            invariants=check_invariants(contents),
            edges=len(contents.edges),
        )

    def _load_tags(self, version: str | None) -> TagView:
        votes: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in sorted(self._store.all_votes(), key=lambda r: (r["concept"], r["tag"], r["annotator"])):
            votes[row.pop("concept")].append(row)
        return TagView(version=version, votes_of=dict(votes))

    def _refresh(self, force: bool = False) -> None:
        with self._lock:
            if not force and self._view is not None and time.monotonic() - self._checked < self._refresh_s:
                return
            metas = self._store.get_metas(["graph.version", "tags.version"])
            if self._view is None:
                self._view = self._load_graph(metas["graph.version"])
            elif metas["graph.version"] != self._view.version:
                self._reload_in_background(metas["graph.version"])
            if force or self._tags is None or metas["tags.version"] != self._tags.version:
                self._tags = self._load_tags(metas["tags.version"])
            self._checked = time.monotonic()

    def get(self) -> GraphView:
        if self._view is None or time.monotonic() - self._checked >= self._refresh_s:
            self._refresh()
        assert self._view is not None
        return self._view

    def tags(self) -> TagView:
        if self._tags is None or time.monotonic() - self._checked >= self._refresh_s:
            self._refresh()
        assert self._tags is not None
        return self._tags

    def invalidate_tags(self) -> None:
        """Reload votes now (after a vote through this process)."""
        self._refresh(force=True)
