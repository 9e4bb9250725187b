"""Time and peak memory (tracemalloc) of a user's import before it reaches the graph: reading and
checking a class list (``read_class_file``), mapping it (``ClassMapper.map_all``), and the pre-write
cycle check (``placement_cycle``), as the input grows. Printed as ratios against the smallest size
run in the same process: linear growth shows as ratios that follow the size's.

* one letters-only name of growing length, mapped without the read-time cap (an official loader's
  path): the run-together-name splitter used to build every split at once, quadratic memory
  (0.38 GiB at 20,000 characters, 1 GB for a whole ``bamboo import``);
* the same name in a COCO file through ``read_class_file``: refused by the 200-character cap;
* COCO files of many ordinary names (WordNet lemmas with an unknown word in front: new concepts,
  placed by head noun), read and mapped;
* one IS_A cycle of N placements, found by reading only the placed concepts' descendants.

Run: ``python benchmarks/import_limits.py [--sizes 10000,20000,50000,100000]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import string
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bamboo.cli.datasets import read_class_file
from bamboo.errors import MalformedFile
from bamboo.graph.mapping.datasets import ClassMapper
from bamboo.graph.taxonomy.invariants import placement_cycle
from bamboo.graph.taxonomy.wordnet import read_member_meronyms, read_nouns, read_sense_index
from bamboo.loaders.base import RawClass


def measure(work: Callable[[], Any]) -> tuple[float, float]:
    """``(seconds, peak MiB)`` of one call."""
    tracemalloc.start()
    start = time.perf_counter()
    with contextlib.suppress(MalformedFile):  # a refusal is the measured outcome
        work()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak


def table(title: str, rows: list[tuple[int, float, float]]) -> None:
    print(f"\n{title}")
    base_n, base_s, base_m = rows[0]
    print(f"{'size':>10} {'seconds':>9} {'peak MiB':>9} {'x size':>7} {'x time':>7} {'x memory':>8}")
    for n, s, m in rows:
        print(
            f"{n:>10} {s:>9.3f} {m:>9.2f} {n / base_n:>7.1f} {s / max(base_s, 1e-9):>7.1f} "
            f"{m / max(base_m, 1e-9):>8.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,20000,50000,100000", help="Class counts of the files.")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    nouns = read_nouns()
    mapper = ClassMapper(
        [{"id": c["id"], **c["props"]} for c in nouns.concepts],
        nouns.edges,
        sense_index=read_sense_index(),
        members=read_member_meronyms(),
    )
    rng = random.Random(0)
    folder = Path(tempfile.mkdtemp(prefix="bamboo-import-limits-"))

    rows = []
    for n in (1_000, 20_000, 100_000, 1_000_000):
        name = "".join(rng.choice(string.ascii_lowercase) for _ in range(n))
        rows.append((n, *measure(lambda name=name: mapper.map_all("x", [RawClass(0, name)]))))
    table("one long name, mapped (no cap on this path)", rows)

    rows = []
    for n in (1_000, 20_000, 5_000_000):
        path = folder / f"long-{n}.json"
        path.write_text(json.dumps({"categories": [{"id": 1, "name": "a" * n}]}))
        rows.append((n, *measure(lambda path=path: read_class_file(path))))
    table("one long name in a COCO file, read (refused past 200 characters)", rows)

    lemmas = sorted({c["props"]["name"] for c in nouns.concepts if c["props"]["name"].isalpha()})
    rows = []
    for n in sizes:
        path = folder / f"names-{n}.json"
        cats = [{"id": i + 1, "name": f"zzq{i:06d} {lemmas[i % len(lemmas)]}"} for i in range(n)]
        path.write_text(json.dumps({"categories": cats}))
        del cats
        rows.append((n, *measure(lambda path=path: mapper.map_all("x", read_class_file(path)))))
    table("COCO files of ordinary names, read and mapped", rows)

    rows = []
    for n in sizes:
        parent_of = {f"bamboo:c{i}": f"bamboo:c{(i + 1) % n}" for i in range(n)}
        rows.append((n, *measure(lambda p=parent_of: placement_cycle(p, lambda ids: []))))
    table("one IS_A cycle of N placements, found", rows)


if __name__ == "__main__":
    main()
