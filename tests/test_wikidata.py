"""Wikidata ingest against a real SPARQL server (oxigraph), the 429 retry logic against a real local
HTTP server, the dump reader, the three linking strategies (real spaCy, real MiniLM) and the sync."""

from __future__ import annotations

import bz2
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import neo4j
import pytest

from bamboo.errors import ConceptNotFound
from bamboo.graph.link.embed import Embedder, SiblingVote, SynsetIndex
from bamboo.graph.link.evaluate import evaluate_gold, evaluate_leaves, read_gold
from bamboo.graph.link.genus import GenusVote, genus_phrases
from bamboo.graph.link.head import HeadLinker, load_spacy
from bamboo.graph.link.lexicon import Lexicon
from bamboo.graph.link.policy import LinkPolicy, Query
from bamboo.graph.mapping.datasets import ClassMapper, import_label_set
from bamboo.graph.mapping.pending import link_pending
from bamboo.graph.store.build import build_wordnet
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.invariants import check_invariants, content_hash, read_contents
from bamboo.graph.taxonomy.model import ENTITY_ID
from bamboo.graph.taxonomy.wordnet import WordNetNouns
from bamboo.graph.wikidata.chain import chain_links
from bamboo.graph.wikidata.client import (
    WikidataClient,
    WikidataError,
    WikidataItem,
    oxigraph_server,
    read_dump,
)
from bamboo.graph.wikidata.sync import read_wn31_map, sync_wikidata
from bamboo.loaders.base import LabelSet, MalformedFile, RawClass
from conftest import SHARED_DATA

FIXTURES = Path(__file__).parent / "fixtures"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def oxigraph(turtle: bytes) -> contextlib.AbstractContextManager[str]:
    """A real in-memory oxigraph SPARQL server loaded with ``turtle``; yields its query URL."""
    return oxigraph_server(turtle=turtle)


@pytest.fixture(scope="module")
def sparql() -> Iterator[str]:
    """The fixture triples served by oxigraph."""
    with oxigraph((FIXTURES / "wikidata_dogs.ttl").read_bytes()) as url:
        yield url


@pytest.fixture(scope="module")
def lexicon(wordnet_nouns: WordNetNouns) -> Lexicon:
    return Lexicon([{"id": c["id"], **c["props"]} for c in wordnet_nouns.concepts], wordnet_nouns.edges)


@pytest.fixture(scope="module")
def nlp():  # type: ignore[no-untyped-def]
    return load_spacy()


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


def test_client_reads_items(sparql: str) -> None:
    client = WikidataClient(sparql, min_interval_s=0)
    items = client.items(["Q144", "Q900001", "Q900010"])
    dog, hound, cat = items["Q144"], items["Q900001"], items["Q900010"]
    assert dog.label == "dog" and dog.labels == {"es": "perro", "zh": "狗"}
    assert dog.wordnet31 == ("02086723-n",) and dog.freebase == ("/m/0bt9lr",)
    assert hound.aliases == ("Zorbi",) and hound.subclass_of == ("Q144",)
    assert hound.description == "dog breed from the fictional Zorbia" and hound.modified
    assert cat.parent_taxon == ("Q146",) and cat.parents == ("Q146",) and cat.instance_of == ("Q16521",)
    assert sorted(client.children(["Q144"])) == [
        ("Q900001", "Q144"),
        ("Q900003", "Q144"),
        ("Q900004", "Q144"),
    ]
    assert client.wordnet_anchors(page=1) == {"Q144": ["02086723-n"], "Q146": ["02124272-n"]}


@pytest.mark.shared_data("wikidata/vandycite_artifact_superclasses.ttl")
def test_client_on_real_wdqs_output(tmp_path: Path) -> None:
    """The real WDQS CONSTRUCT output (669 artifact classes) served by oxigraph, paged by level."""
    ttl = (SHARED_DATA / "wikidata" / "vandycite_artifact_superclasses.ttl").read_bytes()
    with oxigraph(ttl) as url:
        client = WikidataClient(url, min_interval_s=0)
        clock = client.items(["Q376"])["Q376"]
        tsv = (SHARED_DATA / "wikidata" / "vandycite_artifact_p279_edges.tsv").read_text().splitlines()[1:]
        expected = sorted({row.split("\t")[2] for row in tsv if row.split("\t")[0] == "Q376"})
        assert clock.label == "clock" and list(clock.subclass_of) == expected
        children = client.children(["Q42622779"])  # timepiece: one level down, never a P279* closure
        assert ("Q376", "Q42622779") in children


