"""Linking the names an import leaves unplaced to Wikidata items by label, against a real SPARQL server
(oxigraph) loaded with hand-written triples in Wikidata's shapes (``fixtures/wikidata_models.ttl``),
real WordNet, and the real CLI against the session's embedded store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import neo4j
import pytest

from bamboo.graph.link.lexicon import Lexicon
from bamboo.graph.store.build import build_wordnet
from bamboo.graph.store.embedded import ServerInfo
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.invariants import check_invariants, content_hash, read_contents
from bamboo.graph.taxonomy.model import ENTITY_ID
from bamboo.graph.taxonomy.wordnet import WordNetNouns
from bamboo.graph.wikidata.client import WikidataClient, oxigraph_server
from bamboo.graph.wikidata.names import NameLinker, spellings
from bamboo.graph.wikidata.sync import read_wn31_map
from conftest import run_cli

FIXTURES = Path(__file__).parent / "fixtures"
CAR, AIRCRAFT, VEHICLE, DOG = "wn:n02958343", "wn:n02686568", "wn:n04524313", "wn:n02084071"
#: The synsets a sync has linked to Wikidata items (its ``qid`` property on the synset).
LINKED = {CAR: "Q1420", AIRCRAFT: "Q11436", VEHICLE: "Q42889"}
CLOSED = "http://127.0.0.1:9/sparql"  # the discard port: nothing listens


@pytest.fixture(scope="module")
def models() -> Iterator[str]:
    with oxigraph_server(turtle=(FIXTURES / "wikidata_models.ttl").read_bytes()) as url:
        yield url


@pytest.fixture(scope="module")
def linked(wordnet_nouns: WordNetNouns) -> Lexicon:
    """WordNet as the label system holds it after a sync anchored car, aircraft and vehicle."""
    rows = [{"id": c["id"], **c["props"]} for c in wordnet_nouns.concepts]
    rows = [r | {"qid": LINKED[r["id"]]} if r["id"] in LINKED else r for r in rows]
    return Lexicon(rows, wordnet_nouns.edges)


@contextmanager
def anchored_store(server: ServerInfo, database: str, wordnet_nouns: WordNetNouns) -> Iterator[GraphStore]:
    """WordNet in ``database``, with the anchors a sync leaves (car, aircraft, vehicle linked to items)."""
    driver = neo4j.GraphDatabase.driver(server.uri, auth=(server.user, server.password))
    try:
        store = GraphStore(driver, database)
        build_wordnet(store, wordnet_nouns)
        anchors = [{"id": cid, "props": {"qid": qid}} for cid, qid in LINKED.items()]
        store.apply_sync(concepts=anchors, links=[], meta={})
        yield store
    finally:
        driver.close()


def linker(url: str, lexicon: Lexicon, **options: object) -> NameLinker:
    probe = WikidataClient(url, timeout_s=5, max_retries=0, min_interval_s=0)
    return NameLinker(WikidataClient(url, min_interval_s=0, max_retries=0), lexicon, probe=probe, **options)  # type: ignore[arg-type]


def test_names_are_placed_through_instance_of_and_subclass_of(models: str, linked: Lexicon) -> None:
    link = linker(models, linked)
    found = link(["Trabant 601", "cessna 172", "Trabi"], [])
    trabant, cessna, trabi = found["Trabant 601"], found["cessna 172"], found["Trabi"]
    assert (trabant.concept, trabant.qid) == (CAR, "Q99000001")
    assert trabant.evidence.endswith("Q99000001 -P31-> Q3231690 -> Q1420 = wn:n02958343")
    assert trabant.score == round(0.95 * 0.9 * 0.9, 4)  # two steps, begun at P31
    assert cessna.concept == AIRCRAFT and "(label)" in cessna.evidence  # case ignored
    assert trabi.concept == CAR and trabi.score < trabant.score and "(alias)" in trabi.evidence
    assert not any(p.review for p in found.values())
    assert link.report.placed == 3 and link.report.skipped == ""
    assert link.report.requests <= 6  # one probe, one label query, one per level: batched, not per name


def test_an_ambiguous_label_is_flagged_unless_the_domain_separates_it(models: str, linked: Lexicon) -> None:
    link = linker(models, linked)
    # two aircraft and a car have "Skyhawk" as an alias; the page that has it as its label is a
    # disambiguation page, which is no concept
    (skyhawk,) = link(["Skyhawk"], []).values()
    assert skyhawk.concept is None and skyhawk.review
    assert set(skyhawk.candidates) == {AIRCRAFT, CAR} and "ambiguous" in skyhawk.note
    assert link.report.ambiguous == 1
    among_cars = link(["Skyhawk", "Cessna 172"], [CAR])
    assert among_cars["Skyhawk"].concept == CAR and "Q99000004" in among_cars["Skyhawk"].evidence
    assert "chosen by the list domain" in among_cars["Skyhawk"].note
    assert among_cars["Cessna 172"].concept is None  # an aircraft is outside a list of cars
    assert "outside the list domain" in among_cars["Cessna 172"].note


def test_a_freebase_id_the_list_gives_links_its_item_exactly(models: str, linked: Lexicon) -> None:
    """Open Images gives each class a Freebase id; the item that carries it (``P646``) is the class. It
    settles a label three items share, and finds an item whose label differs from the list's name. An
    id not shaped like a Freebase id is never sent: that name is looked up by its label."""
    link = linker(models, linked)
    hostile = '/m/0a" } ?item ?p ?o . {'
    ids = {"Skyhawk": "/m/0zzb1", "Falcon XA": "/m/0zzf2", "Trabant 601": hostile}
    found = link(["Skyhawk", "Falcon XA", "Trabant 601"], [], freebase=ids)
    skyhawk, falcon, trabant = found["Skyhawk"], found["Falcon XA"], found["Trabant 601"]
    assert (skyhawk.concept, skyhawk.qid, skyhawk.review) == (CAR, "Q99000004", False)
    assert "'Buick Skyhawk' (Freebase id /m/0zzb1)" in skyhawk.evidence
    assert skyhawk.score == round(0.95 * 0.9 * 0.9, 4)  # as a label match: no alias factor
    assert (falcon.concept, falcon.qid) == (CAR, "Q99000007")
    assert trabant.concept == CAR and "(label)" in trabant.evidence
    assert link.report.by_id == 2 and link.report.placed == 3
    nobody = link(["Skyhawk"], [], freebase={"Skyhawk": "/m/0nothing"})  # no item has it: by label
    assert nobody["Skyhawk"].concept is None and nobody["Skyhawk"].review and link.report.by_id == 0


def test_nothing_is_placed_when_no_path_reaches_a_linked_concept(models: str, linked: Lexicon) -> None:
    link = linker(models, linked)
    found = link(["Lada Niva", "Zorbo 9"], [])
    assert "Zorbo 9" not in found  # no item has the name
    assert found["Lada Niva"].concept is None and not found["Lada Niva"].review
    assert "no known concept" in found["Lada Niva"].note and link.report.no_path == 1
    shallow = linker(models, linked, max_depth=1)(["Trabant 601"], [])  # car is two levels up
    assert shallow["Trabant 601"].concept is None


def test_wordnet31_ids_anchor_as_the_sync_resolves_them(wordnet_nouns: WordNetNouns) -> None:
    """No synset carries a ``qid`` here: dog is found through its item's P8814 and the wn31 map."""
    plain = Lexicon([{"id": c["id"], **c["props"]} for c in wordnet_nouns.concepts], wordnet_nouns.edges)
    wn31 = read_wn31_map(FIXTURES / "wn31_map.tsv")
    with oxigraph_server(turtle=(FIXTURES / "wikidata_dogs.ttl").read_bytes()) as url:
        found = linker(url, plain, wn31_map=wn31)(["Zorbian hound", "Zorbian sighthound"], [])
    assert found["Zorbian hound"].concept == DOG and found["Zorbian hound"].score == 0.95
    assert found["Zorbian hound"].evidence.endswith("Q900001 -P279-> Q144 = wn:n02084071")
    assert found["Zorbian sighthound"].concept == DOG and found["Zorbian sighthound"].score == 0.855


