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
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import neo4j

from bamboo.graph.store.build import build_wordnet
from bamboo.graph.store.embedded import EmbeddedServer, ServerInfo, start_server, stop_server
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.invariants import check_invariants, read_contents
from bamboo.graph.taxonomy.wordnet import read_nouns
from bamboo.graph.wikidata.client import WikidataClient, oxigraph_server
from bamboo.graph.wikidata.sync import read_wn31_map, sync_wikidata

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
    from bamboo.graph.mapping.datasets import dataset_mapper, import_label_set
    from bamboo.loaders import read_label_sets

    t0 = time.perf_counter()
    report = build_wordnet(store, read_nouns())
    wordnet_s = time.perf_counter() - t0
    if datasets_dir is not None:
        label_sets = read_label_sets(None, datasets_dir)
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
    with oxigraph_server(location=work / "oxigraph", load=made.triples) as query:
        base = query.removesuffix("/query")
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


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _workers_of(pid: int) -> list[int]:
    """The multiprocessing workers among the child processes of ``pid`` (Linux ``/proc``; not
    multiprocessing's long-lived resource tracker)."""
    kids = "".join(p.read_text() for p in Path(f"/proc/{pid}/task").glob("*/children")).split()
    out = []
    for kid in kids:
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{kid}/cmdline").read_bytes():
                out.append(int(kid))
    return out


def _cpu_s(pids: list[int]) -> float:
    """CPU seconds used so far by ``pids`` (user + system; Linux ``/proc``)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _wait_idle(pid: int, timeout: float) -> None:
    """Wait until the service ``pid`` and its multiprocessing workers (the crawl warm-up's pair
    encoder) use under 5 % of a core over 3 s, at most ``timeout`` s."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        pids = [pid, *_workers_of(pid)]
        before = _cpu_s(pids)
        time.sleep(3)
        if _cpu_s(pids) - before < 0.15:
            return


