"""OOD rectification throughput: vectorised (torch gather) against a per-image Python baseline.

Setup: the real WordNet 3.0 taxonomy, the ImageNet-21K label space (21,843 wnids, from timm's
package files), ``--queries`` distinct query concepts drawn from WordNet, and ``--images`` pool
images, each with a random query and a random top-5 over the label space.

Prints:
* the time to compute the related sets once per distinct query (shared by both methods);
* the per-image Python baseline (``bool(related[q] & set(top5))`` in a loop) against
  :class:`~bamboo.sdk.ood.ClassificationRectifier` on the same input -> speed-up ratio (goal
  >= 100x), after checking that both give the same keep mask.

Usage: ``python benchmarks/ood.py [--images 1000000] [--queries 2000] [--device cpu|cuda]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from bamboo.graph.taxonomy.invariants import GraphContents
from bamboo.graph.taxonomy.snapshot import taxonomy_from_contents
from bamboo.graph.taxonomy.wordnet import read_nouns
from bamboo.loaders.registry import create_loader, find_available, package_folders
from bamboo.sdk.labels import LabelSpace, OfflineLabels
from bamboo.sdk.ood import ClassificationRectifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    nouns = read_nouns()
    tax = taxonomy_from_contents(
        GraphContents([{"id": c["id"], **c["props"]} for c in nouns.concepts], nouns.edges)
    )
    labels = OfflineLabels(tax)
    path = find_available(package_folders(), ["imagenet-21k"])["imagenet-21k"]
    classes = create_loader("imagenet-21k").load(path).classes
    space = LabelSpace.of([f"wn:{c.wnid}" for c in classes], None)
    rng = np.random.default_rng(args.seed)
    distinct = rng.choice(np.array(tax.ids.tolist()), args.queries, replace=False).tolist()
    codes = rng.integers(0, len(distinct), args.images)  # the pool's query column, as categorical codes
    topk = rng.integers(0, len(space), size=(args.images, 5))
    print(
        f"label space: ImageNet-21K, {len(space)} classes; {args.images:,} images x top-5; "
        f"{len(distinct)} distinct queries; device {args.device}"
    )

    rect = ClassificationRectifier(labels, space, device=args.device)
    started = time.perf_counter()
    rect._ensure(distinct)  # related sets, once per distinct query (shared by both methods)
    prep = time.perf_counter() - started
    sets = {q: set(rect.related_indices(q).tolist()) for q in distinct}
    mean_size = float(np.mean([len(s) for s in sets.values()]))
    print(f"related sets: {prep:.2f} s for {len(distinct)} queries (mean size {mean_size:.0f} classes)")

    started = time.perf_counter()
    by_code = [sets[q] for q in distinct]
    base = np.fromiter(
        (bool(by_code[c] & set(row)) for c, row in zip(codes.tolist(), topk.tolist(), strict=True)),
        dtype=bool,
        count=args.images,
    )
    baseline = time.perf_counter() - started

    rect(codes[:1000], topk[:1000], vocabulary=distinct)  # warm-up (kernels, allocator)
    started = time.perf_counter()
    out = rect(codes, topk, vocabulary=distinct)
    fast = time.perf_counter() - started
    assert np.array_equal(out.keep, base), "vectorised and baseline masks differ"
    names = [distinct[c] for c in codes.tolist()]
    started = time.perf_counter()
    by_name = rect(names, topk)
    named = time.perf_counter() - started
    assert np.array_equal(by_name.keep, base)
    print(
        f"baseline (per-image Python sets): {baseline:.2f} s; vectorised: {fast:.3f} s "
        f"(query codes in; host/device copies included); with query strings in: {named:.3f} s"
    )
    print(f"same masks: yes ({int(base.sum()):,} kept of {args.images:,})")
    print(f"speed-up: {baseline / fast:.0f}x (goal >= 100x)")


if __name__ == "__main__":
    main()
