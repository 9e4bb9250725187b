"""``GraphCache``: the service's in-memory view of the taxonomy (CSR) and its search index.

Hierarchy algorithms (related sets, LCA, paths) and name search run in memory; they are rebuilt
from one read of the graph whenever the ``graph.version`` meta value changes (builds and dataset
imports bump it), checked at most every ``refresh_s`` seconds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from bamboo.graph.invariants import InvariantReport, check_invariants, read_contents
from bamboo.graph.search import SearchIndex
from bamboo.graph.snapshot import taxonomy_from_contents
from bamboo.graph.store import GraphStore
from bamboo.graph.taxonomy import Taxonomy

__all__ = ["GraphCache", "GraphView"]


@dataclass(frozen=True)
class GraphView:
    version: str | None
    taxonomy: Taxonomy
    search: SearchIndex
    props: dict[str, dict[str, Any]]
    invariants: InvariantReport
    edges: int


class GraphCache:
    def __init__(self, store: GraphStore, *, refresh_s: float = 5.0) -> None:
        self._store = store
        self._refresh_s = refresh_s
        self._lock = threading.Lock()
        self._view: GraphView | None = None
        self._checked = 0.0

    def _load(self, version: str | None) -> GraphView:
        contents = read_contents(self._store)
        return GraphView(
            version=version,
            taxonomy=taxonomy_from_contents(contents),
            search=SearchIndex(contents.concepts),
            props={c["id"]: c for c in contents.concepts},
            invariants=check_invariants(contents),
            edges=len(contents.edges),
        )

    def get(self) -> GraphView:
        now = time.monotonic()
        view = self._view
        if view is not None and now - self._checked < self._refresh_s:
            return view
        with self._lock:
            if self._view is not None and time.monotonic() - self._checked < self._refresh_s:
                return self._view
            version = self._store.get_meta("graph.version")
            if self._view is None or version != self._view.version:
                self._view = self._load(version)
            self._checked = time.monotonic()
            return self._view
