"""Crawl queries on the built label system (issue #19): visual prior, common vocabulary, pairs, words.

Reads the graph ``bamboo build`` wrote (the embedded default, or ``BAMBOO_GRAPH_*``) and prints:

1. The visual prior against ``benchmarks/gold/visual-300.tsv`` (300 hand-labelled concepts):
   5-fold cross-validated accuracy, ROC AUC and Brier score of the logistic model refitted per
   fold, beside the lexicographer-file table it replaces (the baseline), and the weights fitted on
   all 300 (what :data:`bamboo.graph.crawl.VISUAL_WEIGHTS` holds).
2. The common vocabulary: its size (goal 500-2,000, the paper kept 809) and its overlap with COCO,
   Pascal VOC, Objects365, Open Images' boxable classes and LVIS's frequent / common / rare classes
   (``benchmarks/gold/lvis-frequency.tsv``; LVIS frequencies are not an input, so f > c > r is a fair
   check), and how many Latin binomials got in (goal 0).
3. Words: English words several visual concepts share, and how many classification query lines
   send one bare (goal 0).
4. The top-3 scenes and partner concepts of 50 random vocabulary concepts, as a Markdown table.
5. Times: the crawl plan, the pair scorer (model load + encoding), the whole detection stream.

Usage: ``python benchmarks/crawl.py [--table FILE] [--seed N]``.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np

from bamboo.api.cache import GraphCache, GraphView
from bamboo.graph.connection import GraphSettings, open_driver
from bamboo.graph.crawl import _BINOMIAL, VISUAL_WEIGHTS, visual_features
from bamboo.graph.store import GraphStore

HERE = Path(__file__).resolve().parent


def _read_tsv(path: Path) -> list[list[str]]:
    return [
        line.rstrip("\n").split("\t") for line in path.read_text().splitlines() if not line.startswith("#")
    ]


def visual_prior(view: GraphView) -> None:
    """Section 1: the visual prior against the hand-labelled gold."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss, roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    rows = _read_tsv(HERE / "gold" / "visual-300.tsv")[1:]
    plan = view.crawl
    sig = plan.signals
    rows = [r for r in rows if r[0] in sig.taxonomy]
    pos = [sig.taxonomy.index(r[0]) for r in rows]
    y = np.array([int(r[2]) for r in rows])
    features = visual_features(sig)
    names = list(features)
    x = np.stack([features[n][pos] for n in names], axis=1)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    cv = cross_val_predict(LogisticRegression(C=1.0, max_iter=1000), x, y, cv=folds, method="predict_proba")[
        :, 1
    ]
    fitted = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)

    def line(label: str, p: np.ndarray) -> str:
        acc = float(((p >= 0.5) == y).mean())
        return f"| {label} | {acc:.3f} | {roc_auc_score(y, p):.3f} | {brier_score_loss(y, p):.3f} |"

    print(f"\n## Visual prior on {len(y)} hand-labelled concepts ({int(y.sum())} visual)\n")
    print("| prior | accuracy | ROC AUC | Brier |\n|---|---|---|---|")
    print(line("lexicographer file table (baseline)", sig.lex_prior[pos]))
    print(line("logistic model, 5-fold cross-validated", cv))
    print(line("shipped weights (fitted on all 300: in-sample)", plan.visual[pos]))
    weights = {"bias": round(float(fitted.intercept_[0]), 3)} | {
        n: round(float(w), 3) for n, w in zip(names, fitted.coef_[0], strict=True)
    }
    print(f"\nweights fitted on all rows: {weights}")
    print(f"shipped VISUAL_WEIGHTS:      {VISUAL_WEIGHTS}")


