"""SDK hierarchy queries against networkx on the same WordNet graph, in the same process.

Setup: the real WordNet 3.0 nouns as the SDK holds them (:class:`~bamboo.graph.taxonomy.hierarchy.Taxonomy`,
built as ``OfflineLabels.from_wordnet`` builds it) and a networkx ``DiGraph`` of the same IS_A edges,
pointing child -> parent. ``--samples`` concepts drawn with a fixed seed; each query is timed on its
own (``perf_counter_ns``), the SDK and networkx alternating on the same concept, ``--reps`` passes.

Prints p50 and p99 (microseconds) of each, the ratio (networkx / SDK: above 1 means the SDK is
faster) and the goal (the hierarchy issue: SDK p50 <= networkx's), for:

* ``Taxonomy.ancestors`` against ``nx.descendants`` (edges point up, so networkx's descendants are
  the ancestors);
* ``Taxonomy.descendants`` against ``nx.ancestors``;
* ``Taxonomy.ancestor_depths`` (what ``OfflineLabels.ancestors`` sorts) against
  ``nx.single_source_shortest_path_length``;
* ``Taxonomy.lowest_common_ancestor`` of a pair against ``nx.lowest_common_ancestor`` on the
  parent -> child view, ``--lca-pairs`` pairs in one pass (networkx takes a fraction of a second
  per pair here). networkx returns one of the lowest common ancestors, the SDK ranks them: checked
  is that networkx's is among the SDK's.

Every other answer is checked equal to networkx's before any is timed. Also printed: the memory the
query structures take (``tracemalloc`` around the first query, which builds them).

Usage: ``python benchmarks/hierarchy.py [--samples 2000] [--reps 5] [--seed 0] [--lca-pairs 50]``.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx

from bamboo.graph.taxonomy.hierarchy import Taxonomy
from bamboo.graph.taxonomy.invariants import GraphContents
from bamboo.graph.taxonomy.snapshot import taxonomy_from_contents
from bamboo.graph.taxonomy.wordnet import read_nouns

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _options import options  # noqa: E402


def _pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def _equal(_: object, ours: object, theirs: object) -> bool:
    return ours == theirs


def _race(
    what: str,
    args: list[Any],
    ours: Callable[[Any], Any],
    theirs: Callable[[Any], Any],
    same: Callable[[Any, Any, Any], bool],
    reps: int,
) -> None:
    """Time ``ours`` and ``theirs`` on each argument, alternating which goes first; print one row."""
    for a in args:  # check (and warm up) once, untimed
        assert same(a, ours(a), theirs(a)), f"{what} of {a!r} disagrees with networkx"
    mine: list[float] = []
    base: list[float] = []
    clock = time.perf_counter_ns
    for rep in range(reps):
        for i, a in enumerate(args):
            for turn in (0, 1) if (i + rep) % 2 else (1, 0):
                fn, out = (ours, mine) if turn == 0 else (theirs, base)
                t0 = clock()
                fn(a)
                out.append((clock() - t0) / 1000)
    p50, p99 = statistics.median(mine), _pct(mine, 99)
    b50, b99 = statistics.median(base), _pct(base, 99)
    met = "met" if p50 <= b50 else "NOT met"
    print(
        f"{what:18} SDK p50 {p50:8.2f} p99 {p99:9.2f} µs | networkx p50 {b50:8.2f} p99 {b99:9.2f} µs | "
        f"ratio p50 {b50 / p50:5.2f}x p99 {b99 / p99:5.2f}x | goal p50 <= networkx: {met}"
    )


def main() -> None:
    args = options(__doc__ or "", samples=2000, reps=5, seed=0, lca_pairs=50)
    t0 = time.perf_counter()
    nouns = read_nouns()
    tax: Taxonomy = taxonomy_from_contents(
        GraphContents([{"id": c["id"], **c["props"]} for c in nouns.concepts], nouns.edges)
    )
    up = nx.DiGraph()  # child -> parent, as the SDK's parent lists
    up.add_nodes_from(str(i) for i in tax.ids)
    up.add_edges_from((e["child"], e["parent"]) for e in nouns.edges)
    down = up.reverse(copy=False)
    print(
        f"WordNet 3.0 nouns: {len(tax):,} concepts, {up.number_of_edges():,} IS_A edges "
        f"(read and built in {time.perf_counter() - t0:.1f} s); networkx {nx.__version__}, "
        f"Python {sys.version.split()[0]}"
    )

    rng = random.Random(args.seed)
    everything = [str(i) for i in tax.ids]
    sample = rng.sample(everything, args.samples)

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    tax.ancestors(sample[0])
    first_ms = (time.perf_counter() - t0) * 1000
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    print(f"first query (builds the query structures): {first_ms:.1f} ms, {held / 2**20:.1f} MiB held")
    print(f"{args.samples:,} concepts (seed {args.seed}) x {args.reps} passes, each query timed alone\n")

    _race("ancestors", sample, tax.ancestors, lambda c: nx.descendants(up, c), _equal, args.reps)
    _race("descendants", sample, tax.descendants, lambda c: nx.ancestors(up, c), _equal, args.reps)
    _race(
        "ancestor_depths",
        sample,
        tax.ancestor_depths,
        lambda c: nx.single_source_shortest_path_length(up, c),
        lambda _, ours, theirs: ours == {k: v for k, v in theirs.items() if v},
        args.reps,
    )
    pairs = [tuple(rng.sample(everything, 2)) for _ in range(args.lca_pairs)]
    _race(
        "lca (pair)",
        pairs,
        tax.lowest_common_ancestor,
        lambda p: nx.lowest_common_ancestor(down, p[0], p[1]),
        lambda p, ours, theirs: (
            ours == tax.lowest_common_ancestors(p)[0] and theirs in tax.lowest_common_ancestors(p)
        ),
        args.reps,
    )


if __name__ == "__main__":
    main()
