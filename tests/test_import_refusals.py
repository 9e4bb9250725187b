"""``bamboo import`` refuses hostile class lists in one line and writes nothing (the attack corpus
of ``tests/import_corpus.py``), keeps the graph acyclic, rooted and unique, and reports progress."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import neo4j
import networkx as nx
import pytest
from hypothesis import given, settings, strategies as st
from import_corpus import CORPUS, Hostile

from bamboo.graph.store.build import build_wordnet
from bamboo.graph.store.embedded import ServerInfo, create_database, drop_database
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.invariants import (
    check_invariants,
    check_placements,
    content_hash,
    placement_cycle,
    read_contents,
)
from bamboo.graph.taxonomy.wordnet import WordNetNouns
from conftest import run_cli

#: WordNet above these (dog, cat, chair, car): enough for the mapper to place classes under the
#: root, and a content hash that takes milliseconds rather than WordNet's ten seconds.
SEEDS = ("wn:n02084071", "wn:n02121620", "wn:n03001627", "wn:n02958343")


def small_wordnet(store: GraphStore, nouns: WordNetNouns) -> None:
    """Build the part of WordNet at and above :data:`SEEDS` into ``store``."""
    up = nx.DiGraph((e["child"], e["parent"]) for e in nouns.edges)
    keep = set(SEEDS).union(*(nx.descendants(up, s) for s in SEEDS))
    build_wordnet(
        store,
        WordNetNouns(
            [c for c in nouns.concepts if c["id"] in keep],
            [e for e in nouns.edges if e["child"] in keep and e["parent"] in keep],
        ),
    )


@pytest.fixture(scope="module")
def small_graph(server: ServerInfo, driver: neo4j.Driver, wordnet_nouns: WordNetNouns) -> str:
    """A database with :func:`small_wordnet`, read by the corpus (which must never write to it)."""
    drop_database(server, "hostile")
    create_database(server, "hostile")
    small_wordnet(GraphStore(driver, "hostile"), wordnet_nouns)
    return "hostile"


def graph_state(store: GraphStore) -> tuple[Any, ...]:
    """What a refused import must leave as it was: content hash, invariants, datasets, version."""
    contents = read_contents(store)
    report = check_invariants(contents)
    return content_hash(contents), report.ok, store.datasets(), store.get_meta("graph.version")


def refusal(out: Any) -> str:
    """The one error line of a refused ``bamboo import`` (progress lines may come before it)."""
    assert out.returncode == 2, (out.returncode, out.stderr[-2000:])
    assert "Traceback" not in out.stderr and out.stdout == ""
    lines = out.stderr.splitlines()
    assert lines[-1].startswith("error: ") and all(line.startswith("[") for line in lines[:-1]), lines
    # Nothing a terminal would act on: the file's control characters come back escaped.
    assert all(ch.isprintable() for ch in out.stderr.replace("\n", "")), repr(out.stderr[-300:])
    return str(lines[-1])


@pytest.mark.parametrize("hostile", CORPUS, ids=[h.name for h in CORPUS])
def test_hostile_file_is_refused_in_one_line(
    hostile: Hostile, server: ServerInfo, driver: neo4j.Driver, small_graph: str, tmp_path: Path
) -> None:
    store = GraphStore(driver, small_graph)
    path = hostile.write(tmp_path)
    before = graph_state(store)
    line = refusal(run_cli(server, "import", "hostile", str(path), BAMBOO_GRAPH_DATABASE=small_graph))
    for fragment in hostile.says:
        assert fragment.format(file=path) in line, line
    assert len(line) < 600, line
    assert graph_state(store) == before


def _coco_pair(path: Path, *, parent: str, child: str) -> Path:
    """A COCO file of two categories, ``child`` under ``parent`` (its supercategory)."""
    categories = [{"id": 1, "name": parent}, {"id": 2, "name": child, "supercategory": parent}]
    path.write_text(json.dumps({"categories": categories}))
    return path


def test_cycle_through_the_graph_is_refused(
    server: ServerInfo, driver: neo4j.Driver, fresh_database: str, wordnet_nouns: WordNetNouns, tmp_path: Path
) -> None:
    """A cycle that closes through an earlier import's placement: the check reads the placed
    concepts' descendants in the graph, not only the file."""
    store = GraphStore(driver, fresh_database)
    small_wordnet(store, wordnet_nouns)
    db = {"BAMBOO_GRAPH_DATABASE": fresh_database}
    first = _coco_pair(tmp_path / "first.json", parent="zzqparent", child="zzqchild")
    out = run_cli(server, "import", "first", str(first), "--json", **db)
    assert out.returncode == 0, out.stderr
    assert [p.id for p in store.parents("bamboo:zzqchild")] == ["bamboo:zzqparent"]
    second = _coco_pair(tmp_path / "second.json", parent="zzqchild", child="zzqparent")
    before = graph_state(store)
    line = refusal(run_cli(server, "import", "second", str(second), **db))
    assert "IS_A cycle: zzqchild -> zzqparent -> zzqchild" in line, line
    assert graph_state(store) == before and before[1]