class _Storm(BaseHTTPRequestHandler):
    """Answers 429 (Retry-After: 1) to the first ``storm`` requests, then a SPARQL JSON result."""

    storm = 3
    seen: list[str] = []

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).seen.append(self.headers.get("User-Agent", ""))
        if len(self.seen) <= self.storm:
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.end_headers()
            return
        body = json.dumps(
            {"head": {"vars": ["x"]}, "results": {"bindings": [{"x": {"type": "literal", "value": "ok"}}]}}
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture()
def storm() -> Iterator[str]:
    _Storm.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Storm)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    finally:
        server.shutdown()
        server.server_close()


def test_429_storm_is_waited_out(storm: str) -> None:
    client = WikidataClient(storm, min_interval_s=0)
    started = time.monotonic()
    assert client.select("SELECT ?x WHERE {}")[0]["x"] == "ok"
    assert client.waits == [1.0, 1.0, 1.0] and time.monotonic() - started >= 3
    assert len(_Storm.seen) == 4 and all(ua.startswith("bamboo-labels/") for ua in _Storm.seen)


def test_endless_429_gives_up_clearly(storm: str) -> None:
    _Storm.storm = 10**6
    try:
        client = WikidataClient(storm, min_interval_s=0, max_retries=2, sleep=lambda _s: None)
        with pytest.raises(WikidataError, match="HTTP 429"):
            client.select("SELECT ?x WHERE {}")
        assert client.waits == [1.0, 1.0]
    finally:
        _Storm.storm = 3


def test_dump_reader(tmp_path: Path) -> None:
    entity = {
        "type": "item",
        "id": "Q900001",
        "labels": {
            "en": {"language": "en", "value": "Zorbian hound"},
            "it": {"language": "it", "value": "segugio"},
        },
        "descriptions": {"en": {"language": "en", "value": "dog breed"}},
        "aliases": {"en": [{"language": "en", "value": "Zorbi"}]},
        "claims": {
            "P279": [
                {"mainsnak": {"snaktype": "value", "datavalue": {"value": {"id": "Q144"}}}, "rank": "normal"}
            ],
            "P646": [
                {"mainsnak": {"snaktype": "value", "datavalue": {"value": "/m/0x"}}, "rank": "deprecated"}
            ],
        },
    }
    prop = {"type": "property", "id": "P31"}
    path = tmp_path / "dump.json.bz2"
    with bz2.open(path, "wt") as fh:
        fh.write("[\n" + json.dumps(entity) + ",\n" + json.dumps(prop) + "\n]\n")
    (item,) = list(read_dump(path))
    assert item == WikidataItem(
        qid="Q900001",
        label="Zorbian hound",
        aliases=("Zorbi",),
        description="dog breed",
        labels={"it": "segugio"},
        subclass_of=("Q144",),
    )
    bad = tmp_path / "bad.json"
    bad.write_text('[\n{"id": "Q1"},\n{"id": \n]\n')
    from bamboo.loaders import MalformedFile

    with pytest.raises(MalformedFile, match=r"bad.json:3"):
        list(read_dump(bad))


def test_head_compound_linking(lexicon: Lexicon, nlp) -> None:  # type: ignore[no-untyped-def]
    head = HeadLinker(lexicon, nlp)
    orangutan = head.link("Sumatran orangutan")
    assert orangutan[0].concept == lexicon.senses("orangutan")[0] and "orangutan" in orangutan[0].evidence
    assert head.link("bird of paradise flower")[0].evidence.startswith("head 'bird")
    crab = head.link("Alaskan king crab")
    assert crab[0].concept in lexicon.senses("king crab")  # the longest known span first
    hound = head.link("Zorbian wolfhound")
    assert hound[0].concept in lexicon.senses("wolfhound")
    binomial = head.link("Canis zorbiensis")  # congeners of genus Canis: dog, wolf, jackal ...
    assert binomial and binomial[0].evidence.startswith("binomial: genus Canis")
    assert head.link("Xqzv") == []