def serve_part(info: ServerInfo, work: Path, store: GraphStore) -> None:
    """Part 3 (see the module docstring): the API and the snapshot over the graph in ``store``."""
    import random

    from api import _imagenet_ids, _pct, _wrk
    from bamboo.sdk.labels import OfflineLabels

    env = os.environ | {
        "BAMBOO_GRAPH_DATA_DIR": str(work / "db"),
        "BAMBOO_GRAPH_BOLT_PORT": str(info.bolt_port),
        "BAMBOO_GRAPH_HTTP_PORT": str(info.http_port),
        "BAMBOO_GRAPH_DATABASE": info.database,
    }
    bamboo = str(Path(sys.executable).parent / "bamboo")
    port = _port()
    url = f"http://127.0.0.1:{port}"
    n = store.count_concepts()
    print(f"\n## Serving {n:,} concepts\n")
    print("| figure | measured | goal | baseline / note |\n|---|---|---|---|")

    def start() -> tuple[subprocess.Popen[bytes], float | None]:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [bamboo, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"], env=env
        )
        while time.perf_counter() - t0 < 300 and proc.poll() is None:
            try:
                if httpx.get(f"{url}/concepts/wn:n00001740", timeout=5).status_code == 200:
                    return proc, time.perf_counter() - t0
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        return proc, None

    shutil.rmtree(work / "db" / "views", ignore_errors=True)
    proc, cold = start()
    try:
        time.sleep(15)  # the view is saved in the background after a database read
    finally:
        proc.terminate()
        proc.wait(30)
    saved = sorted((work / "db" / "views").glob("*.npz"))
    _line(
        "`bamboo serve` until a concept page answers, first start (reads the database)",
        f"{cold:.1f} s" if cold else "did not start",
        "< 15 s",
        f"saves the view: {saved[0].stat().st_size / 2**20:,.0f} MB" if saved else "no view saved",
    )
    proc, ready = start()
    try:
        _line(
            "`bamboo serve` until a concept page answers, restart at the same graph version",
            f"{ready:.1f} s" if ready else "did not start",
            "< 15 s",
            "reads the saved view",
        )
        # The crawl plan is computed in the background after the load, its pair encoder in a child
        # process: measure once that is done (it would take CPU from the requests measured).
        _wait_idle(proc.pid, 600)
        _line("service RSS (graph loaded, crawl plan warm)", f"{_rss_mb(proc.pid):,.0f} MB", "< 1,024 MB", "")
        rng = random.Random(0)
        ids = [c for c in rng.sample([c["id"] for c in store.all_concepts()], 2000)]
        for name, paths in (
            ("GET /concepts/{id}", [f"/concepts/{i}" for i in ids]),
            ("GET /concepts/{id}/ancestors", [f"/concepts/{i}/ancestors" for i in ids]),
        ):
            if shutil.which("wrk"):
                _wrk(url, paths, 2, 32)
                rps, p50, p99, bad = _wrk(url, paths, 10, 32)
                _line(
                    f"{name} under wrk (32 connections)",
                    f"p50 {p50:.1f} ms, p99 {p99:.1f} ms",
                    "p99 < 20 ms",
                    f"{rps:,.0f} req/s, {bad} non-2xx",
                )
            else:
                times = []
                for path in paths[:500]:
                    t = time.perf_counter()
                    httpx.get(url + path)
                    times.append((time.perf_counter() - t) * 1000)
                _line(
                    f"{name} sequential (no wrk)",
                    f"p50 {_pct(times, 50):.1f} ms, p99 {_pct(times, 99):.1f} ms",
                    "p99 < 20 ms",
                    "install wrk for the load figure",
                )
        lists = _imagenet_ids()
        if lists:
            in1k, in22k = lists
            t = time.perf_counter()
            r = httpx.post(
                f"{url}/related", json={"queries": in22k, "label_space": in1k, "levels": 1}, timeout=300
            )
            related_s = time.perf_counter() - t
            _line(
                f"POST /related, {len(in22k):,} classes vs {len(in1k):,}",
                f"{related_s:.2f} s",
                "< 2 s",
                f"HTTP {r.status_code}",
            )
    finally:
        proc.terminate()
        proc.wait(30)
    snap = work / "taxonomy.npz"
    t = time.perf_counter()
    done = subprocess.run([bamboo, "snapshot", str(snap)], env=env, capture_output=True, text=True)
    snap_s = time.perf_counter() - t
    if done.returncode != 0:
        _line("`bamboo snapshot`", "failed", "< 20 s, < 15 MB", done.stderr.strip()[-200:])
        return
    _line("`bamboo snapshot`", f"{snap_s:.1f} s, {snap.stat().st_size / 2**20:.1f} MB", "< 20 s, < 15 MB", "")
    t = time.perf_counter()
    labels = OfflineLabels.load(snap)
    _line(
        "SDK loads the snapshot",
        f"{time.perf_counter() - t:.2f} s",
        "< 1 s",
        f"{len(labels.taxonomy):,} concepts",
    )


