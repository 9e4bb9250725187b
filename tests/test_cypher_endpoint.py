"""``POST /cypher`` against a real uvicorn server and the real embedded store.

Reads run; the attack corpus is refused or harmless and the graph does not move; bad input is a
JSON 4xx; the time limit cancels the statement in the database; slow statements never freeze the
rest of the service.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cypher_corpus import READS, attacks

from bamboo.graph.store.embedded import ServerInfo
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.invariants import content_hash, read_contents
from conftest import cli_env, free_port, serve_app, service_settings

PARAMS = {"id": "wn:n02084071", "x": 1, "list": [1, 2], "ids": ["wn:n02084071", "wn:n02085374"], "n": 2}
SLOW = "MATCH (a:Concept), (b:Concept) WHERE a.gloss < b.gloss RETURN count(*) AS n"


def _schema(store: GraphStore) -> tuple[list[str], list[str], int, int]:
    with store.driver.session(database=store.database) as s:
        labels = s.run("CALL db.labels() YIELD label RETURN collect(label) AS l").single()["l"]
        types = s.run(
            "CALL db.relationshipTypes() YIELD relationshipType AS t RETURN collect(t) AS l"
        ).single()["l"]
    return sorted(labels), sorted(types), store.count_concepts(), store.count_is_a()


@pytest.mark.parametrize("statement", READS)
def test_reads_run(api_url: str, statement: str) -> None:
    r = httpx.post(f"{api_url}/cypher", json={"query": statement, "params": PARAMS}, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body["rows"], list) and isinstance(body["columns"], list)


def test_reads_answer_correctly(api_url: str) -> None:
    def rows(query: str, **params: object) -> list[dict[str, object]]:
        r = httpx.post(f"{api_url}/cypher", json={"query": query, "params": params})
        assert r.status_code == 200, r.text
        return list(r.json()["rows"])

    assert rows("MATCH (c:Concept {id: $id}) RETURN c.name AS set", id="wn:n02084071") == [{"set": "dog"}]
    assert rows("MATCH (c:Concept {id: 'wn:n02084071'}) // x\rRETURN c.name AS n") == [{"n": "dog"}]
    assert rows("RETURN 'a\\'b\\u00e9' AS s") == [{"s": "a'b\u00e9"}]
    assert rows("MATCH (c:Concept {id: 'wn:n02084071'}) RETURN c {.name, set: 1} AS m") == [
        {"m": {"name": "dog", "set": 1}}
    ]
    assert rows("CALL db.labels() YIELD label WITH label WHERE label = 'Concept' RETURN label") == [
        {"label": "Concept"}
    ]
    path = rows("MATCH p = (:Concept {id: $id})-[:IS_A]->(:Concept) RETURN p LIMIT 1", id="wn:n02084071")[0][
        "p"
    ]
    assert path["nodes"][0]["properties"]["id"] == "wn:n02084071"  # type: ignore[index]
    assert path["relationships"][0]["type"] == "IS_A"  # type: ignore[index]


def test_attack_corpus_changes_nothing(api_url: str, store: GraphStore, server: ServerInfo) -> None:
    before, schema = content_hash(read_contents(store)), _schema(store)
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else None
    corpus = attacks()
    assert len(corpus) >= 300
    statuses: dict[int, int] = {}
    with httpx.Client(timeout=60) as client:
        for statement in corpus:
            sent = json.dumps({"query": statement, "params": {"q": "CREATE (:Pwned)"}}).encode()  # ASCII
            r = client.post(f"{api_url}/cypher", content=sent, headers={"content-type": "application/json"})
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            assert r.status_code in (200, 400, 422), (statement, r.status_code, r.text)
            body = r.json()
            if r.status_code == 200:  # only statements whose "payload" is really a comment
                assert body["rows"] == [{"'\\\\'": "\\"}] or body["columns"] == ["'\\\\'"], (statement, body)
            else:
                assert body["error"] in ("QueryError", "ValidationError", "BadRequest") and body["detail"], (
                    body
                )
            if hostname:
                assert hostname not in r.text
    assert statuses.get(400, 0) > 300
    assert content_hash(read_contents(store)) == before
    assert _schema(store) == schema


def _post(url: str, content: bytes, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{url}/cypher", content=content, headers={"content-type": "application/json", **headers}, timeout=30
    )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"query": NaN}', 422),
        (b'{"query": "RETURN $x AS x", "params": {"x": -Infinity}}', 422),
        (b'{"query": "RETURN $x AS x", "params": Infinity}', 422),
        (b'{"query": "RETURN 1 AS \\ud800"}', 400),
        (b'{"query": "RETURN $x AS x", "params": {"x": "\\udfff"}}', 400),
        (b'{"query": "RETURN 1 AS x", "params": {"\\ud800": 1}}', 400),
        (b'{"query": "RETURN 1 AS x", "params": ' + b'{"a": ' * 900 + b"1" + b"}" * 900 + b"}", 422),
        (b'{"query": "RETURN $x AS x", "params": {"x": ' + b"[" * 50 + b"]" * 50 + b"}}", 400),
        (b'{"query": "RETURN 1"', 422),
        (b"not json at all", 422),
        (b'{"query": 7}', 422),
        (b'{"query": ""}', 422),
        (b'{"query": "RETURN 1", "params": [1, 2]}', 422),
        (b'{"query": "' + b"x" * 20_001 + b'"}', 422),
        (b'{"query": "RETURN reduce(a = [], x IN range(1, 300) | [a]) AS deep"}', 400),
        (b'{"query": "MATCH (n RETURN n"}', 400),
        (b'{"query": "RETURN $x AS x", "params": {"x": 18446744073709551616}}', 400),
    ],
)
def test_bad_input_is_a_json_4xx(api_url: str, body: bytes, status: int) -> None:
    r = _post(api_url, body)
    assert r.status_code == status, r.text
    payload = r.json()
    assert payload["error"] and payload["detail"] and "\n" not in payload["detail"]
    assert r.headers["content-type"].startswith("application/json")


def test_body_and_result_caps(server: ServerInfo, wordnet_build: object) -> None:
    from bamboo.api import create_app

    settings = service_settings(
        server, server.database, max_body_bytes=100_000, cypher_max_bytes=50_000, cypher_max_depth=5
    )
    with serve_app(create_app(settings)) as url:
        big = json.dumps({"query": "RETURN $x AS x", "params": {"x": "y" * 200_000}}).encode()
        r = _post(url, big)
        assert r.status_code == 413 and r.json()["error"] == "PayloadTooLarge"
        r = httpx.post(f"{url}/cypher", json={"query": "MATCH (c:Concept) RETURN c.id AS id, c.gloss AS g"})
        body = r.json()
        assert r.status_code == 200 and body["truncated"] and body["truncated_by"] == "bytes"
        assert 0 < len(body["rows"]) < 1000 and len(r.content) < 60_000
        r = httpx.post(f"{url}/cypher", json={"query": "MATCH (c:Concept) RETURN c.id AS id"})
        assert r.json()["truncated_by"] == "rows" and len(r.json()["rows"]) == 1000
        r = httpx.post(f"{url}/cypher", json={"query": "RETURN [[[[[[[1]]]]]]] AS deep"})
        assert r.status_code == 400 and "nested more than 5" in r.json()["detail"], r.text
        r = httpx.post(f"{url}/cypher", json={"query": "RETURN $p AS p", "params": {"p": [[[[[[[1]]]]]]]}})
        assert r.status_code == 400 and "parameters are nested" in r.json()["detail"], r.text


def test_a_time_limit_cancels_only_its_own_statement(served: str) -> None:
    """Two users send the same slow statement 1.5 s apart: the first one's cancel must not end the
    second (cancels once matched by the statement's text, and the second came back 400 with the
    database's "terminated" error before its own time ran out)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(httpx.post, f"{served}/cypher", json={"query": SLOW}, timeout=60)
        time.sleep(1.5)
        t0 = time.monotonic()
        second = pool.submit(httpx.post, f"{served}/cypher", json={"query": SLOW}, timeout=60)
        answers = [first.result(), second.result()]
        took = time.monotonic() - t0
    assert [r.status_code for r in answers] == [504, 504], [r.text[:300] for r in answers]
    assert took >= 3.5, took  # the second ran to its own limit (4 s)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_time_limit_cancels_the_statement_in_the_database(server: ServerInfo, wordnet_build: object) -> None:
    from bamboo.api import create_app

    with serve_app(create_app(service_settings(server, server.database, cypher_timeout_s=2.0))) as url:
        t0 = time.monotonic()
        r = httpx.post(f"{url}/cypher", json={"query": SLOW}, timeout=60)
        assert r.status_code == 504 and r.json()["error"] == "QueryTimeout", r.text
        assert time.monotonic() - t0 < 5
        # The database stops it too (the reader's limit is 5 s here): within a few seconds the
        # server's CPU use falls back to idle instead of running the cross product to its end.
        time.sleep(4)
        cpu = _cpu_seconds(server.pid)
        time.sleep(2)
        assert _cpu_seconds(server.pid) - cpu < 0.5
        ok = httpx.post(
            f"{url}/cypher", json={"query": "MATCH (c:Concept {id: 'wn:n02084071'}) RETURN c.name AS n"}
        )
        assert ok.json()["rows"] == [{"n": "dog"}]


@pytest.fixture
def served(server: ServerInfo, wordnet_build: object, tmp_path: Path) -> Iterator[str]:
    """``bamboo serve`` as its own process (its own GIL and event loop), like ``make run``."""
    port = free_port()
    env = cli_env(server, BAMBOO_CYPHER_TIMEOUT_S="4", BAMBOO_CYPHER_CONCURRENCY="2")
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "bamboo.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise AssertionError((tmp_path / "serve.log").read_text()[-2000:])
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        log.close()


def test_slow_statements_never_freeze_the_service(served: str) -> None:
    """Four slow statements at once: two run, two get 503; /health and /concepts keep answering."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        slow = [
            pool.submit(httpx.post, f"{served}/cypher", json={"query": SLOW}, timeout=60) for _ in range(4)
        ]
        latencies: list[float] = []
        with httpx.Client(timeout=10) as client:
            t_end = time.monotonic() + 3.5
            while time.monotonic() < t_end:
                for path in ("/health", "/concepts/wn:n02084071"):
                    t0 = time.monotonic()
                    r = client.get(served + path)
                    latencies.append(time.monotonic() - t0)
                    assert r.status_code == 200, r.text
        statuses = sorted(f.result().status_code for f in slow)
    assert statuses == [503, 503, 504, 504], [(f.result().status_code, f.result().text[:300]) for f in slow]
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    # No request waits behind the statements (before: 30 s without an answer). The p99 < 100 ms
    # target is measured by benchmarks/api.py; here only "never frozen" is asserted.
    assert len(latencies) > 20 and p99 < 1.0, (len(latencies), p99)
    retry = [f.result() for f in slow if f.result().status_code == 503][0]
    assert retry.headers.get("retry-after") == "1" and retry.json()["error"] == "GraphBusy"
