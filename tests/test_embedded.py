"""Lifecycle of the embedded ArcadeDB server: start, reuse, stop, port conflicts."""

from __future__ import annotations

import socket
from pathlib import Path

import neo4j
import pytest

from bamboo.errors import GraphUnavailable
from bamboo.graph.store.embedded import EmbeddedServer, ServerInfo, server_status, start_server, stop_server
from conftest import free_port


def test_start_reuse_stop(tmp_path: Path) -> None:
    cfg = EmbeddedServer(data_dir=tmp_path, bolt_port=free_port(), http_port=free_port(), heap="512m")
    info = start_server(cfg)
    try:
        assert server_status(tmp_path) == info
        assert start_server(cfg).pid == info.pid  # reused
        assert (tmp_path / "server.json").stat().st_mode & 0o777 == 0o600
    finally:
        assert stop_server(tmp_path)
    assert server_status(tmp_path) is None
    assert not stop_server(tmp_path)


def test_port_in_use_is_a_clear_error(tmp_path: Path, server: ServerInfo) -> None:
    cfg = EmbeddedServer(data_dir=tmp_path, bolt_port=server.bolt_port, http_port=free_port())
    with pytest.raises(GraphUnavailable, match=f"port {server.bolt_port} .* already in use"):
        start_server(cfg)


def test_stale_state_file_is_ignored(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "server.json").write_text(
        f'{{"pid": 999999, "bolt_port": {port}, "http_port": 1, "database": "bamboo", "user": "root", '
        f'"password": "x", "data_dir": "{tmp_path}"}}'
    )
    assert server_status(tmp_path) is None
    assert not (tmp_path / "server.json").exists()


def test_command_timeout_aborts_a_runaway_query(tmp_path: Path) -> None:
    import time

    from bamboo.graph.store.graph_store import GraphStore

    cfg = EmbeddedServer(
        data_dir=tmp_path, bolt_port=free_port(), http_port=free_port(), heap="1g", command_timeout_s=2
    )
    info = start_server(cfg)
    drv = neo4j.GraphDatabase.driver(info.uri, auth=(info.user, info.password))
    try:
        store = GraphStore(drv, info.database)
        store.ensure_schema()
        store.upsert_concepts(
            [{"id": f"x:{i}", "props": {"name": f"n{i:05d}"}} for i in range(20000)], batch_size=1000
        )
        t0 = time.monotonic()
        with (
            pytest.raises(neo4j.exceptions.Neo4jError, match="(?i)timeout"),
            drv.session(database=info.database) as s,
        ):
            s.run("MATCH (a:Concept), (b:Concept) WHERE a.name < b.name RETURN count(*) AS n").consume()
        assert time.monotonic() - t0 < 30
        assert store.count_concepts() == 20000  # and the server still answers
    finally:
        drv.close()
        stop_server(tmp_path)


def test_reader_user_can_only_read_and_no_secret_is_on_the_command_line(server: ServerInfo) -> None:
    """The second layer: even a statement the parser would refuse cannot write as the reader."""
    cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes().decode(errors="replace")
    assert server.password not in cmdline and server.reader_password not in cmdline
    assert "rootPassword" not in cmdline
    for name in (".jvm-options", ".root-password", ".reader-password", "server.json"):
        assert (Path(server.data_dir) / name).stat().st_mode & 0o077 == 0, name

    drv = neo4j.GraphDatabase.driver(server.uri, auth=(server.reader_user, server.reader_password))
    admin = neo4j.GraphDatabase.driver(server.uri, auth=(server.user, server.password))
    try:
        with admin.session(database=server.database) as s:
            s.run("MERGE (:Meta {key: 'reader-test', value: 'v'})").consume()
            before = s.run("MATCH (n) RETURN count(n) AS n").single()["n"]
            labels = s.run("CALL db.labels() YIELD label RETURN collect(label) AS l").single()["l"]
        writes = [
            "CREATE (:Pwned {id: 'x'})",
            "MERGE (:Meta {key: 'pwned'})",
            "MATCH (m:Meta {key: 'reader-test'}) SET m.value = 'pwned'",
            "MATCH (m:Meta {key: 'reader-test'}) DETACH DELETE m",
            "CALL { CREATE (:Pwned) } IN TRANSACTIONS",
            "CREATE INDEX pwned FOR (n:Meta) ON (n.value)",
            "LOAD CSV FROM 'file:///etc/hostname' AS l RETURN l",
            "RETURN sql.eval('INSERT INTO Meta SET key = \"pwned\"') AS r",
        ]
        for statement in writes:
            with pytest.raises(neo4j.exceptions.Neo4jError), drv.session(database=server.database) as s:
                s.run(statement).consume()
        with drv.session(database=server.database) as s:
            assert s.run("MATCH (m:Meta {key: 'reader-test'}) RETURN m.value AS v").single()["v"] == "v"
        with admin.session(database=server.database) as s:
            assert s.run("MATCH (n) RETURN count(n) AS n").single()["n"] == before
            after = s.run("CALL db.labels() YIELD label RETURN collect(label) AS l").single()["l"]
            assert sorted(after) == sorted(labels)
            s.run("MATCH (m:Meta {key: 'reader-test'}) DELETE m").consume()
    finally:
        drv.close()
        admin.close()