def test_chain_links_to_nearest_anchor() -> None:
    items = {
        "Q3": WikidataItem("Q3", subclass_of=("Q2",)),
        "Q2": WikidataItem("Q2", parent_taxon=("Q1",)),
        "Q1": WikidataItem("Q1"),
    }
    (link,) = chain_links("Q3", items, {"Q1": "wn:n02084071"})
    assert (link.concept, link.method, link.evidence) == (
        "wn:n02084071",
        "chain",
        "Q3 -> Q2 -> Q1 = wn:n02084071",
    )
    assert link.score == round(0.95 * 0.9, 4)
    assert chain_links("Q3", items, {}) == []


def test_embedding_and_policy(lexicon: Lexicon, nlp, embedder: Embedder) -> None:  # type: ignore[no-untyped-def]
    dog, cat, car, ship = "wn:n02084071", "wn:n02121620", "wn:n02958343", "wn:n04194289"
    candidates = [dog, cat, car, ship, "wn:n02512053", "wn:n02691156"]  # + fish, airplane
    index = SynsetIndex(lexicon, embedder, candidates)
    best = index.link_many(["a small breed of domestic dog", "a seagoing vessel"], k=2)
    assert best[0][0].concept == dog and best[1][0].concept == ship
    policy = LinkPolicy(HeadLinker(lexicon, nlp), index)
    chain = chain_links("Q2", {"Q2": WikidataItem("Q2", subclass_of=("Q1",))}, {"Q1": cat})
    chained = Query("Zorbian hound", "", tuple(chain))
    decisions = policy.decide_many(
        [
            chained,  # an (odd) chain wins over everything else
            Query("Zorbian car", "a motor vehicle from Zorbia"),  # head word 'car' has 5 senses: cosine picks
            Query("Xqzv", "a large boat that carries goods over the sea"),  # no head: the embedding decides
        ]
    )
    assert decisions[0].link is not None and decisions[0].link.concept == cat and not decisions[0].review
    assert decisions[1].link is not None and decisions[1].link.concept == car
    assert decisions[1].link.method == "head+embedding" and not decisions[1].review
    assert (
        decisions[2].link is not None
        and decisions[2].link.concept == ship
        and decisions[2].link.method == "embedding"
    )


def test_a_subset_index_reuses_the_vectors_and_searches_like_a_fresh_one(
    lexicon: Lexicon, embedder: Embedder
) -> None:
    dog, cat, car, ship = "wn:n02084071", "wn:n02121620", "wn:n02958343", "wn:n04194289"
    every = SynsetIndex(lexicon, embedder, [dog, cat, car, ship, "wn:n02512053", "wn:n02691156"])
    part = every.subset([ship, dog, car])
    fresh = SynsetIndex(lexicon, embedder, [dog, car, ship])
    assert part.ids == fresh.ids == sorted([dog, car, ship])
    texts = ["a small breed of domestic dog", "a seagoing vessel", "a feline pet"]
    assert [[x.concept for x in r] for r in part.link_many(texts, k=3)] == [
        [x.concept for x in r] for r in fresh.link_many(texts, k=3)
    ]
    assert part.link_many(["a feline pet"], k=1)[0][0].concept != cat  # not among the subset's synsets
    with pytest.raises(KeyError):
        every.subset(["wn:n00001740"])


def test_genus_phrases_are_the_first_noun_phrase_longest_ending_first(nlp) -> None:  # type: ignore[no-untyped-def]
    assert genus_phrases(nlp("a North American woody vine having pinnate leaves"))[:4] == [
        "north american woody vine",
        "american woody vine",
        "woody vine",
        "vine",
    ]
    assert "bird" in genus_phrases(nlp("any of various small birds of the woods"))  # singular tried
    assert genus_phrases(nlp("")) == []


def test_the_genus_phrase_picks_the_kind_and_the_vote_the_concept_below_it(
    lexicon: Lexicon, nlp, embedder: Embedder
) -> None:  # type: ignore[no-untyped-def]
    (terrier,) = lexicon.senses("terrier")
    (hound,) = [c for c in lexicon.senses("hound") if "dog" in lexicon.gloss(c)]
    near = sorted(
        c for c in lexicon.concepts if {terrier, hound} & (lexicon.ancestors(c) | {c})
    )  # terriers and hounds: every one may be a neighbour
    vote = SiblingVote(SynsetIndex(lexicon, embedder, near))
    names = ["Zorbian ratter", "Zorbian ratter"]
    descriptions = ["a small terrier bred in Zorbia to hunt rats", "bred in Zorbia to hunt rats"]
    plain = vote.link_many([f"{n}: {d}" for n, d in zip(names, descriptions, strict=True)])
    (with_genus, without), (kept,) = GenusVote(vote, nlp).link_many(names, descriptions), plain[1:]
    assert terrier in lexicon.ancestors(with_genus[0].concept) | {with_genus[0].concept}
    assert "genus 'terrier'" in with_genus[0].evidence
    # no phrase WordNet knows ("bred" is a verb here): the sibling vote stands
    assert [x.concept for x in without] == [x.concept for x in kept]


