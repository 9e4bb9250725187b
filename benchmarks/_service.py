"""``bamboo serve`` over an embedded store, as the service benchmarks run it: one process of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import neo4j

from bamboo.graph.store.build import build_wordnet
from bamboo.graph.store.embedded import ServerInfo
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.wordnet import read_nouns

# street, forest, platform: a scene set, so that the detection crawl has scenes to pair with
SCENES = ["wn:n04334599", "wn:n08438533", "wn:n03961939"]


def wordnet_store(info: ServerInfo, scenes: str) -> tuple[neo4j.Driver, GraphStore]:
    """A driver and a store on the server ``info``: WordNet built, the scene set ``scenes`` imported."""
    driver = neo4j.GraphDatabase.driver(info.uri, auth=(info.user, info.password))
    store = GraphStore(driver, info.database)
    build_wordnet(store, read_nouns())
    import_scenes(store, scenes)
    return driver, store


def import_scenes(store: GraphStore, name: str, scenes: list[str] = SCENES) -> None:
    """A classification dataset whose classes are the WordNet concepts ``scenes``."""
    store.import_dataset(
        name,
        {"task": "classification", "scenes": True},
        concepts=[],
        classes=[
            {"index": i, "raw_name": c, "concept": c, "method": "lemma", "confidence": 0.9}
            for i, c in enumerate(scenes)
        ],
    )


def start_service(data: Path, info: ServerInfo, port: int, *args: str, **env: str) -> subprocess.Popen[bytes]:
    """Start ``bamboo serve --port port *args`` on the store at ``data`` (``env``: more settings)
    and wait until ``/health`` answers."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BAMBOO_")}
    environ.update(
        BAMBOO_GRAPH_DATA_DIR=str(data),
        BAMBOO_GRAPH_BOLT_PORT=str(info.bolt_port),
        BAMBOO_GRAPH_HTTP_PORT=str(info.http_port),
        **env,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bamboo.cli", "serve", "--port", str(port), *args],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    return proc


def stop_service(proc: subprocess.Popen[bytes] | None) -> None:
    """Stop a service started by :func:`start_service` (its children too)."""
    if proc is not None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
