"""Crawl queries on the built label system (issue #19): visual prior, common vocabulary, pairs, words.

Reads the graph ``bamboo build`` wrote (the embedded default, or ``BAMBOO_GRAPH_*``) and prints:

1. The visual prior against ``benchmarks/gold/visual-300.tsv`` and ``visual-300b.tsv`` (two
   samples of 300 hand-labelled concepts): 5-fold cross-validated accuracy, ROC AUC and Brier score
   of the logistic model, the model fitted on the first sample and scored on the second (held out),
   beside the lexicographer-file table it replaces (the baseline), and the weights fitted on all
   600 (what :data:`bamboo.graph.crawl.plan.VISUAL_WEIGHTS` holds).
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
import hashlib
import random
import re
import time
from pathlib import Path

import numpy as np

from bamboo.api.cache import GraphCache
from bamboo.graph.crawl.plan import VISUAL_WEIGHTS, visual_features
from bamboo.graph.store.connection import GraphSettings, open_driver
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.view import GraphView

HERE = Path(__file__).resolve().parent


def _read_tsv(path: Path) -> list[list[str]]:
    return [
        line.rstrip("\n").split("\t") for line in path.read_text().splitlines() if not line.startswith("#")
    ]


def visual_prior(view: GraphView) -> None:
    """Section 1: the visual prior against the two hand-labelled gold sets."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss, roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    plan = view.crawl
    sig = plan.signals
    features = visual_features(sig)
    names = list(features)

    def load(name: str) -> tuple[np.ndarray, np.ndarray, list[int]]:
        rows = [r for r in _read_tsv(HERE / "gold" / name)[1:] if r[0] in sig.taxonomy]
        pos = [sig.taxonomy.index(r[0]) for r in rows]
        x = np.stack([features[n][pos] for n in names], axis=1)
        return x, np.array([int(r[2]) for r in rows]), pos

    xa, ya, pa = load("visual-300.tsv")
    xb, yb, pb = load("visual-300b.tsv")
    x, y, pos = np.concatenate([xa, xb]), np.concatenate([ya, yb]), pa + pb

    def model() -> LogisticRegression:
        return LogisticRegression(C=1.0, max_iter=1000)

    def line(label: str, truth: np.ndarray, p: np.ndarray) -> str:
        acc = float(((p >= 0.5) == truth).mean())
        auc, brier = roc_auc_score(truth, p), brier_score_loss(truth, p)
        return f"| {label} | {len(truth)} | {acc:.3f} | {auc:.3f} | {brier:.3f} |"

    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    cv = cross_val_predict(model(), x, y, cv=folds, method="predict_proba")[:, 1]
    held_out = model().fit(xa, ya).predict_proba(xb)[:, 1]
    fitted = model().fit(x, y)
    print(f"\n## Visual prior on {len(y)} hand-labelled concepts ({int(y.sum())} visual)\n")
    print("| prior | concepts | accuracy | ROC AUC | Brier |\n|---|---|---|---|---|")
    print(line("lexicographer file table (baseline), all", y, sig.lex_prior[pos]))
    print(line("logistic model, 5-fold cross-validated, all", y, cv))
    print(line("lexicographer file table, second set", yb, sig.lex_prior[pb]))
    print(line("fitted on the first set, scored on the second", yb, held_out))
    print(line("shipped weights (fitted on all: in-sample)", y, plan.visual[pos]))
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
    raw: dict[str, str] = {
        c.concept: c.raw_name
        for name in view.datasets
        if name.startswith("inaturalist")
        for c in view.dataset_classes(name)
        if re.fullmatch(r"[A-Z][a-z]+ [a-z]+", c.raw_name)
    }
    by_binomial = sorted(c for c in vocab if c in raw and view.props[c].get("name") == raw[c])
    named = sorted(str(view.props[c].get("name")) for c in vocab if c in raw and c not in by_binomial)
    print(f"\nvocabulary concepts known only by an iNaturalist binomial: {len(by_binomial)} (goal 0)")
    print(f"iNaturalist species in it under an entry-level name: {len(named)}, e.g. {', '.join(named[:8])}")
    return sorted(vocab)


def words(view: GraphView) -> None:
    """Section 3: ambiguous words never go out bare."""
    plan = view.crawl
    w = plan.words({})
    visual = plan.visual_ids({}, untagged=True)
    senders: dict[str, set[str]] = {}
    lines = kept = 0
    for cid in visual:
        for form in w.forms(cid, ["en"]):
            lines += 1
            if not form.qualifier:
                senders.setdefault(form.text.casefold(), set()).add(cid)
                kept += len(w.senses(form.bare)) > 1
    bare = sum(len(ids) > 1 for ids in senders.values())
    print(f"\n## Query words\n\nvisual concepts: {len(visual)}; English query strings: {lines}")
    print(f"English words shared by several visual concepts: {w.ambiguous()}")
    print(f"kept bare for a dominant sense: {kept}")
    print(f"bare strings sent for more than one concept: {bare} (goal 0)")


def _ring(ids: list[str]) -> list[str]:
    return sorted(ids, key=lambda c: hashlib.sha1(c.encode()).hexdigest())


def pairs_table(
    view: GraphView, vocab: list[str], seed: int, scene_dataset: str, *, baseline: bool = False
) -> str:
    """Section 4: top-3 scenes and partners of 50 random vocabulary concepts; with ``baseline``,
    what the endpoint chose before #19 for the same concepts (a fixed hash order)."""
    plan = view.crawl
    scenes = sorted({c.concept for c in view.dataset_classes(scene_dataset)})
    planner = plan.planner(vocab, scenes)
    w = plan.words({})
    scene_ring, common_ring = _ring(scenes), _ring(vocab)
    at = {c: i for i, c in enumerate(common_ring)}

    def word(cid: str) -> str:
        forms = w.forms(cid, ["en"])
        return forms[0].text if forms else str(view.props[cid].get("name"))

    rows = ["| concept | top-3 scenes | top-3 partner concepts |", "|---|---|---|"]
    for cid in sorted(random.Random(seed).sample(vocab, min(50, len(vocab)))):
        if baseline:
            start = int(hashlib.sha1(cid.encode()).hexdigest(), 16)
            got_s = [scene_ring[(start + t) % len(scene_ring)] for t in range(3)]
            got_o = [common_ring[(at[cid] + 1 + t) % len(common_ring)] for t in range(3)]
        else:
            got_s = [p.other for p in planner.scene_pairs(cid, 3)]
            got_o = [p.other for p in planner.object_pairs(cid, 3)]
        rows.append(f"| {word(cid)} | {', '.join(map(word, got_s))} | {', '.join(map(word, got_o))} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--table", type=Path, help="also write the 50-concept pair table here")
    parser.add_argument("--baseline-table", type=Path, help="and the hash-order (pre-#19) table here")
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
        if args.baseline_table:
            old = pairs_table(view, vocab, args.seed, args.scene_dataset, baseline=True)
            args.baseline_table.write_text(old + "\n")
    finally:
        driver.close()


if __name__ == "__main__":
    main()