def test_policy_takes_the_embedding_candidate_under_the_head(
    lexicon: Lexicon, nlp, embedder: Embedder
) -> None:  # type: ignore[no-untyped-def]
    """The head names an ancestor ("terrier"); the embedding, restricted to the head's subtree, finds
    the parent below it; a scope drops candidates outside it; disagreement goes to review."""
    (terrier,) = lexicon.senses("terrier")
    below = sorted(c for c in lexicon.concepts if terrier in lexicon.ancestors(c) and lexicon.children.get(c))
    assert len(below) >= 3
    fox = lexicon.senses("fox terrier")[0]
    index = SynsetIndex(lexicon, embedder, [*below, "wn:n02958343", "wn:n04194289"])  # + car, ship
    policy = LinkPolicy(HeadLinker(lexicon, nlp), index, pool=5)
    wire, ship, scoped = policy.decide_many(
        [
            Query("Zorbian fox terrier", "a wire-haired fox terrier bred in Zorbia"),
            Query("Sea Terrier", "a ship that carries cargo over the ocean"),
            Query("Xqzv", "a seagoing vessel", scope=terrier),
        ]
    )
    assert wire.link is not None and wire.link.method == "head+embedding" and not wire.review
    assert terrier in lexicon.ancestors(wire.link.concept) and wire.link.concept in {fox, *below}
    assert ship.review and ship.link is not None and ship.link.concept == "wn:n04194289"
    assert scoped.link is not None and terrier in lexicon.ancestors(scoped.link.concept)
    assert all(terrier in lexicon.ancestors(e.concept) for e in scoped.candidates["embedding"])


def test_link_pending_places_sure_links_and_proposes_the_rest(
    driver: neo4j.Driver,
    fresh_database: str,
    wordnet_nouns: WordNetNouns,
    lexicon: Lexicon,
    nlp,
    embedder: Embedder,
) -> None:  # type: ignore[no-untyped-def]
    store = GraphStore(driver, fresh_database)
    build_wordnet(store, wordnet_nouns)
    mapper = ClassMapper(store.all_concepts(), store.all_is_a())
    (orangutan,) = lexicon.senses("orangutan")
    dog = "wn:n02084071"
    below = sorted(c for c in lexicon.concepts if dog in lexicon.ancestors(c) and lexicon.children.get(c))
    ls = LabelSet(
        "zoo",
        "classification",
        [
            RawClass(0, "Sumatran orangutan"),
            RawClass(1, "Zorbian fox terrier"),
            RawClass(2, "Qwxvz"),
            RawClass(3, "golden retriever"),
        ],
        domain=(),
    )
    before = import_label_set(store, ls, mapper)
    assert before.by_method == {"new": 3, "lemma": 1}
    # Import placed every new class: by its head noun when it has one, else at the root, flagged.
    assert [p.id for p in store.parents("bamboo:sumatran-orangutan")] == [orangutan]
    assert [p.id for p in store.parents("bamboo:qwxvz")] == [ENTITY_ID]
    assert store.concept("bamboo:qwxvz").extra["review"] == "check"
    # A weak placement (as a broad domain gives) for the linker to improve.
    weak = {"parent": ENTITY_ID, "method": "import", "score": 0.1, "evidence": "weak", "source": "zoo"}
    store.place_concepts(
        [{"id": "bamboo:zorbian-fox-terrier", **weak}],
        [{"id": "bamboo:zorbian-fox-terrier", "props": {"review": "check"}}],
        why="test",
    )
    version = store.get_metas(["graph.version"])["graph.version"]
    report = link_pending(store, embedder=embedder, nlp=nlp, candidates=below)
    # The running API sees what linking did: it bumps graph.version like every graph write.
    assert store.get_metas(["graph.version"])["graph.version"] != version
    assert (report.pending, report.placed + report.proposed + report.unresolved) == (2, 2)
    (terrier_parent,) = store.parents("bamboo:zorbian-fox-terrier")
    assert lexicon.senses("terrier")[0] in lexicon.ancestors(terrier_parent.id)
    assert store.concept("bamboo:zorbian-fox-terrier").extra["review"] == "linked"
    assert [p.id for p in store.parents("bamboo:qwxvz")] == [ENTITY_ID]  # nonsense: proposed at most
    assert store.concept("bamboo:qwxvz").extra["review"] == "check"
    assert check_invariants(read_contents(store)).ok
    linked = content_hash(read_contents(store))
    again = link_pending(store, embedder=embedder, nlp=nlp, candidates=below)
    assert again.placed == 0 and again.pending == 1
    assert content_hash(read_contents(store)) == linked
    import_label_set(store, ls, mapper)  # a later build keeps the better placement of the two
    (after,) = store.parents("bamboo:zorbian-fox-terrier")
    assert lexicon.senses("terrier")[0] in lexicon.ancestors(after.id)
    assert check_invariants(read_contents(store)).ok