def writes_part(info: ServerInfo, driver: neo4j.Driver, source: GraphStore) -> None:
    """Part 2: the synced graph written again into empty databases, by today's batched MERGE and by
    :meth:`~bamboo.graph.store.graph_store.GraphStore.bulk_create`; both must give the source's
    content hash."""
    from bamboo.graph.store import cypher
    from bamboo.graph.store.embedded import create_database
    from bamboo.graph.taxonomy.invariants import content_hash

    contents = read_contents(source)
    want = content_hash(contents)
    rows = [{"id": c["id"], "props": {k: v for k, v in c.items() if k != "id"}} for c in contents.concepts]
    edges = [dict(e) | {"evidence": None} for e in contents.edges]
    print(f"\n## Writing {len(rows):,} concepts and {len(edges):,} IS_A edges into an empty store\n")
    print("| path | time | goal | content hash |\n|---|---|---|---|")
    times = {}
    for name in ("merge", "bulk"):
        create_database(info, f"scale_{name}")
        store = GraphStore(driver, f"scale_{name}")
        t0 = time.perf_counter()
        if name == "merge":
            store.ensure_schema()
            store.upsert_concepts(rows)
            for i in range(0, len(edges), 5000):
                store._write(cypher.UPSERT_LINKS, rows=edges[i : i + 5000])
        else:
            store.bulk_create(rows, edges)
        times[name] = time.perf_counter() - t0
        same = content_hash(read_contents(store)) == want
        label = (
            "batched MERGE, 5,000 rows (today, baseline)"
            if name == "merge"
            else "bulk_create: CREATE, 50,000 rows, one session"
        )
        _line(
            label,
            f"{times[name]:.0f} s ({len(rows) / times[name]:,.0f} concepts/s)",
            "< 60 s",
            "same as the source" if same else "DIFFERENT",
        )
    print(f"\nbulk path: {times['merge'] / times['bulk']:.2f}x the batched MERGE")


