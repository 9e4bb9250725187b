"""Driver-level suite of the query module on a small, hand-written taxonomy.

It runs on the embedded ArcadeDB server always, and unchanged on a real Neo4j 5 when
``BAMBOO_TEST_NEO4J_URI`` (plus ``_USER``, ``_PASSWORD``, ``_DATABASE``) is set: that database is
wiped, so point it at a scratch database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import neo4j
import pytest

from bamboo.errors import ConceptNotFound, GraphUnavailable
from bamboo.graph.store.embedded import ServerInfo
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.invariants import check_invariants, content_hash, read_contents

pytestmark = pytest.mark.neo4j

# entity <- physical entity <- object <- animal <- {dog, cat}; dog <- puppy;
# dog also IS_A domestic animal <- animal (a second parent, as in WordNet).
CONCEPTS = {
    "wn:n00001740": "entity",
    "wn:n00001930": "physical entity",
    "wn:n00002684": "object",
    "wn:n00015388": "animal",
    "wn:n01317541": "domestic animal",
    "wn:n02084071": "dog",
    "wn:n02121620": "cat",
    "wn:n01322604": "puppy",
}
EDGES = [
    ("wn:n00001930", "wn:n00001740"),
    ("wn:n00002684", "wn:n00001930"),
    ("wn:n00015388", "wn:n00002684"),
    ("wn:n01317541", "wn:n00015388"),
    ("wn:n02084071", "wn:n00015388"),
    ("wn:n02084071", "wn:n01317541"),
    ("wn:n02121620", "wn:n00015388"),
    ("wn:n01322604", "wn:n02084071"),
]


def _rows() -> tuple[list[dict], list[dict]]:
    concepts = [
        {"id": cid, "props": {"name": name, "lemmas": [name], "gloss": f"gloss of {name}", "source": "test"}}
        for cid, name in CONCEPTS.items()
    ]
    edges = [{"child": c, "parent": p, "kind": "hypernym", "source": "test"} for c, p in EDGES]
    return concepts, edges


def _backends() -> list:
    params = [pytest.param("arcadedb", id="arcadedb")]
    if os.environ.get("BAMBOO_TEST_NEO4J_URI"):
        params.append(pytest.param("neo4j", id="neo4j"))
    return params


@pytest.fixture(params=_backends())
def small(request: pytest.FixtureRequest, server: ServerInfo) -> Iterator[GraphStore]:
    if request.param == "neo4j":
        drv = neo4j.GraphDatabase.driver(
            os.environ["BAMBOO_TEST_NEO4J_URI"],
            auth=(
                os.environ.get("BAMBOO_TEST_NEO4J_USER", "neo4j"),
                os.environ["BAMBOO_TEST_NEO4J_PASSWORD"],
            ),
        )
        database = os.environ.get("BAMBOO_TEST_NEO4J_DATABASE", "neo4j")
    else:
        database = request.getfixturevalue("fresh_database")
        drv = neo4j.GraphDatabase.driver(server.uri, auth=(server.user, server.password))
    store = GraphStore(drv, database)
    store.clear()
    store.ensure_schema()
    concepts, edges = _rows()
    store.upsert_concepts(concepts, batch_size=3)
    store.upsert_is_a(edges, batch_size=3)
    yield store
    drv.close()


def test_schema_and_upserts_are_idempotent(small: GraphStore) -> None:
    before = content_hash(read_contents(small))
    small.ensure_schema()
    concepts, edges = _rows()
    small.upsert_concepts(concepts)
    small.upsert_is_a(edges)
    assert small.count_concepts() == len(CONCEPTS)
    assert small.count_is_a() == len(EDGES)
    assert content_hash(read_contents(small)) == before


def test_concept_round_trip(small: GraphStore) -> None:
    dog = small.concept("wn:n02084071")
    assert dog.name == "dog"
    assert dog.lemmas == ("dog",)
    assert dog.gloss == "gloss of dog"
    assert dog.visual is None


def test_ancestors_with_shortest_depth(small: GraphStore) -> None:
    depths = {r.id: r.depth for r in small.ancestors("wn:n01322604")}
    # puppy -> dog (1) -> animal (2, directly, though also 3 via domestic animal) -> ... -> entity (5)
    assert depths == {
        "wn:n02084071": 1,
        "wn:n00015388": 2,
        "wn:n01317541": 2,
        "wn:n00002684": 3,
        "wn:n00001930": 4,
        "wn:n00001740": 5,
    }
    assert small.ancestors("wn:n00001740") == []


def test_parents_and_children(small: GraphStore) -> None:
    assert [p.id for p in small.parents("wn:n02084071")] == ["wn:n00015388", "wn:n01317541"]
    assert {c.id for c in small.children("wn:n00015388")} == {"wn:n01317541", "wn:n02084071", "wn:n02121620"}
    assert small.children("wn:n01322604") == []


def test_descendant_pages_cover_each_descendant_once(small: GraphStore) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        page = small.descendants("wn:n00001740", cursor=cursor, limit=2)
        assert len(page.items) <= 2
        seen += [r.id for r in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == sorted(set(CONCEPTS) - {"wn:n00001740"})


@pytest.mark.parametrize("method", ["concept", "ancestors", "parents", "children", "descendants"])
def test_unknown_id_raises_concept_not_found(small: GraphStore, method: str) -> None:
    with pytest.raises(ConceptNotFound, match="wn:n99999999"):
        getattr(small, method)("wn:n99999999")
    with pytest.raises(KeyError):  # ConceptNotFound is a KeyError too
        getattr(small, method)("wn:n99999999")


def test_invariants_detect_cycle_and_orphan(small: GraphStore) -> None:
    assert check_invariants(read_contents(small)).ok
    small.upsert_concepts([{"id": "wd:Q1", "props": {"name": "orphan", "source": "test"}}])
    report = check_invariants(read_contents(small))
    assert not report.rooted and report.unrooted == ["wd:Q1"]
    small.upsert_is_a(
        [{"child": "wn:n00015388", "parent": "wn:n01322604", "kind": "hypernym", "source": "test"}]
    )
    report = check_invariants(read_contents(small))
    assert not report.acyclic
    assert set(report.cycle) <= {"wn:n00015388", "wn:n02084071", "wn:n01322604", "wn:n01317541"}
    assert "cycle" in report.describe()


def test_missing_database_is_a_clear_error(small: GraphStore) -> None:
    other = GraphStore(small.driver, "no_such_database_here")
    with pytest.raises(GraphUnavailable, match="no_such_database_here"):
        other.concept("wn:n02084071")


def test_user_cypher_corpora(small: GraphStore, server: ServerInfo) -> None:
    """The read and attack corpora through the validator and the reader, on each backend."""
    from cypher_corpus import READS, attacks

    from bamboo.errors import BambooError, QueryError
    from bamboo.graph.usercypher.guard import check_read_only
    from bamboo.graph.usercypher.runner import CypherLimits, UserCypher

    on_neo4j = os.environ.get("BAMBOO_TEST_NEO4J_URI") and small.database == os.environ.get(
        "BAMBOO_TEST_NEO4J_DATABASE", "neo4j"
    )
    if on_neo4j:  # a reader-role user when given; else the admin in a READ transaction, which Neo4j enforces
        uri = os.environ["BAMBOO_TEST_NEO4J_URI"]
        auth = (
            os.environ.get(
                "BAMBOO_TEST_NEO4J_READER_USER", os.environ.get("BAMBOO_TEST_NEO4J_USER", "neo4j")
            ),
            os.environ.get("BAMBOO_TEST_NEO4J_READER_PASSWORD", os.environ["BAMBOO_TEST_NEO4J_PASSWORD"]),
        )
    else:
        uri, auth = server.uri, (server.reader_user, server.reader_password)
    runner = UserCypher(uri, auth, small.database, CypherLimits(timeout_s=10))
    params = {
        "id": "wn:n02084071",
        "x": 1,
        "list": [1, 2],
        "ids": ["wn:n02084071"],
        "n": 2,
        "q": "CREATE (:X)",
    }
    before = content_hash(read_contents(small))
    failed_reads = []
    for statement in READS:
        if on_neo4j and "create.uuid" in statement:
            continue  # ArcadeDB's function; Neo4j has none by that name
        handle = runner.open()
        try:
            runner.run(handle, check_read_only(statement), params)
        except BambooError as exc:
            failed_reads.append((statement, str(exc)))
        finally:
            handle.close()
    assert not failed_reads
    for statement in attacks():
        try:
            canonical = check_read_only(statement)
        except QueryError:
            continue
        handle = runner.open()
        try:
            runner.run(handle, canonical, params)
        finally:
            handle.close()
    assert content_hash(read_contents(small)) == before


def test_bulk_create_writes_what_the_upserts_write(
    driver: neo4j.Driver, store: GraphStore, fresh_database: str, server: ServerInfo
) -> None:
    """The bulk path (CREATE, big batches, parallel sessions: what a build into an empty store
    uses) and the upserts (what a rebuild uses) give the same content hash, and the bulk path
    refuses a store that already has concepts."""
    from bamboo.errors import InvariantViolation
    from bamboo.graph.store.embedded import create_database, drop_database

    source = read_contents(store)
    rows = [{"id": c["id"], "props": {k: v for k, v in c.items() if k != "id"}} for c in source.concepts]
    target = GraphStore(driver, fresh_database)
    target.bulk_create(rows, source.edges, batch_size=7000, workers=2)
    assert content_hash(read_contents(target)) == content_hash(source)
    # The two paths side by side on the WordNet part of the graph (the upserts write kind and
    # source only, as the WordNet build does).
    wn = {c["id"] for c in source.concepts if c.get("source") == "wordnet"}
    wn_rows = [r for r in rows if r["id"] in wn]
    wn_edges = [e for e in source.edges if e["child"] in wn and e["parent"] in wn]
    hashes = []
    for path in ("bulk", "upserts"):
        name = f"{fresh_database[:30]}_{path}"
        drop_database(server, name)
        create_database(server, name)
        try:
            other = GraphStore(driver, name)
            if path == "bulk":
                other.bulk_create(
                    wn_rows, [{k: e[k] for k in ("child", "parent", "kind", "source")} for e in wn_edges]
                )
            else:
                other.ensure_schema()
                other.upsert_concepts(wn_rows)
                other.upsert_is_a(wn_edges)
            hashes.append(content_hash(read_contents(other)))
        finally:
            drop_database(server, name)
    assert hashes[0] == hashes[1]
    with pytest.raises(InvariantViolation, match="empty store"):
        target.bulk_create([{"id": "x:1", "props": {"name": "x"}}], [])
    assert target.count_concepts() == len(source.concepts)