def test_an_unreachable_endpoint_proposes_nothing_and_says_why(models: str, linked: Lexicon) -> None:
    closed = linker(CLOSED, linked)
    assert closed(["Trabant 601"], []) == {}
    assert "cannot reach SPARQL endpoint http://127.0.0.1:9/sparql" in closed.report.skipped
    assert closed.report.requests == 1  # the probe only
    wrong_path = linker(models.replace("/query", "/nothing-here"), linked)
    assert wrong_path(["Trabant 601"], []) == {} and wrong_path.report.skipped


def test_spellings_sent_cover_the_usual_cases() -> None:
    assert spellings("DC-10") == ["DC-10", "dc-10", "Dc-10"]
    assert "Airbus A320" in spellings("airbus a320")


def test_import_with_wikidata(
    server: ServerInfo, fresh_database: str, wordnet_nouns: WordNetNouns, models: str, tmp_path: Path
) -> None:
    """``bamboo import --wikidata``: names the offline mapping left under *entity* are placed, an
    ambiguous one is flagged in place, the rest stay; re-importing changes nothing; an unreachable
    endpoint is skipped in one line and the import still succeeds, keeping the better placements."""
    db = {"BAMBOO_GRAPH_DATABASE": fresh_database}
    with anchored_store(server, fresh_database, wordnet_nouns) as store:
        names = tmp_path / "mixed.txt"
        names.write_text("golden retriever\nTrabant 601\nCessna 172\nSkyhawk\nLada Niva\nZorbo 9\n")
        out = run_cli(server, "import", "mixed", str(names), "--wikidata", models, "--json", **db)
        assert out.returncode == 0, out.stderr
        rows = {r["raw_name"]: r for r in map(json.loads, out.stdout.splitlines())}
        assert rows["golden retriever"]["method"] == "lemma"  # mapped offline, never looked up
        assert rows["Trabant 601"]["parent"] == CAR and rows["Cessna 172"]["parent"] == AIRCRAFT
        assert rows["Trabant 601"]["placed_by"].startswith("wikidata Q99000001 'Trabant 601' (label)")
        assert not rows["Trabant 601"]["review"]
        assert rows["Skyhawk"]["parent"] == ENTITY_ID and rows["Skyhawk"]["review"]
        assert {rows[n]["parent"] for n in ("Lada Niva", "Zorbo 9")} == {ENTITY_ID}
        assert "wikidata: 5 names looked up, 4 match an item, 2 placed, 1 ambiguous" in out.stderr
        skyhawk = store.concept("bamboo:skyhawk")
        assert {AIRCRAFT, CAR} <= set(skyhawk.extra["alternatives"])
        placed = store.placements(["bamboo:trabant-601"])["bamboo:trabant-601"]
        assert (placed["parent"], placed["score"]) == (CAR, 0.7695)
        assert check_invariants(read_contents(store)).ok
        first = content_hash(read_contents(store))
        again = run_cli(server, "import", "mixed", str(names), "--wikidata", models, **db)
        assert again.returncode == 0, again.stderr
        assert "wikidata: 5 names looked up, 4 match an item, 2 placed" in again.stdout
        assert content_hash(read_contents(store)) == first
        offline = run_cli(server, "import", "mixed", str(names), "--wikidata", CLOSED, **db)
        assert offline.returncode == 0, offline.stderr
        skipped = [line for line in offline.stderr.splitlines() if "Wikidata" in line]
        assert len(skipped) == 1
        assert skipped[0].startswith(f"Wikidata linking skipped: {CLOSED}: cannot reach")
        assert "the offline placements stand" in skipped[0]
        # the offline placement (entity, 0.1) does not replace the better one the link made
        assert store.placements(["bamboo:trabant-601"])["bamboo:trabant-601"]["parent"] == CAR
        for hostile in ("query.wikidata.org", "file:///etc/passwd", "http://", "http://[::1", "https://a b/"):
            bad = run_cli(server, "import", "mixed", str(names), "--wikidata", hostile, **db)
            assert bad.returncode == 2 and "--wikidata takes an http(s) SPARQL endpoint URL" in bad.stderr


