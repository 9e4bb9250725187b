"""API throughput and latency under concurrent load on 127.0.0.1, and related-set speed.

Prints, each against a baseline measured in the same run:
* requests/s and p50/p99 latency of ``GET /concepts/{id}`` and ``GET /concepts/{id}/ancestors``
  (goal: >= 1,500 req/s, p99 < 50 ms on a 2-core machine), against a bare async FastAPI endpoint
  that returns a constant under the same server and load (the framework's ceiling here);
* the time to compute related sets for all ImageNet-22K classes against the ImageNet-1K label space
  (goal < 2 s) through ``POST /related`` and in-process, against the plain per-query set-based
  reference implementation timed on a sample and extrapolated.

The server runs in its own process (uvicorn, ``--workers`` processes); the load comes from this
process with ``--concurrency`` connections for ``--seconds`` per endpoint. Needs ImageNet label files
(timm's, or ``../shared/data/labelsets``) for the related-set part; skipped with a note otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import neo4j

from bamboo.graph.store.build import build_wordnet
from bamboo.graph.store.embedded import EmbeddedServer, start_server, stop_server
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.invariants import read_contents
from bamboo.graph.taxonomy.related import related_sets
from bamboo.graph.taxonomy.snapshot import taxonomy_from_contents
from bamboo.graph.taxonomy.wordnet import read_nouns

ROOT = Path(__file__).resolve().parents[1]

SERVER = """
import sys
import uvicorn
from fastapi import FastAPI
from bamboo.api import ServiceSettings, create_app
from bamboo.graph.store.connection import GraphSettings

def build():
    app = create_app(ServiceSettings(graph=GraphSettings(
        data_dir=sys.argv[1], bolt_port=int(sys.argv[2]), http_port=int(sys.argv[3]))))

    @app.get("/bare", include_in_schema=False)
    async def bare() -> dict[str, str]:
        return {"status": "ok"}

    return app

uvicorn.run(build(), host="127.0.0.1", port=int(sys.argv[4]), log_level="warning", access_log=False)
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _load(
    url: str, paths: list[str], seconds: float, concurrency: int
) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def worker(seed: int) -> None:
            nonlocal errors
            rng = random.Random(seed)
            while time.perf_counter() < deadline:
                path = paths[rng.randrange(len(paths))]
                t0 = time.perf_counter()
                r = await client.get(path)
                latencies.append((time.perf_counter() - t0) * 1000)
                if r.status_code != 200:
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - start
    return len(latencies) / elapsed, latencies, errors