def make_pool(
    folder: Path, n: int, *, concepts: int = 1000, classes: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """A simulated pool of ``n`` images as memory-mapped arrays, written in chunks: a query concept
    each, a synthetic model's top-5 classes (70 % of images show a class related to their query,
    the rest are out of distribution) with probabilities, and 128-d float16 embeddings near a
    per-class centre. ``related[q]``: 20 model classes per query concept."""
    import numpy as np

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    related = np.zeros((concepts, classes), dtype=bool)
    members = np.stack([rng.choice(classes, 20, replace=False) for _ in range(concepts)])
    related[np.arange(concepts)[:, None], members] = True
    centres = rng.standard_normal((classes, 128)).astype(np.float32)
    queries = np.lib.format.open_memmap(folder / "queries.npy", "w+", np.int32, (n,))
    top5 = np.lib.format.open_memmap(folder / "top5.npy", "w+", np.int32, (n, 5))
    probs = np.lib.format.open_memmap(folder / "top5_probs.npy", "w+", np.float16, (n, 5))
    emb = np.lib.format.open_memmap(folder / "embeddings.npy", "w+", np.float16, (n, 128))
    step = 500_000
    for start in range(0, n, step):
        m = min(step, n - start)
        q = rng.integers(0, concepts, m).astype(np.int32)
        first = np.where(rng.random(m) < 0.7, members[q, rng.integers(0, 20, m)], rng.integers(0, classes, m))
        t5 = np.concatenate([first[:, None], rng.integers(0, classes, (m, 4))], axis=1).astype(np.int32)
        p = np.sort(rng.dirichlet(np.ones(5) * 0.5, m).astype(np.float32), axis=1)[:, ::-1]
        e = centres[first] + 0.5 * rng.standard_normal((m, 128)).astype(np.float32)
        queries[start : start + m], top5[start : start + m] = q, t5
        probs[start : start + m], emb[start : start + m] = p, e
    for a in (queries, top5, probs, emb):
        a.flush()
    np.save(folder / "related.npy", related)
    return {"concepts": [f"concept-{i}" for i in range(concepts)]}


def pool_child(folder: Path, budget: int, crash: str | None, use_ray: bool = False) -> None:
    """Runs in its own process (``--pool-child``): one round over the pool in ``folder``, printing
    the report, the time and the process's peak RSS as JSON; ``crash`` = ``phase:step`` kills the
    process there with SIGKILL (a crash test)."""
    import json as _json
    import signal

    import numpy as np

    from bamboo.sdk.pool import ArrayPool, pool_round

    def hook(phase: str, step: str) -> None:
        if crash == f"{phase}:{step}":
            os.kill(os.getpid(), signal.SIGKILL)

    map_chunks = None
    if use_ray:
        import ray

        from bamboo.sdk.pool import ray_chunk_map

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        map_chunks = ray_chunk_map(folder, 10 * budget)
    t0 = time.perf_counter()
    pool = ArrayPool.open(folder / "state")
    report = pool_round(
        pool, 1,
        top5=np.load(folder / "top5.npy", mmap_mode="r"),
        top5_probs=np.load(folder / "top5_probs.npy", mmap_mode="r"),
        embeddings=np.load(folder / "embeddings.npy", mmap_mode="r"),
        related=np.load(folder / "related.npy"),
        budget=budget, hook=hook, map_chunks=map_chunks,
    )  # fmt: skip
    state = np.asarray(pool.state)
    print(_json.dumps({
        "seconds": time.perf_counter() - t0, "peak_rss_mb": _peak_rss_mb(), "report": report.__dict__,
        "counts": pool.counts(), "state_crc": int(__import__("zlib").crc32(state.tobytes())),
    }))  # fmt: skip


def pool_part(work: Path, n: int, budget: int, use_ray: bool = False) -> None:
    """Part 4 (see the module docstring)."""
    import json as _json

    import numpy as np

    from bamboo.sdk.loop import ActiveLoop, PoolImage
    from bamboo.sdk.pool import ArrayPool
    from bamboo.sdk.samplers import RandomSampler

    folder = work / "pool"
    t0 = time.perf_counter()
    made = make_pool(folder, n)
    gen_s = time.perf_counter() - t0
    size_gb = sum(f.stat().st_size for f in folder.glob("*.npy")) / 2**30
    print(
        f"\n## One round of Algorithm 1 over a {n:,}-image pool ({size_gb:.1f} GB of memory-mapped arrays,"
        f" generated in {gen_s:.0f} s)\n"
    )
    print("| figure | measured | goal | baseline / note |\n|---|---|---|---|")

    def child(crash: str | None = None, use_ray: bool = False) -> dict[str, Any] | None:
        cmd = [sys.executable, __file__, "--pool-child", str(folder), "--budget", str(budget)]
        cmd += ["--crash", crash] if crash else []
        done = subprocess.run(cmd + (["--ray"] if use_ray else []), capture_output=True, text=True)
        if done.returncode != 0:
            return None
        return dict(_json.loads(done.stdout.strip().splitlines()[-1]))

    queries = np.load(folder / "queries.npy", mmap_mode="r")
    t0 = time.perf_counter()
    ArrayPool.create(folder / "state", queries, made["concepts"])
    create_s = time.perf_counter() - t0
    # baseline: today's SQLite pool state, one row per image, for a 1M-image slice
    base_n = min(n, 1_000_000)
    t0 = time.perf_counter()
    loop = ActiveLoop(work / "sqlite-loop", sampler=RandomSampler(), train=lambda *a: "", predict=lambda *a: (
        np.zeros(0), np.zeros(0)), annotate=lambda *a: [])  # fmt: skip
    loop.add_pool([PoolImage(key=f"img{i}", query=f"concept-{int(queries[i])}") for i in range(base_n)])
    sqlite_s = time.perf_counter() - t0
    sqlite_mb = (work / "sqlite-loop" / "pools.sqlite").stat().st_size / 2**20
    _line(
        "pool state created",
        f"{create_s:.1f} s",
        "",
        f"SQLite rows for {base_n:,} images: {sqlite_s:.1f} s, "
        f"{sqlite_mb:,.0f} MB ({sqlite_s / create_s * n / base_n:,.0f}x slower per image)",
    )
    first = child()
    if first is None:
        _line("round 1 (rectify + ClusterMargin)", "failed", "", "")
        return
    r = first["report"]
    _line(
        "round 1: rectify + ClusterMargin + persist",
        f"{first['seconds']:.0f} s",
        "",
        f"{r['discarded']:,} discarded, {r['sampled']:,} sampled from {r['candidates']:,} over "
        f"{r['clusters']} clusters",
    )
    _line("peak RSS of the round", f"{first['peak_rss_mb']:,.0f} MB", "< 8,192 MB", "")
    # crash safety: the same round from scratch, killed after its sample decisions are written
    shutil.rmtree(folder / "state")
    ArrayPool.create(folder / "state", queries, made["concepts"])
    killed = child(crash="sample:written")
    resumed = child()
    same = resumed is not None and resumed["state_crc"] == first["state_crc"]
    _line(
        "kill -9 after the sample decisions are written, then resume",
        "identical state" if same else "DIFFERENT state",
        "identical",
        f"killed run returned {'nothing' if killed is None else 'output'}; resumed in "
        f"{resumed['seconds'] if resumed else float('nan'):.0f} s",
    )
    if not use_ray:
        return
    shutil.rmtree(folder / "state")
    ArrayPool.create(folder / "state", queries, made["concepts"])
    on_ray = child(use_ray=True)
    same = on_ray is not None and on_ray["state_crc"] == first["state_crc"]
    _line(
        "the same round with its chunk work on Ray Data (examples/ray_pool_round.py)",
        "identical decisions" if same else "DIFFERENT decisions" if on_ray else "failed",
        "identical",
        f"{on_ray['seconds']:.0f} s on a local 2-CPU Ray (start-up included)" if on_ray else "",
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", action="store_true", help="CI-sized run of every part")
    parser.add_argument("--parts", default="sync,writes,serve,pool")
    parser.add_argument(
        "--datasets-dir", type=Path, default=HERE.parents[1] / "shared" / "data" / "labelsets"
    )
    parser.add_argument("--pool", type=int, default=10_000_000, help="pool size of the pool part")
    parser.add_argument("--budget", type=int, default=50_000)
    parser.add_argument("--pool-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--crash", help=argparse.SUPPRESS)
    parser.add_argument("--ray", action="store_true", help="also run the pool round on Ray Data")
    parser.add_argument(
        "--work",
        type=Path,
        help="keep the store and files in this folder (default: a temporary one); a later run "
        "without the sync part serves the graph already there",
    )
    args = parser.parse_args()
    if args.pool_child:
        pool_child(args.pool_child, args.budget, args.crash, args.ray)
        return
    parts = {p.strip() for p in args.parts.split(",")}
    items, anchors = (5_000, 2_000) if args.small else (190_000, 20_000)
    datasets_dir = args.datasets_dir if args.datasets_dir.exists() and not args.small else None
    with contextlib.ExitStack() as stack:
        if args.work is not None:
            args.work.mkdir(parents=True, exist_ok=True)
            work = args.work
        else:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if parts & {"sync", "serve", "writes"}:
            state = work / "db" / "server.json"
            # A kept store restarts on its earlier ports (ArcadeDB keeps them in its configuration).
            ports = (
                (
                    int(json.loads(state.read_text())["bolt_port"]),
                    int(json.loads(state.read_text())["http_port"]),
                )
                if state.exists()
                else (_port(), _port())
            )
            info: ServerInfo = start_server(
                EmbeddedServer(
                    data_dir=work / "db",
                    bolt_port=ports[0],
                    http_port=ports[1],
                    heap="4g",
                    command_timeout_s=600,
                )
            )
            driver = neo4j.GraphDatabase.driver(info.uri, auth=(info.user, info.password))
            try:
                store = GraphStore(driver, info.database)
                if "sync" in parts:
                    sync_part(store, work, items=items, anchors=anchors, datasets_dir=datasets_dir)
                elif store.count_concepts() == 0:
                    build_wordnet(store, read_nouns())
                if "writes" in parts:
                    writes_part(info, driver, store)
                if "serve" in parts:
                    serve_part(info, work, store)
            finally:
                driver.close()
                stop_server(work / "db")
        if "pool" in parts:
            pool_part(
                work, 200_000 if args.small else args.pool, 2_000 if args.small else args.budget, args.ray
            )


if __name__ == "__main__":
    main()
