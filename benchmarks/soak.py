"""The service under continual change: memory, stalls, errors and consistency while the graph moves.

Serves a fresh embedded store (WordNet plus a small scene set) with ``bamboo serve`` in its own
process, then applies ``--changes`` graph changes (dataset imports that add new concepts, review
moves of those concepts, bare version bumps, tag votes), every fourth group of them as a burst
faster than a view rebuild, while one client thread per GET endpoint family keeps calling it.

Prints, per endpoint family: requests, p50 / p99 / max latency, the longest silence (the longest
time the family's client waited on a single answer), 5xx answers (503 with ``Retry-After`` counted
apart: the designed answer while a crawl plan builds); the service's RSS (its children included)
after each change; and consistency: after each import, whether every class the dataset lists
resolves on ``/concepts/{id}`` (a class listed while its concept answered 404 is an inconsistency).

Goals (issue #31): RSS after the last change <= 1.25x the RSS after the first, the changes starting
once the service is warm (its first detection pair plan built; the RSS at start and when warm are
printed too); no family silent for
more than 2 s; no 5xx other than a 503 with ``Retry-After``. The baseline column is the same family's
p99 on the idle service, measured in the same run before the changes start.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx

from bamboo.graph.store.embedded import EmbeddedServer, start_server, stop_server
from bamboo.graph.store.graph_store import GraphStore

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _service import start_service, stop_service, wordnet_store  # noqa: E402

API_KEY = "soak-benchmark-key-0123456789"
DOG = "wn:n02084071"
PARENTS = ["wn:n02084071", "wn:n03001627", "wn:n02958343", "wn:n07707451"]  # dog, chair, car, vegetable
FAMILIES = {
    "health": "/health",
    "concept": f"/concepts/{DOG}",
    "ancestors": f"/concepts/{DOG}/ancestors",
    "children": f"/concepts/{DOG}/children",
    "search": "/search?q=golden",
    "lca": f"/lca?ids={DOG},wn:n02121620",
    "path": f"/path?from={DOG}&to=wn:n02121620",
    "datasets": "/datasets",
    "classes": "/datasets/soak-scenes/classes",
    "crawl-cls": "/crawl/classification?limit=50",
    "crawl-vocab": "/crawl/vocabulary?limit=50",
    "crawl-det": "/crawl/detection?limit=10&per_concept=2&scene_dataset=soak-scenes",
    "tag-queue": "/tags/queue?limit=20",
    "stats": "/stats",
}


def _port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss(pid: int) -> int:
    """RSS of ``pid`` alone, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _rss_tree(pid: int) -> int:
    """RSS of ``pid`` and all its descendants, in bytes."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000 if xs else float("nan")


class Clients:
    """One thread per endpoint family, calling it in a loop and recording each answer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.stop = threading.Event()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.errors: list[str] = []

    def run(self, family: str, path: str) -> None:
        with httpx.Client(base_url=self.url, timeout=120) as client:
            while not self.stop.is_set():
                t0 = time.perf_counter()
                try:
                    r = client.get(path)
                    code = r.status_code
                    if code >= 500 and not (code == 503 and "retry-after" in r.headers):
                        self.errors.append(f"{family} {code} {r.text[:200]}")
                except httpx.HTTPError as exc:
                    code = 0
                    self.errors.append(f"{family} {type(exc).__name__}")
                self.latency[family].append(time.perf_counter() - t0)
                self.status[family][code] += 1
                if code == 503:
                    time.sleep(0.2)

    def start(self) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self.run, args=(f, p), daemon=True, name=f"soak-{f}")
            for f, p in FAMILIES.items()
        ]
        for t in threads:
            t.start()
        return threads


def _import(store: GraphStore, name: str, k: int) -> list[str]:
    """A dataset of two classes: one existing concept and one new concept placed under a parent."""
    new = f"bamboo:soak-{k}-{uuid.uuid4().hex[:6]}"
    parent = PARENTS[k % len(PARENTS)]
    store.import_dataset(
        name,
        {"task": "classification", "source": "soak"},
        concepts=[{"id": new, "props": {"name": f"soak thing {k}", "source": "datasets"}}],
        placements=[
            {
                "id": new,
                "parent": parent,
                "method": "import",
                "score": 0.5,
                "evidence": "soak",
                "source": name,
            }
        ],
        classes=[
            {"index": 0, "raw_name": "dog", "concept": DOG, "method": "lemma", "confidence": 0.9},
            {"index": 1, "raw_name": f"soak thing {k}", "concept": new, "method": "new", "confidence": 0.5},
        ],
    )
    return [DOG, new]


