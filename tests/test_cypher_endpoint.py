"""``POST /cypher``: read queries work; a corpus of mutations and tricks changes nothing."""

from __future__ import annotations

import httpx
import pytest

from bamboo.errors import QueryError
from bamboo.graph.invariants import content_hash, read_contents
from bamboo.graph.readonly import check_read_only
from bamboo.graph.store import GraphStore

MUTATIONS = [
    "CREATE (n:Concept {id: 'x'})",
    "create (n:Concept {id: 'x'})",
    "MERGE (n:Concept {id: 'wn:n02084071'}) ON MATCH SET n.name = 'cat'",
    "MATCH (n:Concept {id: 'wn:n02084071'}) SET n.name = 'cat'",
    "MATCH (n:Concept {id: 'wn:n02084071'}) SET n += {name: 'cat'}",
    "MATCH (n:Concept {id: 'wn:n02084071'}) DELETE n",
    "MATCH (n:Concept {id: 'wn:n02084071'}) DETACH DELETE n",
    "MATCH (n) DETACH DELETE n",
    "MATCH (n:Concept {id: 'wn:n02084071'}) REMOVE n.name",
    "MATCH (n:Concept {id: 'wn:n02084071'}) REMOVE n:Concept",
    "MATCH ()-[r:IS_A]->() DELETE r",
    "CALL dbms.security.createUser('eve', 'pw', false)",
    "CALL db.createLabel('Evil')",
    "CALL db.createProperty('evil')",
    "CALL db.index.fulltext.createNodeIndex('x', ['Concept'], ['name'])",
    "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line",
    "CALL { MATCH (n:Concept) DETACH DELETE n } IN TRANSACTIONS OF 10 ROWS",
    "MATCH (n:Concept) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS",
    "MATCH (n:Concept) WITH n LIMIT 1 FOREACH (x IN [1] | SET n.name = 'x')",
    "MATCH (n) RETURN n; MATCH (m) DETACH DELETE m",
    "MATCH (n) RETURN n LIMIT 1 UNION MATCH (m:Concept {id: 'wn:n02084071'}) SET m.x = 1 RETURN m",
    "MATCH (n) /* harmless */ DETACH /* really */ DELETE n",
    "MATCH (n) // comment\nDETACH DELETE n",
    "MATCH (n:Concept {id: 'wn:n02084071'})\nSET\nn.name='cat'",
    "MaTcH (n) dEtAcH dElEtE n",
    "DROP CONSTRAINT concept_id",
    "DROP INDEX concept_name",
    "CREATE INDEX evil FOR (n:Concept) ON (n.gloss)",
    "CREATE CONSTRAINT evil FOR (n:X) REQUIRE n.id IS UNIQUE",
    "CREATE DATABASE evil",
    "STOP DATABASE bamboo",
    "ALTER USER root SET PASSWORD 'x'",
    "SHOW USERS",
    "USE system SHOW DATABASES",
    "GRANT ALL ON DATABASE * TO PUBLIC",
    "USING PERIODIC COMMIT LOAD CSV FROM 'file:///x' AS l CREATE (:X)",
    "CALL apoc.periodic.iterate('MATCH (n) RETURN n', 'DETACH DELETE n', {})",
    "CALL apoc.create.node(['X'], {})",
    "MATCH (n:Concept) WITH n LIMIT 1 CALL apoc.nodes.delete(n, 1) YIELD value RETURN value",
    "INSERT INTO Concept SET id = 'x'",
    "UPDATE Concept SET name = 'x'",
    "MATCH (n) RETURN n\n;\nCREATE (m)",
    "WITH 1 AS x CREATE (:Concept {id: 'y'})",
    "OPTIONAL MATCH (n:Nope) MERGE (m:Concept {id: 'z'})",
]

READS = [
    ("MATCH (c:Concept {id: $id}) RETURN c.name AS name", {"id": "wn:n02084071"}, [{"name": "dog"}]),
    ("MATCH (c:Concept) WHERE c.name = 'CREATE' RETURN count(c) AS n", {}, [{"n": 0}]),
    (
        "MATCH (c:Concept {id: 'wn:n02084071'}) RETURN c {.name, set: 1} AS m",
        {},
        [{"m": {"name": "dog", "set": 1}}],
    ),
    (
        "CALL db.labels() YIELD label WITH label WHERE label = 'Concept' RETURN label",
        {},
        [{"label": "Concept"}],
    ),
]


@pytest.mark.parametrize("statement", MUTATIONS)
def test_guard_rejects_mutations(statement: str) -> None:
    with pytest.raises(QueryError):
        check_read_only(statement)


@pytest.mark.parametrize(("statement", "params", "rows"), READS)
def test_read_queries(api_url: str, statement: str, params: dict, rows: list) -> None:
    r = httpx.post(f"{api_url}/cypher", json={"query": statement, "params": params})
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == rows


def test_mutation_corpus_changes_nothing(api_url: str, store: GraphStore) -> None:
    before = content_hash(read_contents(store))
    counts = (store.count_concepts(), store.count_is_a())
    for statement in MUTATIONS:
        r = httpx.post(f"{api_url}/cypher", json={"query": statement})
        assert r.status_code == 400, (statement, r.text)
        assert r.json()["error"] == "QueryError"
    assert (store.count_concepts(), store.count_is_a()) == counts
    assert content_hash(read_contents(store)) == before


def test_row_cap_and_graph_values(api_url: str) -> None:
    r = httpx.post(f"{api_url}/cypher", json={"query": "MATCH (c:Concept) RETURN c.id AS id"}).json()
    assert len(r["rows"]) == 1000 and r["truncated"] is True
    r = httpx.post(
        f"{api_url}/cypher",
        json={
            "query": "MATCH p = (:Concept {id: $id})-[:IS_A]->(:Concept) RETURN p LIMIT 1",
            "params": {"id": "wn:n02084071"},
        },
    ).json()
    path = r["rows"][0]["p"]
    assert (
        path["nodes"][0]["properties"]["id"] == "wn:n02084071" and path["relationships"][0]["type"] == "IS_A"
    )


def test_bad_syntax_is_400(api_url: str) -> None:
    r = httpx.post(f"{api_url}/cypher", json={"query": "MATCH (n RETURN n"})
    assert r.status_code == 400 and r.json()["error"] == "QueryError"


def test_slow_query_gets_504_in_time(server, wordnet_build) -> None:  # type: ignore[no-untyped-def]
    import time

    from bamboo.api import create_app
    from conftest import serve_app, service_settings

    app = create_app(service_settings(server, server.database, cypher_timeout_s=1.0))
    with serve_app(app) as url:
        t0 = time.monotonic()
        r = httpx.post(
            f"{url}/cypher",
            timeout=60,
            json={"query": "MATCH (a:Concept), (b:Concept) WHERE a.gloss < b.gloss RETURN count(*) AS n"},
        )
        elapsed = time.monotonic() - t0
        assert r.status_code == 504 and r.json()["error"] == "QueryTimeout"
        assert elapsed < 5
        ok = httpx.post(
            f"{url}/cypher", json={"query": "MATCH (c:Concept {id: 'wn:n02084071'}) RETURN c.name AS n"}
        )
        assert ok.json()["rows"] == [{"n": "dog"}]
