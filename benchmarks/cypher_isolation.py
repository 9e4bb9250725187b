"""Latency of the taxonomy endpoints while slow or hostile requests run.

Prints p50 / p99 of ``GET /health`` and ``GET /concepts/{id}`` (goal: p99 < 100 ms) while
``--slow`` clients keep sending a cross-product statement to ``POST /cypher`` (each runs to the
time limit or is turned away with 503), against the same requests on the idle service measured in
the same run (the baseline). Also prints how long the database kept burning CPU after each
timeout (goal: 0 s, the statement is terminated in the database).

``--hostile`` sends instead the four worst requests of the last attack round, one client each, in a
loop: the 19.8 KB nested-literal body that froze the parser, a variable-length pattern
comprehension the database could not interrupt, a string doubled to 100 MB, and a detection crawl
over every concept (``min_score=0``); it prints their answers and the service's peak RSS.

The service runs as its own process (``bamboo serve``) over a fresh embedded store with WordNet.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bamboo.graph.store.embedded import EmbeddedServer, start_server, stop_server

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _service import start_service, stop_service, wordnet_store  # noqa: E402

SLOW = "MATCH (a:Concept), (b:Concept) WHERE a.gloss < b.gloss RETURN count(*) AS n"


def _nested(width: int, levels: int) -> str:
    inner = "[" + ",".join(["1"] * width) + "]"
    for _ in range(levels):
        inner = "[({k:" + inner + "})]"
    return "RETURN " + inner + " AS x"


HOSTILE = {
    "parser": _nested(9900, 5),
    "varlength": "MATCH (c:Concept {id:'wn:n02084071'}) RETURN size([(c)-[*]-(x) | 1]) AS n",
    "doubling": "WITH 'xxxxxxxxxx' AS s "
    + " ".join(["WITH " + "+".join(["s"] * 10) + " AS s"] * 8)
    + " RETURN s",
}


def _port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _latencies(url: str, seconds: float) -> list[float]:
    out: list[float] = []
    with httpx.Client(timeout=30) as client:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for path in ("/health", "/concepts/wn:n02084071"):
                t0 = time.perf_counter()
                client.get(url + path).raise_for_status()
                out.append(time.perf_counter() - t0)
    return sorted(out)


def _pct(xs: list[float], q: float) -> float:
    return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--slow", type=int, default=4, help="clients sending slow statements")
    ap.add_argument("--timeout", type=float, default=4.0, help="the service's Cypher time limit")
    ap.add_argument("--hostile", action="store_true", help="the four worst requests instead of --slow")
    args = ap.parse_args()

    data = Path(tempfile.mkdtemp(prefix="bamboo-bench-"))
    info = start_server(EmbeddedServer(data_dir=data, bolt_port=_port(), http_port=_port(), heap="2g"))
    proc = None
    try:
        driver, _ = wordnet_store(info, "toy-scenes")
        driver.close()
        port = _port()
        proc = start_service(data, info, port, BAMBOO_CYPHER_TIMEOUT_S=str(args.timeout))
        url = f"http://127.0.0.1:{port}"
        base = _latencies(url, args.seconds / 2)

        stop = threading.Event()
        statuses: dict[str, int] = {}

        def send(client: httpx.Client, kind: str) -> int:
            if kind == "crawl":
                params = {"limit": 0, "per_concept": 100, "min_score": 0, "scene_dataset": "toy-scenes"}
                return client.get(f"{url}/crawl/detection", params=params).status_code
            return client.post(f"{url}/cypher", json={"query": HOSTILE.get(kind, SLOW)}).status_code

        def hammer(kind: str) -> None:
            with httpx.Client(timeout=60) as client:
                while not stop.is_set():
                    code = send(client, kind)
                    key = f"{kind} {code}"
                    statuses[key] = statuses.get(key, 0) + 1
                    if code == 503:
                        time.sleep(0.2)

        kinds = list(HOSTILE) + ["crawl"] if args.hostile else ["slow"] * args.slow
        rss = [_rss(proc.pid)]

        def watch_rss() -> None:
            while not stop.is_set():
                rss.append(_rss(proc.pid))
                time.sleep(0.2)

        threads = [threading.Thread(target=hammer, args=(k,), daemon=True) for k in kinds]
        threads.append(threading.Thread(target=watch_rss, daemon=True))
        for t in threads:
            t.start()
        time.sleep(0.5)
        loaded = _latencies(url, args.seconds)
        stop.set()
        for t in threads:
            t.join(60)
        time.sleep(1.5)
        cpu0 = _cpu(info.pid)
        time.sleep(3)
        after = _cpu(info.pid) - cpu0

        p99 = _pct(loaded, 0.99)
        b50, b99 = _pct(base, 0.5), _pct(base, 0.99)
        print(f"idle service:   p50 {b50:6.1f} ms  p99 {b99:6.1f} ms  ({len(base)} requests)")
        print(
            f"{len(kinds)} {'hostile' if args.hostile else 'slow'} clients: "
            f"p50 {_pct(loaded, 0.5):6.1f} ms  p99 {p99:6.1f} ms  "
            f"({len(loaded)} requests)"
            f"  goal p99 < 100 ms  {'OK' if p99 < 100 else 'MISSED'}  ratio to idle p99 "
            f"{p99 / max(b99, 1e-6):.1f}x"
        )
        print(f"answers while loaded: {dict(sorted(statuses.items()))}")
        print(f"service RSS: {rss[0] / 2**20:.0f} MB before, peak {max(rss) / 2**20:.0f} MB while loaded")
        print(f"database CPU in the 3 s after the last timeout: {after:.2f} s  goal 0 (statement terminated)")
    finally:
        stop_service(proc)
        stop_server(data)


if __name__ == "__main__":
    main()
