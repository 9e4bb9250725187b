"""The service's compact view (packed properties, edge table, compact search, invariants on sparse
matrices) and its saved copy, against the plain reads of the real embedded store."""

from __future__ import annotations

import gc
import random
import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path

import neo4j
import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from bamboo.api.cache import GraphCache
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.invariants import check_edges, read_contents
from bamboo.graph.taxonomy.model import ENTITY_ID
from bamboo.graph.view import load_view, read_view, write_view


@pytest.fixture(scope="module")
def rw_store(driver, rw_database: str) -> GraphStore:  # type: ignore[no-untyped-def]
    return GraphStore(driver, rw_database)


def test_view_holds_what_the_store_holds(rw_store: GraphStore) -> None:
    view = load_view(rw_store, "v")
    contents = read_contents(rw_store)
    assert len(view.props) == len(contents.concepts) == len(view.taxonomy)
    for props in random.Random(0).sample(contents.concepts, 300):
        assert view.props[props["id"]] == props
    for edge in random.Random(1).sample(contents.edges, 300):
        assert view.edge_table.kind(edge["child"], edge["parent"]) == edge["kind"]
        info = view.edge_table.info(edge["child"], edge["parent"])
        assert (info["source"], info["method"], info["confidence"]) == (
            edge["source"],
            edge["method"],
            edge["score"],
        )
    assert view.edge_table.kind("wn:n02084071", "wn:n00001740") is None  # not a direct edge
    assert view.edges == len(contents.edges) and view.invariants.ok
    toy = view.dataset_classes("toy-cls")
    assert [c.index for c in toy] == [0, 1, 3, 4] and toy[0].concept == "wn:n02099601"
    assert view.dataset_classes("no-such-dataset") == []
    assert sum(view.concepts_by_source.values()) == len(contents.concepts)
    assert "wn:n02084071" in view.props and "wn:nothing" not in view.props
    with pytest.raises(KeyError):
        view.props["wn:nothing"]


def test_saved_view_reads_back_equal_and_only_at_its_version(rw_store: GraphStore, tmp_path: Path) -> None:
    view = load_view(rw_store, "v1")
    path = write_view(view, tmp_path, "rw")
    back = read_view(tmp_path, "rw", "v1")
    assert back is not None
    ids = list(view.props)
    assert list(back.props) == ids and np.array_equal(
        back.taxonomy.parent_indices, view.taxonomy.parent_indices
    )
    for cid in random.Random(2).sample(ids, 300):
        assert back.props[cid] == view.props[cid]
        for parent in view.taxonomy.parents(cid):
            assert back.edge_table.info(cid, parent) == view.edge_table.info(cid, parent)
    for q in ("dog", "golden retr", "retreiver", "Canis Familiaris", "zzzz"):
        assert back.search.search(q) == view.search.search(q), q
    assert back.datasets_of == view.datasets_of and back.classes_of == view.classes_of
    assert back.invariants == view.invariants and back.concepts_by_source == view.concepts_by_source
    assert set(back.datasets) == set(view.datasets)
    # Another version or database: not used. A damaged file: ignored, not trusted.
    assert read_view(tmp_path, "rw", "v2") is None
    assert read_view(tmp_path, "other", "v1") is None
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert read_view(tmp_path, "rw", "v1") is None


def test_cache_restarts_from_the_saved_view(rw_store: GraphStore, tmp_path: Path) -> None:
    first = GraphCache(rw_store, view_dir=tmp_path, database="rw")
    first.start()
    try:
        assert first.loaded_from == "database"
        deadline = time.monotonic() + 120
        version = first.get().version
        # saved by the warm-up thread (written to a temporary name, then renamed)
        while read_view(tmp_path, "rw", version) is None and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        first.stop()
    second = GraphCache(rw_store, view_dir=tmp_path, database="rw")
    second.start()
    try:
        assert second.loaded_from == "file"
        assert second.get().props["wn:n02084071"] == first.get().props["wn:n02084071"]
        assert second.get().version == first.get().version
    finally:
        second.stop()


class VersionedStore(GraphStore):
    """The store with its ``graph.version`` set by the test (a swap without writing the graph)."""

    version = "swap-1"

    def get_metas(self, keys: Sequence[str]) -> dict[str, str | None]:
        metas = super().get_metas(keys)
        return metas | ({"graph.version": self.version} if "graph.version" in keys else {})


def test_a_swapped_out_view_is_freed_and_its_memory_given_back(
    driver: neo4j.Driver, rw_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the new view's warm-up ends, nothing holds the old view or its crawl plan, and the poller
    hands malloc's free pages back to the system (a freed view otherwise stays in the RSS)."""
    import bamboo.api.cache as cache_module

    released: list[float | None] = []
    real = cache_module.release_free_memory
    monkeypatch.setattr(cache_module, "release_free_memory", lambda: released.append(real()) or 0.0)
    store = VersionedStore(driver, rw_database)
    cache = GraphCache(store, refresh_s=0.2)
    cache.start()
    try:

        def until(ready: Callable[[], bool]) -> None:
            deadline = time.monotonic() + 300
            while not ready():
                assert time.monotonic() < deadline
                time.sleep(0.1)

        until(lambda: cache.planned() is cache.get() and bool(released))  # warmed, then released
        old, old_plan = weakref.ref(cache.get()), weakref.ref(cache.get().crawl)
        released.clear()
        store.version = "swap-2"
        until(lambda: cache.planned().version == "swap-2")
        until(lambda: bool(released))
        gc.collect()
        assert old() is None and old_plan() is None
        assert cache.get().version == "swap-2"
    finally:
        cache.stop()


@given(
    n=st.integers(2, 12),
    edges=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), max_size=30),
)
@settings(max_examples=200, deadline=None)
def test_check_edges_agrees_with_networkx(n: int, edges: list[tuple[int, int]]) -> None:
    ids = [ENTITY_ID] + [f"c{i}" for i in range(1, n)]
    pairs = [(ids[a], ids[b]) for a, b in edges if a < n and b < n]
    report = check_edges(ids, [c for c, _ in pairs], [p for _, p in pairs])
    graph = nx.DiGraph(pairs)
    graph.add_nodes_from(ids)
    assert report.acyclic == nx.is_directed_acyclic_graph(graph)
    if not report.acyclic:
        cycle = report.cycle
        assert all(graph.has_edge(a, b) for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=True))
    assert report.unrooted_count == len(set(ids) - nx.ancestors(graph, ENTITY_ID) - {ENTITY_ID})


def test_cyclic_gc_pause_nests_and_restores() -> None:
    import gc

    from bamboo.graph.taxonomy.packed import cyclic_gc_paused

    before = gc.isenabled()
    with cyclic_gc_paused():
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled() == before
    gc.disable()
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()


def test_edge_confidence_comes_back_as_written() -> None:
    """Scores are kept as float32: 0.7 came back as 0.699999988079071 in the JSON."""
    from bamboo.graph.taxonomy.packed import EdgeTable
    from bamboo.graph.taxonomy.snapshot import taxonomy_from_edges

    tax = taxonomy_from_edges(["a", "b", "c"], ["a", "b", "c"], ["b", "c"], ["a", "a"])
    rows = {
        "child": ["b", "c"],
        "parent": ["a", "a"],
        "kind": ["placement", "placement"],
        "source": ["x", "x"],
        "method": ["m", "m"],
        "score": [0.7, 0.123456789],
    }
    table = EdgeTable(tax, rows)
    assert table.info("b", "a")["confidence"] == 0.7
    assert table.info("c", "a")["confidence"] == 0.123457  # float32 holds about 7 digits; 6 are given