def test_build_with_wikidata(
    server: ServerInfo, fresh_database: str, wordnet_nouns: WordNetNouns, models: str, tmp_path: Path
) -> None:
    """``bamboo build --wikidata``: each list's names the offline mapping leaves under *entity* are
    linked as ``bamboo import --wikidata`` links them, with one line per list; an unreachable
    endpoint is said once, and the build goes on offline."""
    db = {"BAMBOO_GRAPH_DATABASE": fresh_database}
    with anchored_store(server, fresh_database, wordnet_nouns) as store:
        rows = ["/m/0a,Trabant 601", "/m/0b,Cessna 172", "/m/0c,Golden retriever", "/m/0d,Zorbo 9"]
        rows.append("/m/0zzf2,Falcon XA")  # no item has the name as its label; one carries the id
        (tmp_path / "oidv6-class-descriptions.csv").write_text("\n".join(rows) + "\n")
        args = ["build", "--datasets", "openimages", "--datasets-dir", str(tmp_path)]
        out = run_cli(server, *args, "--wikidata", models, **db)
        assert out.returncode == 0, out.stderr
        said = "wikidata: 4 names looked up, 3 match an item (1 by the list's Freebase id), 3 placed"
        assert said in out.stdout, out.stdout
        # the build counts what is left under the root (Zorbo 9: no item has the name or the id)
        assert "4 concepts not from WordNet, 1 (25.0%) with only entity above them" in out.stdout
        placed = store.placements(["bamboo:trabant-601", "bamboo:cessna-172", "bamboo:falcon-xa"])
        assert (
            placed["bamboo:trabant-601"]["parent"] == CAR
            and placed["bamboo:cessna-172"]["parent"] == AIRCRAFT
            and placed["bamboo:falcon-xa"]["parent"] == CAR
        )
        assert check_invariants(read_contents(store)).ok
        offline = run_cli(server, *args, "--wikidata", CLOSED, **db)
        assert offline.returncode == 0, offline.stderr
        said = [line for line in (offline.stdout + offline.stderr).splitlines() if "Wikidata" in line]
        assert len(said) == 1 and said[0].startswith(f"Wikidata linking skipped: {CLOSED}: cannot reach")
        assert store.placements(["bamboo:trabant-601"])["bamboo:trabant-601"]["parent"] == CAR
        bad = run_cli(server, *args, "--wikidata", "file:///etc/passwd", **db)
        assert bad.returncode == 2 and "--wikidata takes an http(s) SPARQL endpoint URL" in bad.stderr