def test_sync_adds_links_and_is_idempotent(
    driver: neo4j.Driver, fresh_database: str, wordnet_nouns: WordNetNouns, sparql: str, tmp_path: Path
) -> None:
    store = GraphStore(driver, fresh_database)
    build_wordnet(store, wordnet_nouns)
    client = WikidataClient(sparql, min_interval_s=0)
    wn31 = read_wn31_map(FIXTURES / "wn31_map.tsv")
    report = sync_wikidata(store, client, state_dir=tmp_path, wn31_map=wn31, max_depth=3)
    assert report.anchors == 2 and report.review == 0
    assert report.added == 6  # Q900001-5 and the taxon; dog and cat gain properties
    assert store.parents("wd:Q900002")[0].id == "wd:Q900001"
    assert [p.id for p in store.parents("wd:Q900003")] == ["wd:Q900001"]  # shortcut to dog dropped
    assert "shortcut: dropped wd:Q900003 -> wn:n02084071" in report.repaired
    assert any(r.startswith("cycle: dropped") for r in report.repaired)
    assert [p.id for p in store.parents("wd:Q900010")] == ["wn:n02121620"]  # parent taxon of a cat
    hound = store.concept("wd:Q900001")
    assert hound.extra["qid"] == "Q900001" and hound.extra["labels_es"] == ["sabueso zorbiano"]
    assert "Zorbi" in hound.lemmas and hound.gloss == "dog breed from the fictional Zorbia"
    assert store.concept("wn:n02084071").extra["labels_zh"] == ["狗"]
    assert check_invariants(read_contents(store)).ok
    first = content_hash(read_contents(store))
    again = sync_wikidata(store, client, state_dir=tmp_path, wn31_map=wn31, max_depth=3)
    assert (again.added, again.changed) == (0, 0) and again.unchanged == report.added + 2
    assert content_hash(read_contents(store)) == first
    audit = [json.loads(line) for line in (tmp_path / "wikidata-audit.jsonl").read_text().splitlines()]
    assert [a["added"] for a in audit] == [6, 0]
    assert not (tmp_path / "wikidata-sync.json").exists()


def test_sync_resumes_after_interruption(
    driver: neo4j.Driver, fresh_database: str, wordnet_nouns: WordNetNouns, sparql: str, tmp_path: Path
) -> None:
    store = GraphStore(driver, fresh_database)
    build_wordnet(store, wordnet_nouns)
    wn31 = read_wn31_map(FIXTURES / "wn31_map.tsv")

    class Dies(WikidataClient):
        def items(self, qids):  # type: ignore[no-untyped-def]
            if len(qids) > 2:  # the fetch phase: die after anchors and discovery were checkpointed
                raise KeyboardInterrupt
            return super().items(qids)

    with pytest.raises(KeyboardInterrupt):
        sync_wikidata(store, Dies(sparql, min_interval_s=0), state_dir=tmp_path, wn31_map=wn31)
    saved = json.loads((tmp_path / "wikidata-sync.json").read_text())
    assert saved["phase"] == "discovered" and not store.exists("wd:Q900001")
    client = WikidataClient(sparql, min_interval_s=0)
    report = sync_wikidata(store, client, state_dir=tmp_path, wn31_map=wn31)
    assert report.resumed and report.added == 6
    assert client.requests == 1  # only the fetch was left to do


