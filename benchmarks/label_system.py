"""Time of the whole integrated label system build (``make run``'s job), against WordNet alone.

Builds into a fresh embedded store, in one process, what ``bamboo build --datasets-dir DIR`` builds:
WordNet 3.0, then every dataset class list found in ``DIR`` (default ``../shared/data/labelsets``)
and installed packages, each mapped (identity, sense choice), its new concepts identified and placed
(taxonomy, dataset parent, head noun, domain), and written; then the invariants over the whole graph.

Prints the total beside the goal (< 300 s on 2 cores after install) and its ratio to the WordNet-only
part measured in the same run (the baseline: what integrating the datasets adds), plus counts: new
concepts, classes flagged for review, and whether any concept is left off the root.

Usage: ``python benchmarks/label_system.py [--datasets-dir DIR]``. Starts its own embedded server
in a temporary folder and stops it at the end.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import time
from pathlib import Path

import neo4j

from bamboo.graph.mapping.datasets import dataset_mapper, import_label_set
from bamboo.graph.store.build import build_wordnet
from bamboo.graph.store.embedded import EmbeddedServer, start_server, stop_server
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.invariants import check_invariants, read_contents
from bamboo.graph.taxonomy.wordnet import read_nouns
from bamboo.loaders import read_label_sets

HERE = Path(__file__).resolve().parent
GOAL_S = 300.0


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--datasets-dir", type=Path, default=HERE.parents[1] / "shared" / "data" / "labelsets"
    )
    args = parser.parse_args()
    folder = args.datasets_dir if args.datasets_dir.exists() else None
    if folder is None:
        print(f"{args.datasets_dir} not found: only the class lists installed packages ship are imported")

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        info = start_server(EmbeddedServer(data_dir=Path(tmp), bolt_port=_port(), http_port=_port()))
        driver = neo4j.GraphDatabase.driver(info.uri, auth=(info.user, info.password))
        try:
            server_s = time.perf_counter() - started
            t0 = time.perf_counter()
            label_sets = read_label_sets(None, folder)
            store = GraphStore(driver, info.database)
            build_wordnet(store, read_nouns())
            wordnet_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            mapper = dataset_mapper(store, label_sets, None)
            reports = [import_label_set(store, ls, mapper) for ls in label_sets]
            contents = read_contents(store)
            invariants = check_invariants(contents)
            datasets_s = time.perf_counter() - t0
        finally:
            driver.close()
            stop_server(Path(tmp))

    total = server_s + wordnet_s + datasets_s
    classes = sum(r.classes for r in reports)
    new = len({c for r in reports for c in r.new})
    flagged = sum(r.review for r in reports)
    print(f"store start            {server_s:8.1f} s")
    print(f"WordNet (baseline)     {wordnet_s:8.1f} s")
    print(f"datasets               {datasets_s:8.1f} s   {len(reports)} datasets, {classes} classes")
    verdict = "met" if total < GOAL_S else "NOT met"
    print(
        f"integrated build       {total:8.1f} s   goal < {GOAL_S:.0f} s: {verdict}"
        f"   ratio to WordNet alone {(wordnet_s + datasets_s) / wordnet_s:5.2f}x"
    )
    print(f"new concepts           {new:8d}     class decisions flagged at import {flagged}")
    print(f"invariants             {invariants.describe()}")


if __name__ == "__main__":
    main()
