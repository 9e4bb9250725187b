"""The full WordNet build in the real embedded store: counts, invariants, idempotence, kill + resume."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import neo4j

from bamboo.graph.store.build import BuildReport, build_wordnet
from bamboo.graph.store.embedded import ServerInfo
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.store.stats import graph_stats
from bamboo.graph.taxonomy.wordnet import WordNetNouns
from conftest import cli_env, run_cli


def test_build_counts_and_invariants(wordnet_build: BuildReport, store: GraphStore) -> None:
    assert wordnet_build.concepts >= 82115
    assert wordnet_build.edges == 84427
    assert wordnet_build.invariants.ok
    stats = graph_stats(store)
    assert stats.concepts >= 82115
    assert stats.invariants.acyclic and stats.invariants.rooted and stats.invariants.unique_ids
    assert stats.build_status == "complete"
    assert stats.content_hash == wordnet_build.content_hash


def test_dog_ancestors(store: GraphStore) -> None:
    ancestors = {r.id: r.depth for r in store.ancestors("wn:n02084071")}
    assert ancestors["wn:n02083346"] == 1  # canine
    assert "wn:n00001740" in ancestors  # entity
    assert ancestors["wn:n00001740"] == max(ancestors.values())


def test_descendants_match_wordnet(store: GraphStore, wordnet_nouns: WordNetNouns) -> None:
    children: dict[str, list[str]] = {}
    for e in wordnet_nouns.edges:
        children.setdefault(e["parent"], []).append(e["child"])
    expected: set[str] = set()
    stack = ["wn:n02084071"]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in expected:
                expected.add(child)
                stack.append(child)
    got = [r.id for r in store.iter_descendants("wn:n02084071", page_size=50)]
    assert len(got) == len(set(got))
    assert set(got) == expected and len(expected) > 100


def test_rebuild_is_identical(
    store: GraphStore, wordnet_nouns: WordNetNouns, wordnet_build: BuildReport
) -> None:
    again = build_wordnet(store, wordnet_nouns)
    assert again.content_hash == wordnet_build.content_hash
    assert (again.concepts, again.edges) == (wordnet_build.concepts, wordnet_build.edges)


def test_killed_build_then_rerun_gives_same_graph(
    server: ServerInfo, driver: neo4j.Driver, fresh_database: str, wordnet_build: BuildReport
) -> None:
    env = cli_env(server, BAMBOO_GRAPH_DATABASE=fresh_database)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bamboo.cli", "build", "--batch-size", "2000"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    half = GraphStore(driver, fresh_database)
    deadline = time.monotonic() + 300
    count = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            count = half.count_concepts()
        except Exception:  # the schema may not exist yet
            count = 0
        if count >= 30000:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < count < 82115, "the build should have been killed half-way"
    assert half.get_meta("build.status") == "running"
    rerun = run_cli(server, "build", BAMBOO_GRAPH_DATABASE=fresh_database)
    assert rerun.returncode == 0, rerun.stderr
    stats = json.loads(run_cli(server, "stats", "--json", BAMBOO_GRAPH_DATABASE=fresh_database).stdout)
    assert stats["content_hash"] == wordnet_build.content_hash
    assert stats["build_status"] == "complete"
    assert stats["invariants"]["ok"]
