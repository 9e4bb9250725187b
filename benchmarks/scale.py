"""The paper's scale on one machine (issue #20): each figure beside its goal and a same-run baseline.

Parts (``--parts sync,serve,pool``; all by default):

* **sync**: a fresh embedded store gets WordNet (+ the dataset lists of ``--datasets-dir``), then
  ``bamboo sync wikidata`` runs against a real oxigraph server holding the full-size stand-in of
  ``benchmarks/wikidata_standin.py`` (190K items under 20K WordNet anchors). Reported: concepts after,
  time, this process's peak RSS, SPARQL requests, invariants; a second run (must change nothing); then
  1 % of the items are edited in oxigraph and a ``--since`` run rewrites only those. Baseline: the
  WordNet build of the same run (concepts/s).
* **serve**: the API over the synced graph: time until it answers, RSS, ``/concepts/{id}`` and
  ``/ancestors`` latency (p50/p99 over sequential requests; ``wrk`` when installed), ``POST /related``
  for a 20K-class label space; ``bamboo snapshot`` time and size, and the SDK's load time.
* **pool**: one round of Algorithm 1 over a simulated pool of ``--pool`` images (see
  :func:`pool_round`).

``--small`` runs every part at a size CI can afford (5K items, 200K-image pool) to check the path.
Usage: ``python benchmarks/scale.py [--small] [--parts sync,serve,pool] [--datasets-dir DIR]``.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import neo4j

from bamboo.graph.build import build_wordnet
from bamboo.graph.embedded import EmbeddedServer, ServerInfo, start_server, stop_server
from bamboo.graph.invariants import check_invariants, read_contents
from bamboo.graph.store import GraphStore
from bamboo.graph.sync import read_wn31_map, sync_wikidata
from bamboo.graph.wikidata import WikidataClient
from bamboo.graph.wordnet import read_nouns

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from wikidata_standin import generate  # noqa: E402

GOALS = {"concepts": 300_000, "sync_s": None}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _line(what: str, value: str, goal: str = "", extra: str = "") -> None:
    print(f"| {what} | {value} | {goal} | {extra} |")


@contextlib.contextmanager
def oxigraph_serving(triples: Path, folder: Path) -> Iterator[str]:
    """oxigraph bulk-loads ``triples`` into ``folder`` and serves it on 127.0.0.1; yields the query URL."""
    exe = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    subprocess.run(
        [exe, "load", "--location", str(folder), "--file", str(triples)], check=True, capture_output=True
    )
    port = _port()
    proc = subprocess.Popen(
        [exe, "serve", "--location", str(folder), "--bind", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(base + "/query", params={"query": "ASK {}"}, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


def _edit_items(base: str, triples: Path, share: float) -> int:
    """Relabel ``share`` of the stand-in's non-anchor items in the running oxigraph, with a new
    modification time; returns how many."""
    qids = []
    with triples.open() as fh:
        for line in fh:
            if "dateModified" in line:
                qids.append(line.split(">", 1)[0].rsplit("/", 1)[1])
    step = max(int(1 / share), 1)
    chosen = qids[::step]
    for i in range(0, len(chosen), 500):
        chunk = chosen[i : i + 500]
        values = " ".join(f"wd:{q}" for q in chunk)
        update = (
            "PREFIX wd: <http://www.wikidata.org/entity/>\n"
            "PREFIX schema: <http://schema.org/>\n"
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
            "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
            "DELETE { ?i schema:dateModified ?m . ?i rdfs:label ?l }\n"
            'INSERT { ?i schema:dateModified "2026-11-30T00:00:00Z"^^xsd:dateTime .'
            " ?i rdfs:label ?new }\n"
            f"WHERE {{ VALUES ?i {{ {values} }} ?i schema:dateModified ?m . ?i rdfs:label ?l ."
            ' FILTER(LANG(?l) = "en") BIND(STRLANG(CONCAT(STR(?l), " (renamed)"), "en") AS ?new) }'
        )
        r = httpx.post(
            base + "/update", content=update, headers={"Content-Type": "application/sparql-update"}
        )
        r.raise_for_status()
    return len(chosen)


def sync_part(
    store: GraphStore, work: Path, *, items: int, anchors: int, datasets_dir: Path | None
) -> dict[str, Any]:
    """Part 1 (see the module docstring); returns figures the serve part reuses."""
    from bamboo.cli.graph import _read_datasets, dataset_mapper
    from bamboo.graph.datasets import import_label_set

    t0 = time.perf_counter()
    report = build_wordnet(store, read_nouns())
    wordnet_s = time.perf_counter() - t0
    if datasets_dir is not None:
        label_sets = _read_datasets(None, datasets_dir)
        mapper = dataset_mapper(store, label_sets, None)
        for ls in label_sets:
            import_label_set(store, ls, mapper)
    base_concepts = store.count_concepts()
    built_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    made = generate(work / "standin", items=items, anchors=anchors)
    gen_s = time.perf_counter() - t0
    print(
        f"\n## Sync at scale: {made.items:,} stand-in items under {made.anchors:,} anchors "
        f"({made.n_triples:,} triples, {made.shortcuts} shortcut edges, {made.cycles} cycles; "
        f"generated in {gen_s:.0f} s)\n"
    )
    print("| figure | measured | goal | baseline / note |\n|---|---|---|---|")
    _line(
        "WordNet build (baseline)",
        f"{report.concepts:,} concepts in {wordnet_s:.1f} s",
        "",
        f"{report.concepts / wordnet_s:,.0f} concepts/s",
    )
    _line("graph before the sync", f"{base_concepts:,} concepts", "", f"built in {built_s:.0f} s")
    wn31 = read_wn31_map(made.wn31_map)
    with oxigraph_serving(made.triples, work / "oxigraph") as base:
        state = work / "sync-state"

        def run(since: str | None = None) -> tuple[Any, float, float]:
            client = WikidataClient(base + "/query", min_interval_s=0.0, batch=1000, timeout_s=600)
            t = time.perf_counter()
            r = sync_wikidata(store, client, state_dir=state, max_depth=64, since=since, wn31_map=wn31)
            return r, time.perf_counter() - t, _peak_rss_mb()

        first, first_s, rss = run()
        contents = read_contents(store)
        inv = check_invariants(contents)
        n = len(contents.concepts)
        _line("concepts after the sync", f"{n:,}", f"≈ {GOALS['concepts']:,}", f"+{n - base_concepts:,}")
        _line(
            "first sync",
            f"{first_s:.0f} s",
            "",
            f"{first.added:,} added, {first.changed:,} changed, "
            f"{len(first.repaired)} repairs, {first.requests:,} SPARQL requests",
        )
        _line("peak RSS of the syncing process", f"{rss:,.0f} MB", "", "")
        _line("invariants after", inv.describe(), "all hold", "")
        second, second_s, _ = run()
        _line(
            "second sync (same data)",
            f"{second_s:.0f} s",
            "changes nothing",
            f"{second.added} added, {second.changed} changed, {second.unchanged:,} unchanged",
        )
        edited = _edit_items(base, made.triples, 0.01)
        third, third_s, _ = run(since="2026-11-01")
        _line(
            f"--since after editing {edited:,} items",
            f"{third_s:.0f} s",
            f"rewrites only those {edited:,}",
            f"{third.changed:,} changed, {third.skipped_since:,} skipped as unmodified",
        )
    return {"concepts": n}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", action="store_true", help="CI-sized run of every part")
    parser.add_argument("--parts", default="sync,serve,pool")
    parser.add_argument(
        "--datasets-dir", type=Path, default=HERE.parents[1] / "shared" / "data" / "labelsets"
    )
    args = parser.parse_args()
    parts = {p.strip() for p in args.parts.split(",")}
    items, anchors = (5_000, 2_000) if args.small else (190_000, 20_000)
    datasets_dir = args.datasets_dir if args.datasets_dir.exists() and not args.small else None
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        info: ServerInfo = start_server(
            EmbeddedServer(data_dir=work / "db", bolt_port=_port(), http_port=_port(), heap="4g")
        )
        driver = neo4j.GraphDatabase.driver(info.uri, auth=(info.user, info.password))
        try:
            store = GraphStore(driver, info.database)
            if "sync" in parts:
                sync_part(store, work, items=items, anchors=anchors, datasets_dir=datasets_dir)
        finally:
            driver.close()
            stop_server(work / "db")


if __name__ == "__main__":
    main()