def test_sync_refuses_a_checkpoint_it_cannot_resume(tmp_path: Path) -> None:
    client = WikidataClient("http://127.0.0.1:9/sparql", min_interval_s=0)
    config = {"endpoint": client.endpoint, "roots": None, "max_depth": 3}
    saved = {"config": config, "run_id": "r1", "started": "2026-01-01", "phase": "anchors", "stage": 2}
    (tmp_path / "wikidata-sync.json").write_text(json.dumps(saved))
    with pytest.raises(MalformedFile, match="not a sync checkpoint this version can resume"):
        sync_wikidata(None, client, state_dir=tmp_path)  # type: ignore[arg-type]  # refused before any read
    assert json.loads((tmp_path / "wikidata-sync.json").read_text()) == saved


def _subtree(wordnet_nouns: WordNetNouns, lexicon: Lexicon, top: str) -> tuple[list[dict], list[dict]]:  # type: ignore[type-arg]
    """The concepts under ``top`` plus their ancestors, and the edges among them."""
    keep = {c for c in lexicon.concepts if top in lexicon.ancestors(c)}
    keep |= {a for c in list(keep) for a in lexicon.ancestors(c)}
    concepts = [{"id": c["id"], **c["props"]} for c in wordnet_nouns.concepts if c["id"] in keep]
    edges = [e for e in wordnet_nouns.edges if e["child"] in keep and e["parent"] in keep]
    return concepts, edges


def test_wu_palmer(lexicon: Lexicon) -> None:
    dog, cat, car = "wn:n02084071", "wn:n02121620", "wn:n02958343"
    assert lexicon.wu_palmer(dog, dog) == 1.0
    assert lexicon.wu_palmer(dog, cat) == lexicon.wu_palmer(cat, dog)
    assert 1 > lexicon.wu_palmer(dog, cat) > lexicon.wu_palmer(dog, car) > 0
    assert lexicon.wu_palmer(dog, cat) == 2 * 12 / (2 + 2 + 2 * 12)  # both two steps below carnivore
    several = [c for c in lexicon.concepts if len(lexicon.parents.get(c, ())) > 1][:300]
    assert all(0 < lexicon.wu_palmer(a, b) <= 1 for a, b in zip(several, several[1:], strict=False))


def test_eval_linking_scores_each_strategy(
    wordnet_nouns: WordNetNouns, lexicon: Lexicon, nlp, embedder: Embedder, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    concepts, edges = _subtree(wordnet_nouns, lexicon, "wn:n02083346")  # canine
    result = evaluate_leaves(concepts, edges, n=40, seed=3, embedder=embedder, nlp=nlp)
    rows = {r["strategy"]: r for r in result["rows"]}
    assert result["n"] == 40 and set(rows) == {"head", "embedding", "siblings", "genus+siblings", "policy"}
    assert rows["siblings"]["hit1"] <= rows["siblings"]["hit5"] and rows["siblings"]["coverage"] == 1.0
    for r in rows.values():
        assert r["n"] == 40 and 0 <= r["hit1"] <= 1 and 0 < r["wu_palmer"] <= 1 and 0 < r["coverage"] <= 1
    assert rows["embedding"]["hit1"] <= rows["embedding"]["hit5"] and rows["policy"]["hit5"] is None
    assert rows["embedding"]["coverage"] == 1.0 and rows["policy"]["hit1"] > 0.2  # dog breeds: easy
    assert (
        evaluate_leaves(concepts, edges, n=40, seed=3, embedder=embedder, nlp=nlp)["rows"] == result["rows"]
    )
    gold = [("golden retriever", "wn:n02099601"), ("Sealyham", "wn:n02095889")]
    shown = evaluate_gold(concepts, edges, gold, embedder=embedder, nlp=nlp)
    hidden = evaluate_gold(concepts, edges, gold, hide=True, embedder=embedder, nlp=nlp)
    # "golden retriever" -> "retriever" (its parent: a hit); "Sealyham" has no head word
    assert {r["strategy"]: r["hit1"] for r in shown["rows"]}["head"] == 0.5
    assert {r["strategy"]: r["hit1"] for r in hidden["rows"]}["policy"] >= 0.5  # golden -> retriever
    with pytest.raises(ConceptNotFound):
        evaluate_gold(concepts, edges, [("x", "wn:n99999999")], embedder=embedder, nlp=nlp)
    bad = tmp_path / "gold.tsv"
    bad.write_text("golden retriever\tn02099601\nno tab here\n")
    with pytest.raises(MalformedFile, match="gold.tsv:2"):
        read_gold(bad)
