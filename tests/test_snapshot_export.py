"""Snapshot (SDK's offline taxonomy) and exports, from the real WordNet build."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from rdflib import SKOS, Graph

from bamboo.errors import ConceptNotFound, ConfigurationError, SnapshotError
from bamboo.graph.store.export import BAMBOO_NS, export
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.hierarchy import Taxonomy
from bamboo.graph.taxonomy.invariants import GraphContents, read_contents
from bamboo.graph.taxonomy.snapshot import write_snapshot


@pytest.fixture(scope="module")
def contents(store: GraphStore) -> GraphContents:
    return read_contents(store)


@pytest.fixture(scope="module")
def snapshot_path(store: GraphStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    meta = write_snapshot(store, tmp_path_factory.mktemp("snap") / "taxonomy.npz")
    return Path(str(meta["path"]))


def test_snapshot_answers_like_the_store(store: GraphStore, snapshot_path: Path) -> None:
    tax = Taxonomy.load(snapshot_path)
    assert len(tax) == store.count_concepts()
    assert tax.meta["content_hash"] == store.get_meta("build.content_hash")
    for cid in ("wn:n02084071", "wn:n04379243", "wn:n09917593"):  # dog, table, child
        assert tax.ancestor_depths(cid) == {r.id: r.depth for r in store.ancestors(cid)}
        assert sorted(tax.children(cid)) == [r.id for r in store.children(cid)]
    assert tax.name("wn:n02084071") == "dog"
    assert "wn:n02083346" in tax.ancestors("wn:n02084071")
    assert "wn:n02084071" in tax.descendants("wn:n02083346")
    with pytest.raises(ConceptNotFound):
        tax.index("wn:n99999999")


def test_snapshot_is_compact(snapshot_path: Path) -> None:
    assert snapshot_path.stat().st_size < 8 * 1024 * 1024


def test_truncated_or_foreign_snapshot_is_rejected(snapshot_path: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.npz"
    cut.write_bytes(snapshot_path.read_bytes()[:5000])
    with pytest.raises(SnapshotError, match="cut.npz"):
        Taxonomy.load(cut)
    other = tmp_path / "other.npz"
    np.savez(other, ids=np.array(["a"]))
    with pytest.raises(SnapshotError, match="not a Bamboo taxonomy snapshot"):
        Taxonomy.load(other)
    with pytest.raises(SnapshotError, match="does not exist"):
        Taxonomy.load(tmp_path / "missing.npz")


def test_bamboo_json(contents: GraphContents, tmp_path: Path) -> None:
    doc = json.loads(export(contents, "bamboo-json", tmp_path / "bamboo.json").read_text())
    assert set(doc) == {"father2child", "child2father", "id2name", "id2desc"}
    assert "wn:n02084071" in doc["father2child"]["wn:n02083346"]
    assert doc["child2father"]["wn:n02084071"] == ["wn:n01317541", "wn:n02083346"]
    assert doc["id2name"]["wn:n02084071"] == "dog"
    assert len(doc["id2name"]) == len(contents.concepts)
    assert sum(len(v) for v in doc["child2father"].values()) == len(contents.edges)


def test_skos_round_trips_through_rdflib(contents: GraphContents, store: GraphStore, tmp_path: Path) -> None:
    # rdflib needs ~50 s for all 82K concepts each way; the mammal subtree exercises the same code.
    keep = {r.id for r in store.iter_descendants("wn:n01861778")} | {"wn:n01861778"}
    part = GraphContents(
        concepts=[c for c in contents.concepts if c["id"] in keep],
        edges=[e for e in contents.edges if e["child"] in keep and e["parent"] in keep],
    )
    path = export(part, "skos", tmp_path / "bamboo.ttl")
    g = Graph().parse(data=path.read_text(encoding="utf-8"), format="turtle")
    assert len(part.concepts) > 1000
    assert len(list(g.triples((None, SKOS.broader, None)))) == len(part.edges)
    assert len(list(g.subjects(SKOS.prefLabel, None))) == len(part.concepts)
    dog, canine = BAMBOO_NS["wn/n02084071"], BAMBOO_NS["wn/n02083346"]
    assert (dog, SKOS.broader, canine) in g
    assert str(g.value(dog, SKOS.prefLabel)) == "dog"


def test_parquet(contents: GraphContents, tmp_path: Path) -> None:
    out = export(contents, "parquet", tmp_path / "pq")
    concepts = pq.read_table(out / "concepts.parquet")
    edges = pq.read_table(out / "is_a.parquet")
    assert concepts.num_rows == len(contents.concepts)
    assert edges.num_rows == len(contents.edges)
    assert "gloss" in concepts.column_names


def test_unknown_format(contents: GraphContents, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="unknown export format"):
        export(contents, "xml", tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_format_1_snapshots_still_load(snapshot_path: Path, tmp_path: Path) -> None:
    """Snapshots written before format 2 (fixed-width text arrays) load to the same taxonomy."""
    new = Taxonomy.load(snapshot_path)
    assert new.meta["format"] == "bamboo-taxonomy/2"
    with np.load(snapshot_path) as data:
        arrays = {k: data[k] for k in data.files if not k.endswith("_text")}
    old = tmp_path / "v1.npz"
    np.savez_compressed(
        old,
        **(arrays | {"meta": np.array(json.dumps(new.meta | {"format": "bamboo-taxonomy/1"}))}),
        ids=np.array([str(i) for i in new.ids], dtype=np.str_),
        names=np.array([str(n) for n in new.names], dtype=np.str_),
        lemmas=np.array(["\x1f".join(lm) for lm in new.lemmas or []], dtype=np.str_),
    )
    back = Taxonomy.load(old)
    assert [str(i) for i in back.ids] == [str(i) for i in new.ids]
    assert [str(n) for n in back.names] == [str(n) for n in new.names]
    assert back.lemmas == new.lemmas and any(len(lm) > 1 for lm in new.lemmas or [])
    assert np.array_equal(back.parent_indices, new.parent_indices)
    assert back.label_spaces == new.label_spaces