def test_names_are_normalised_and_repeats_kept(
    server: ServerInfo, driver: neo4j.Driver, fresh_database: str, wordnet_nouns: WordNetNouns, tmp_path: Path
) -> None:
    """NFC, one space per whitespace run, a byte-order mark dropped; COCO names that repeat (ids do
    not) stay several classes of one concept, and ids stay unique."""
    store = GraphStore(driver, fresh_database)
    small_wordnet(store, wordnet_nouns)
    db = {"BAMBOO_GRAPH_DATABASE": fresh_database}
    decomposed = unicodedata.normalize("NFD", "Zzqé")
    coco = tmp_path / "repeats.json"
    coco.write_text(
        json.dumps(
            {
                "categories": [
                    {"id": 3, "name": "zzq  dup"},
                    {"id": 1, "name": "Zzq dup"},
                    {"id": 2, "name": "zzq\tdup"},
                    {"id": 4, "name": f" {decomposed}\u3000gadget "},
                ]
            }
        )
    )
    out = run_cli(server, "import", "repeats", str(coco), "--json", **db)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(r["index"], r["raw_name"], r["concept"]) for r in rows] == [
        (0, "Zzq dup", "bamboo:zzq-dup"),
        (1, "zzq dup", "bamboo:zzq-dup"),
        (2, "zzq dup", "bamboo:zzq-dup"),
        (3, "Zzqé gadget", "bamboo:zzqe-gadget"),
    ]
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffname,description\nzzqbom,a thing\n".encode())
    out = run_cli(server, "import", "bom", str(bom), "--json", **db)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["raw_name"] == "zzqbom"
    report = check_invariants(read_contents(store))
    assert report.ok, report.describe()


def test_large_file_reports_progress(
    server: ServerInfo, driver: neo4j.Driver, fresh_database: str, wordnet_nouns: WordNetNouns, tmp_path: Path
) -> None:
    """An annotation file of 600 KB (its images) says what it is doing on stderr; stdout keeps the
    classes."""
    small_wordnet(GraphStore(driver, fresh_database), wordnet_nouns)
    big = tmp_path / "instances.json"
    images = [{"id": i, "file_name": f"{i:012d}.jpg", "width": 640, "height": 480} for i in range(8000)]
    big.write_text(json.dumps({"images": images, "categories": [{"id": 1, "name": "zzqwidget"}]}))
    assert big.stat().st_size > 500_000
    out = run_cli(server, "import", "big", str(big), "--json", BAMBOO_GRAPH_DATABASE=fresh_database)
    assert out.returncode == 0, out.stderr
    lines = out.stderr.splitlines()
    assert "read 1 classes from instances.json" in lines[0] and "writing 1 classes" in lines[-1], lines
    assert [json.loads(line)["raw_name"] for line in out.stdout.splitlines()] == ["zzqwidget"]


@given(
    existing=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), max_size=25),
    moves=st.dictionaries(st.integers(0, 12), st.integers(0, 12), max_size=6),
)
@settings(max_examples=300, deadline=None)
def test_placement_cycle_agrees_with_networkx(existing: list[tuple[int, int]], moves: dict[int, int]) -> None:
    """Reading only the placed concepts' descendants finds a cycle exactly when the whole graph,
    once written, has one (the graph before is a DAG: edges go from a larger to a smaller id)."""
    before = nx.DiGraph((f"c{a}", f"c{b}") for a, b in existing if a > b)
    after = before.copy()
    for child, parent in moves.items():
        if f"c{child}" in after:
            after.remove_edges_from(list(after.out_edges(f"c{child}")))
        after.add_edge(f"c{child}", f"c{parent}")

    def children(ids: Any) -> list[tuple[str, str]]:
        return [(c, p) for p in ids if p in before for c in before.predecessors(p)]

    cycle = placement_cycle({f"c{c}": f"c{p}" for c, p in moves.items()}, children)
    assert bool(cycle) == (not nx.is_directed_acyclic_graph(after))
    assert all(after.has_edge(a, b) for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=True))


def test_check_placements_reads_rootedness_and_uniqueness(driver: neo4j.Driver, small_graph: str) -> None:
    """A parent that does not exist leaves its concept unrooted; a concept created or placed twice
    is a duplicate; a created concept without a placement has no parent; a good write passes."""
    store = GraphStore(driver, small_graph)
    good = check_placements(
        store,
        [{"id": "bamboo:a", "parent": "wn:n02084071"}, {"id": "bamboo:b", "parent": "bamboo:a"}],
        ["bamboo:a", "bamboo:b"],
    )
    assert good.ok, good.describe()
    bad = check_placements(
        store,
        [{"id": "bamboo:a", "parent": "wn:n99999999"}, {"id": "bamboo:b", "parent": "bamboo:a"}],
        ["bamboo:a", "bamboo:b", "bamboo:b", "bamboo:c"],
    )
    assert (bad.acyclic, bad.rooted, bad.unique_ids) == (True, False, False)
    assert bad.unrooted == ["bamboo:a", "bamboo:c"] and bad.duplicate_ids == ["bamboo:b"]
