"""Shared fixtures: one real embedded ArcadeDB server for the session, with WordNet built into it.

Nothing here is faked: the server is the same ``arcadedb-embedded`` process that ``bamboo db start``
runs, WordNet is the real 3.0 dict folder, and the CLI is run as a subprocess.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import neo4j
import pytest

from bamboo.graph.build import BuildReport, build_wordnet
from bamboo.graph.embedded import EmbeddedServer, ServerInfo, create_database, start_server, stop_server
from bamboo.graph.store import GraphStore
from bamboo.graph.wordnet import WordNetNouns, read_nouns

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerInfo]:
    data_dir = tmp_path_factory.mktemp("arcadedb")
    info = start_server(EmbeddedServer(data_dir=data_dir, bolt_port=free_port(), http_port=free_port(), heap="2g"))
    yield info
    stop_server(data_dir)


@pytest.fixture(scope="session")
def driver(server: ServerInfo) -> Iterator[neo4j.Driver]:
    drv = neo4j.GraphDatabase.driver(server.uri, auth=(server.user, server.password))
    yield drv
    drv.close()


@pytest.fixture(scope="session")
def wordnet_nouns() -> WordNetNouns:
    return read_nouns()


@pytest.fixture(scope="session")
def wordnet_build(server: ServerInfo, driver: neo4j.Driver, wordnet_nouns: WordNetNouns) -> BuildReport:
    """WordNet built once into the server's default database."""
    return build_wordnet(GraphStore(driver, server.database), wordnet_nouns)


@pytest.fixture(scope="session")
def store(driver: neo4j.Driver, server: ServerInfo, wordnet_build: BuildReport) -> GraphStore:
    return GraphStore(driver, server.database)


@pytest.fixture
def fresh_database(server: ServerInfo, request: pytest.FixtureRequest) -> str:
    """A new, empty database on the session server, named after the test."""
    name = "t_" + "".join(ch if ch.isalnum() else "_" for ch in request.node.name)[:40]
    from bamboo.graph.embedded import drop_database

    drop_database(server, name)
    create_database(server, name)
    return name


def cli_env(server: ServerInfo, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAMBOO_")}
    env.update(
        BAMBOO_GRAPH_DATA_DIR=server.data_dir,
        BAMBOO_GRAPH_BOLT_PORT=str(server.bolt_port),
        BAMBOO_GRAPH_HTTP_PORT=str(server.http_port),
        BAMBOO_GRAPH_DATABASE=server.database,
    )
    env.update(extra)
    return env


def run_cli(server: ServerInfo, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bamboo.cli", *args],
        env=cli_env(server, **env),
        capture_output=True,
        text=True,
        timeout=600,
    )