def _wrk(url: str, paths: list[str], seconds: float, concurrency: int) -> tuple[float, float, float, int]:
    """Load with wrk (C, one thread), a Lua script picking random paths.

    Returns (req/s, p50 ms, p99 ms, non-2xx count).
    """
    lua = "paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n"
    lua += (
        "math.randomseed(1)\nrequest = function() return wrk.format('GET', paths[math.random(#paths)]) end\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua)
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds:.0f}s", "--latency", "-s", fh.name, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(fh.name)

    def ms(token: str) -> float:
        for unit, scale in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
            if token.endswith(unit):
                return float(token[: -len(unit)]) * scale
        return float(token)

    rps = float(next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec")))
    pct = {
        line.split()[0]: ms(line.split()[1])
        for line in out.splitlines()
        if line.strip()[:3] in ("50%", "99%")
    }
    bad = next((int(line.split()[-1]) for line in out.splitlines() if "Non-2xx" in line), 0)
    return rps, pct["50%"], pct["99%"], bad


def _pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def _imagenet_ids() -> tuple[list[str], list[str]] | None:
    dirs = [ROOT.parent / "shared" / "data" / "labelsets"]
    try:
        import timm.data

        dirs.insert(0, Path(timm.data.__file__).parent / "_info")
    except ImportError:
        pass
    for d in dirs:
        for one, many in (
            ("imagenet_synsets.txt", "imagenet22k_synsets.txt"),
            ("timm__imagenet_synsets.txt", "timm__imagenet22k_synsets.txt"),
        ):
            if (d / one).exists() and (d / many).exists():
                read = lambda p: ["wn:" + x.strip() for x in p.read_text().split() if x.strip()]  # noqa: E731
                return read(d / one), read(d / many)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp()
    bolt, http, api = _port(), _port(), _port()
    info = start_server(EmbeddedServer(data_dir=Path(tmp), bolt_port=bolt, http_port=http))
    driver = neo4j.GraphDatabase.driver(info.uri, auth=(info.user, info.password))
    proc = None
    try:
        nouns = read_nouns()
        store = GraphStore(driver, info.database)
        build_wordnet(store, nouns)
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, tmp, str(bolt), str(http), str(api)],
            env=os.environ | {"PYTHONUNBUFFERED": "1"},
        )
        url = f"http://127.0.0.1:{api}"
        for _ in range(300):
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        rng = random.Random(0)
        ids = [c["id"] for c in rng.sample(nouns.concepts, 2000)]
        cases = {
            "bare FastAPI (baseline)": ["/bare"],
            "GET /concepts/{id}": [f"/concepts/{i}" for i in ids],
            "GET /concepts/{id}/ancestors": [f"/concepts/{i}/ancestors" for i in ids],
        }
        results: dict[str, tuple[float, float, float, int]] = {}
        use_wrk = shutil.which("wrk") is not None
        for name, paths in cases.items():
            if use_wrk:
                _wrk(url, paths, 2, args.concurrency)  # warm-up
                results[name] = _wrk(url, paths, args.seconds, args.concurrency)
            else:
                rps, lat, errors = asyncio.run(_load(url, paths, args.seconds, args.concurrency))
                results[name] = (rps, statistics.median(lat), _pct(lat, 99), errors)
        base_rps = results["bare FastAPI (baseline)"][0]
        client = "wrk" if use_wrk else "httpx (python; client-bound: install wrk for real numbers)"
        print(
            f"load: {client}, {args.concurrency} connections, {args.seconds:.0f} s per endpoint, server, "
            f"database and client on the same {os.cpu_count()}-core machine"
        )
        for name, (rps, p50, p99, errors) in results.items():
            print(
                f"{name:30s} {rps:7.0f} req/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms"
                f"  non-2xx {errors}  ratio to baseline {rps / base_rps:5.2f}"
            )

        ids_pair = _imagenet_ids()
        if ids_pair is None:
            print("related sets: skipped (no ImageNet label files: install timm or provide ../shared/data)")
            return
        in1k, in22k = ids_pair
        t0 = time.perf_counter()
        r = httpx.post(
            f"{url}/related", json={"queries": in22k, "label_space": in1k, "levels": 1}, timeout=120
        )
        http_s = time.perf_counter() - t0
        assert r.status_code == 200, r.text[:300]
        tax = taxonomy_from_contents(read_contents(store))
        t0 = time.perf_counter()
        sets = related_sets(tax, in22k, in1k, levels=1)
        lib_s = time.perf_counter() - t0
        assert sets.as_dict() == r.json()["related"]
        sample = random.Random(1).sample(in22k, 200)
        t0 = time.perf_counter()
        for q in sample:
            depths = tax.ancestor_depths(q)
            near = {q} | {a for a, d in depths.items() if d <= 1}
            [j for j, c in enumerate(in1k) if near & (tax.ancestors(c) | {c}) or c in depths]
        ref_s = (time.perf_counter() - t0) / len(sample) * len(in22k)
        print(f"related sets, {len(in22k)} IN-22K queries x {len(in1k)} IN-1K classes:")
        print(
            f"  POST /related (HTTP, JSON both ways) {http_s:6.2f} s   "
            f"goal < 2 s: {'met' if http_s < 2 else 'NOT met'}"
        )
        print(f"  in-process (sparse matrices)         {lib_s:6.2f} s")
        print(
            f"  per-query set reference (extrapolated from 200) {ref_s:6.1f} s   ratio {ref_s / lib_s:7.0f}x"
        )
        non_empty = sum(1 for i in range(len(in22k)) if len(sets[i]))
        print(f"  queries with a non-empty related set: {non_empty} of {len(in22k)}")
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            proc.wait(30)
        driver.close()
        stop_server(Path(tmp))


if __name__ == "__main__":
    main()
