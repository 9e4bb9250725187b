"""Build speed and ancestor-query latency of the embedded store, each against an in-run baseline.

Prints:
* WordNet read time, build time and concepts/s of the batched build (goal: full build < 60 s),
  against one-row-per-transaction writes of a sample (the baseline) -> speed-up ratio;
* p50/p99 of ``GraphStore.ancestors`` (one variable-length Cypher query) over random concepts
  (goal: p50 < 5 ms through Bolt), against a client-side walk that asks for each concept's parents
  one round trip at a time (the baseline) -> speed-up ratio.

Usage: ``python benchmarks/build.py [--samples 500]``. Starts its own embedded server in a
temporary folder and stops it at the end.
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import tempfile
import time
from pathlib import Path

import neo4j

from bamboo.graph.store.build import build_wordnet
from bamboo.graph.store.embedded import EmbeddedServer, create_database, start_server, stop_server
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.wordnet import read_nouns


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _walk_ancestors(store: GraphStore, concept_id: str) -> set[str]:
    seen: set[str] = set()
    frontier = [concept_id]
    while frontier:
        nxt = []
        for cid in frontier:
            for p in store.parents(cid):
                if p.id not in seen:
                    seen.add(p.id)
                    nxt.append(p.id)
        frontier = nxt
    return seen


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=500, help="concepts to query")
    parser.add_argument("--baseline-rows", type=int, default=2000, help="rows written one per transaction")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        info = start_server(EmbeddedServer(data_dir=Path(tmp), bolt_port=_port(), http_port=_port()))
        driver = neo4j.GraphDatabase.driver(info.uri, auth=(info.user, info.password))
        try:
            t0 = time.perf_counter()
            nouns = read_nouns()
            read_s = time.perf_counter() - t0
            store = GraphStore(driver, info.database)
            report = build_wordnet(store, nouns)
            rate = report.concepts / report.seconds

            create_database(info, "baseline")
            base = GraphStore(driver, "baseline")
            base.ensure_schema()
            sample = nouns.concepts[: args.baseline_rows]
            t0 = time.perf_counter()
            base.upsert_concepts(sample, batch_size=1)
            base_rate = len(sample) / (time.perf_counter() - t0)

            rng = random.Random(0)
            ids = [c["id"] for c in rng.sample(nouns.concepts, args.samples)]
            for cid in ids[:20]:  # warm-up
                store.ancestors(cid)
            fast, slow = [], []
            for cid in ids:
                t0 = time.perf_counter()
                got = {r.id for r in store.ancestors(cid)}
                fast.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                want = _walk_ancestors(store, cid)
                slow.append((time.perf_counter() - t0) * 1000)
                assert got == want, f"ancestors of {cid} disagree"
        finally:
            driver.close()
            stop_server(Path(tmp))

    p50, p99, b50 = statistics.median(fast), _pct(fast, 99), statistics.median(slow)
    print(f"wordnet read           {read_s:8.1f} s")
    print(
        f"build (write+checks)   {report.seconds:8.1f} s   {report.concepts} concepts, {report.edges} edges"
    )
    print(
        f"total build            {read_s + report.seconds:8.1f} s   goal < 60 s: "
        f"{'met' if read_s + report.seconds < 60 else 'NOT met'}"
    )
    print(f"batched writes         {rate:8.0f} concepts/s")
    print(f"baseline 1 row/tx      {base_rate:8.0f} concepts/s   ratio {rate / base_rate:6.1f}x")
    print(
        f"ancestors p50 / p99    {p50:8.2f} / {p99:.2f} ms   "
        f"goal p50 < 5 ms: {'met' if p50 < 5 else 'NOT met'}"
    )
    print(f"baseline walk p50      {b50:8.2f} ms   ratio {b50 / p50:6.1f}x")


if __name__ == "__main__":
    main()