def vocabulary(view: GraphView) -> list[str]:
    """Section 2: the common vocabulary against dataset lists."""
    plan = view.crawl
    vocab = set(plan.vocabulary({}))
    print(f"\n## Common vocabulary: {len(vocab)} concepts (goal 500-2,000; the paper kept 809)\n")
    print("| list | classes | in the vocabulary | share |\n|---|---|---|---|")
    for name in ("coco", "pascal-voc", "objects365", "openimages-boxable"):
        if name not in view.datasets:
            continue
        concepts = {c.concept for c in view.dataset_classes(name)}
        n = len(concepts & vocab)
        print(f"| {name} | {len(concepts)} | {n} | {n / len(concepts):.3f} |")
    if "lvis" in view.datasets:
        freq = {r[0]: r[2] for r in _read_tsv(HERE / "gold" / "lvis-frequency.tsv")}
        by: dict[str, set[str]] = {"f": set(), "c": set(), "r": set()}
        for c in view.dataset_classes("lvis"):
            if c.raw_name in freq:
                by[freq[c.raw_name]].add(c.concept)
        for f, label in (("f", "frequent"), ("c", "common"), ("r", "rare")):
            n = len(by[f] & vocab)
            print(f"| LVIS {label} | {len(by[f])} | {n} | {n / max(len(by[f]), 1):.3f} |")
    species = {
        c.concept
        for name in view.datasets
        if name.startswith("inaturalist")
        for c in view.dataset_classes(name)
        if _BINOMIAL.match(c.raw_name) and c.raw_name[:1].isupper()
    }
    got = sorted(species & vocab)
    print(
        f"\niNaturalist species (binomials) in the vocabulary: {len(got)} of {len(species)} (goal 0)",
        got[:10],
    )
    return sorted(vocab)


def words(view: GraphView) -> None:
    """Section 3: ambiguous words never go out bare."""
    plan = view.crawl
    w = plan.words({})
    visual = plan.visual_ids({}, untagged=True)
    bare = 0
    lines = 0
    for cid in visual:
        for form in w.forms(cid, ["en"]):
            lines += 1
            if not form.qualifier and len(w.senses(form.bare)) > 1:
                bare += 1
    print(f"\n## Query words\n\nvisual concepts: {len(visual)}; English query strings: {lines}")
    print(f"English words shared by several visual concepts: {w.ambiguous()}; sent bare: {bare} (goal 0)")


def pairs_table(view: GraphView, vocab: list[str], seed: int, scene_dataset: str) -> str:
    """Section 4: top-3 scenes and partners of 50 random vocabulary concepts."""
    plan = view.crawl
    scenes = sorted({c.concept for c in view.dataset_classes(scene_dataset)})
    planner = plan.planner(vocab, scenes)
    w = plan.words({})

    def word(cid: str) -> str:
        forms = w.forms(cid, ["en"])
        return forms[0].text if forms else str(view.props[cid].get("name"))

    rows = ["| concept | top-3 scenes | top-3 partner concepts |", "|---|---|---|"]
    for cid in sorted(random.Random(seed).sample(vocab, min(50, len(vocab)))):
        s = ", ".join(word(p.other) for p in planner.scene_pairs(cid, 3))
        o = ", ".join(word(p.other) for p in planner.object_pairs(cid, 3))
        rows.append(f"| {word(cid)} | {s} | {o} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--table", type=Path, help="also write the 50-concept pair table here")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--scene-dataset", default="places365")
    args = parser.parse_args()
    settings = GraphSettings()
    driver = open_driver(settings)
    try:
        cache = GraphCache(GraphStore(driver, settings.database))
        started = time.perf_counter()
        cache.start()
        view = cache.get()
        cache.stop()
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        plan = view.crawl
        planned = time.perf_counter() - started
        print(f"graph: {len(view.props):,} concepts, loaded in {loaded:.1f} s; crawl plan in {planned:.1f} s")
        visual_prior(view)
        vocab = vocabulary(view)
        words(view)
        scenes = sorted({c.concept for c in view.dataset_classes(args.scene_dataset)})
        started = time.perf_counter()
        planner = plan.planner(vocab, scenes)
        scored = time.perf_counter() - started
        started = time.perf_counter()
        n = sum(len(planner.scene_pairs(c, 5)) + len(planner.object_pairs(c, 5)) for c in vocab)
        streamed = time.perf_counter() - started
        print(
            f"\n## Times\n\npair scorer ({planner.encoder_name}, {len(vocab)} objects, "
            f"{len(scenes)} scenes): {scored:.1f} s"
        )
        print(
            f"all detection pairs ({n:,}, 5 + 5 per concept): {streamed:.1f} s ({n / streamed:,.0f} pairs/s)"
        )
        table = pairs_table(view, vocab, args.seed, args.scene_dataset)
        print(f"\n## Top-3 detection pairs of 50 random vocabulary concepts (seed {args.seed})\n\n{table}")
        if args.table:
            args.table.write_text(table + "\n")
    finally:
        driver.close()


if __name__ == "__main__":
    main()