def _warm_up(url: str, timeout: float = 600.0) -> float:
    """Wait until the service is warm: the first detection pair plan built (its encoder child gone).

    The idle baseline is then measured on a warm service, not one still building its first plan, and
    the first change's RSS is not taken mid-build. Returns the seconds waited."""
    t0 = time.monotonic()
    with httpx.Client(base_url=url, timeout=60) as client:
        while time.monotonic() - t0 < timeout:
            if client.get(FAMILIES["crawl-det"]).status_code == 200:
                break
            time.sleep(1)
    return time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--changes", type=int, default=32, help="graph changes to apply (>= 30 for the goal)")
    ap.add_argument("--gap", type=float, default=6.0, help="seconds between changes outside bursts")
    ap.add_argument("--burst-gap", type=float, default=0.3, help="seconds between changes in a burst")
    args = ap.parse_args()

    data = Path(tempfile.mkdtemp(prefix="bamboo-soak-"))
    info = start_server(
        EmbeddedServer(data_dir=data, bolt_port=_port(), http_port=_port(), heap="2g", command_timeout_s=600)
    )
    proc = None
    try:
        _, store = wordnet_store(info, "soak-scenes")
        port = _port()
        proc = start_service(data, info, port, "--no-access-log", BAMBOO_API_KEY=API_KEY)
        url = f"http://127.0.0.1:{port}"
        cold = _rss(proc.pid)
        warm_s = _warm_up(url)
        print(
            f"service RSS at start {cold / 2**20:.0f} MB; warm (first pair plan built, {warm_s:.0f} s) "
            f"{_rss(proc.pid) / 2**20:.0f} MB",
            flush=True,
        )

        idle = Clients(url)
        threads = idle.start()
        time.sleep(8)
        idle.stop.set()
        for t in threads:
            t.join(120)

        clients = Clients(url)
        threads = clients.start()
        rss: list[tuple[str, int, int]] = []
        inconsistent: list[str] = []
        checked = 0
        t_start = time.monotonic()
        with httpx.Client(base_url=url, timeout=60) as check:
            for k in range(args.changes):
                kind = ("import", "move", "bump", "vote")[k % 4]
                name = f"soak-{k}"
                if kind == "import":
                    _import(store, name, k)
                elif kind == "move":
                    moved = f"bamboo:soak-{k - 1}"
                    ids = [
                        c.concept
                        for c in store.dataset_classes(f"soak-{k - 1}")
                        if c.concept.startswith(moved)
                    ]
                    if ids:
                        store.review_placement(ids[0], by="soak", parent=PARENTS[(k + 1) % len(PARENTS)])
                elif kind == "bump":
                    store.set_meta("graph.version", f"soak:{uuid.uuid4().hex}")
                else:
                    check.post(
                        "/tags/votes",
                        json={"annotator": f"soak{k}", "concept": DOG, "tag": "visual", "value": True},
                        headers={"X-API-Key": API_KEY},
                    )
                burst = (k // 4) % 4 == 3  # every fourth group of four changes comes in a burst
                time.sleep(args.burst_gap if burst else args.gap)
                if kind == "import":
                    # consistency: what the dataset lists must resolve on /concepts
                    r = check.get(f"/datasets/{name}/classes")
                    if r.status_code == 200:
                        for row in r.json():
                            checked += 1
                            if check.get(f"/concepts/{row['concept']}").status_code == 404:
                                inconsistent.append(f"{name}: {row['concept']}")
                rss.append((kind + (" (burst)" if burst else ""), _rss(proc.pid), _rss_tree(proc.pid)))
                print(
                    f"change {k + 1:2d} {rss[-1][0]:14s} service RSS {rss[-1][1] / 2**20:6.0f} MB, "
                    f"with its children {rss[-1][2] / 2**20:6.0f} MB",
                    flush=True,
                )
        time.sleep(args.gap)
        clients.stop.set()
        for t in threads:
            t.join(120)
        took = time.monotonic() - t_start

        print(f"\n{args.changes} changes in {took:.0f} s; {len(FAMILIES)} client families")
        print(
            f"{'family':12s} {'requests':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s} "
            f"{'idle p99':>8s}  statuses"
        )
        worst = 0.0
        for family in FAMILIES:
            lat = clients.latency[family]
            worst = max(worst, max(lat, default=0.0))
            print(
                f"{family:12s} {len(lat):8d} {_pct(lat, 0.5):8.1f} {_pct(lat, 0.99):8.1f} "
                f"{max(lat, default=0) * 1000:8.0f} {_pct(idle.latency[family], 0.99):8.1f}  "
                f"{dict(sorted(clients.status[family].items()))}"
            )
        first, last = rss[0][1], rss[-1][1]
        ratio = last / first
        print(
            f"\nservice RSS after the first change {first / 2**20:.0f} MB, after the last "
            f"{last / 2**20:.0f} MB: {ratio:.2f}x  goal <= 1.25x  {'OK' if ratio <= 1.25 else 'MISSED'}; "
            f"with its children (the encoder child lives while a pair plan builds): after the first "
            f"{rss[0][2] / 2**20:.0f} MB, after the last {rss[-1][2] / 2**20:.0f} MB, "
            f"peak {max(r[2] for r in rss) / 2**20:.0f} MB"
        )
        if len(rss) > 16:
            settled = rss[7][1]
            print(
                f"service RSS after the eighth change {settled / 2**20:.0f} MB, after the last "
                f"{last / 2**20:.0f} MB: {last / settled:.2f}x (growth once the first changes' plans "
                f"have built; not the goal's measure)"
            )
        print(f"longest silence of any family {worst:.2f} s  goal <= 2 s  {'OK' if worst <= 2 else 'MISSED'}")
        print(
            f"5xx other than 503 + Retry-After: {len(clients.errors)}  goal 0  "
            f"{'OK' if not clients.errors else 'MISSED: ' + '; '.join(clients.errors[:5])}"
        )
        print(
            f"classes listed but 404 on /concepts: {len(inconsistent)} of {checked} checked  goal 0  "
            f"{'OK' if not inconsistent else 'MISSED: ' + ', '.join(inconsistent[:5])}"
        )
    finally:
        stop_service(proc)
        stop_server(data)


if __name__ == "__main__":
    main()
