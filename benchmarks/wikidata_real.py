"""How good the Wikidata placements of names WordNet lacks are, on real Wikidata output.

The ``bamboo import --wikidata`` step (:class:`~bamboo.graph.wikidata.names.NameLinker`) run against a
real oxigraph server bulk-loaded with real Wikidata Query Service output from the team's shared data:
``wikidata/vandycite_artifact_superclasses.ttl``, the full upward ``wdt:P279`` chain of the
artifact classes of a museum collection with their English labels (CC0). The file has labels and
``P279`` only: no aliases, no ``P31``, no ``P8814`` WordNet ids.

**Anchors are a stand-in** (the assumption every figure rests on): the real system anchors items to
synsets through their ``P8814`` WordNet ids (``bamboo sync wikidata``), which this file lacks. Here an
item whose English label has exactly one WordNet 3.0 noun sense is linked to that synset ("label
anchors"): the synset's ``qid`` property is the item (the lowest Q-number when several items land on
one synset; the others are added to the linker's anchors).

**Queries**: the labels with exactly one WordNet sense *s* that has WordNet parents, i.e. names whose
answer WordNet knows. Each is linked by its label (no list domain) with every anchor on its own synset
removed, so a name cannot find its own synset, in two protocols: ``--folds`` folds of the synsets
(seed ``--seed``; a fold's synsets are hidden together, so a query also loses the anchors of the
other synsets in its fold, some of them its right parent) and leave one out (only its own synset
hidden, every other anchor kept: the nearer to the real system). Gold: the WordNet parents of *s*.

Per arm (protocol x ``--depths``, the levels walked up; and the queries whose synset is a WordNet
leaf alone): proposals, flagged ambiguous, no path; Hit@1 (the proposal is a parent of *s*); under a
right ancestor (a parent or any ancestor of *s*: right, if coarser); Wu-Palmer of the proposal to the
nearest gold parent, over proposals and over all queries (no proposal counting as *entity*), beside
the root baseline (every query under *entity*, same process) and the 0.80 Wu-Palmer goal set for
WordNet leaf re-attachment (this step has no goal of its own); the mean ``P279`` steps walked. Then
the most proposed concepts and example hits and misses. About 2 minutes on 2 cores.
Usage: ``python benchmarks/wikidata_real.py [--folds 5] [--seed 0] [--depths 2,5]``.
"""

from __future__ import annotations

import os
import random
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bamboo.graph.link.external import NamePlacement
from bamboo.graph.link.lexicon import Lexicon
from bamboo.graph.taxonomy.model import ENTITY_ID
from bamboo.graph.taxonomy.wordnet import read_nouns
from bamboo.graph.wikidata.client import WikidataClient, oxigraph_server
from bamboo.graph.wikidata.names import MAX_DEPTH, NameLinker

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _options import options  # noqa: E402

SHARED = Path(os.environ.get("BAMBOO_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
TTL = SHARED / "wikidata" / "vandycite_artifact_superclasses.ttl"
GOAL_WUP = 0.80  # WordNet leaf re-attachment's goal: the comparison line, not this step's own goal
_LABELS = (
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    'SELECT ?item ?label WHERE { ?item rdfs:label ?label FILTER(LANG(?label) = "en") }'
)
_PATH = re.compile(r"\): (.*) = \S+$")
_QID = re.compile(r"\bQ[0-9]+\b")


@dataclass
class Outcome:
    """One query's placement, scored against the full WordNet."""

    name: str
    synset: str
    placement: NamePlacement | None
    hit: bool = False
    right_ancestor: bool = False
    wup: float = 0.0  # of the proposal (entity when none) to the nearest gold parent
    steps: int = 0


def steps_of(evidence: str) -> int:
    """``P279`` steps in a placement's evidence (``... (label): Q1 -P279-> Q2 -> Q3 = wn:...``)."""
    m = _PATH.search(evidence)
    return m.group(1).count("->") if m else 0


def readable(evidence: str, labels: dict[str, str]) -> str:
    """The evidence's path with labels for Q-ids."""
    m = _PATH.search(evidence)
    return _QID.sub(lambda q: labels.get(q.group(0), q.group(0)), m.group(1)) if m else evidence


def score(full: Lexicon, name: str, synset: str, placement: NamePlacement | None) -> Outcome:
    gold = full.parents[synset]
    out = Outcome(name, synset, placement)
    concept = placement.concept if placement is not None else None
    out.wup = max(full.wu_palmer(concept or ENTITY_ID, g) for g in gold)
    if concept is not None and placement is not None:
        out.hit = concept in gold
        out.right_ancestor = concept in full.ancestors(synset) - {synset}
        out.steps = steps_of(placement.evidence)
    return out


def main() -> None:
    args = options(__doc__ or "", folds=5, seed=0, depths=f"2,{MAX_DEPTH}")
    depths = [int(d) for d in args.depths.split(",")]
    if not TTL.exists():
        print(f"{TTL} missing (set BAMBOO_SHARED_DATA)")
        return
    t0 = time.perf_counter()
    nouns = read_nouns()
    rows = [{"id": c["id"], **c["props"]} for c in nouns.concepts]
    full = Lexicon(rows, nouns.edges)
    print(f"WordNet ready in {time.perf_counter() - t0:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        t1 = time.perf_counter()
        with oxigraph_server(location=Path(tmp) / "store", load=TTL) as url:
            client = WikidataClient(url, min_interval_s=0)
            labels = {r["item"].rsplit("/", 1)[-1]: r["label"] for r in client.select(_LABELS)}
            print(f"{TTL.name}: {len(labels)} labelled items, loaded in {time.perf_counter() - t1:.1f} s")
            runs = run(client, full, rows, nouns.edges, labels, args.folds, args.seed, depths)
    report(full, labels, runs)


def run(
    client: WikidataClient,
    full: Lexicon,
    rows: list[dict[str, object]],
    edges: list[dict[str, object]],
    labels: dict[str, str],
    folds: int,
    seed: int,
    depths: list[int],
) -> dict[str, list[Outcome]]:
    """The outcomes per arm: ``--folds`` folds and leave-one-out, at each depth."""
    anchors = {q: full.senses(lab)[0] for q, lab in labels.items() if len(full.senses(lab)) == 1}
    queries = {lab: s for q, s in anchors.items() if full.parents.get(s) for lab in [labels[q]]}
    synsets = sorted(set(queries.values()))
    random.Random(seed).shuffle(synsets)
    shared = len(anchors) - len(set(anchors.values()))
    print(
        f"label anchors: {len(anchors)} items on {len(set(anchors.values()))} synsets ({shared} items share "
        f"a synset with another); queries: {len(queries)} labels on {len(synsets)} synsets\n"
    )
    # the lexicon a sync would leave: each anchored synset's qid, the lowest Q-number of its items
    first: dict[str, str] = {}
    for q in sorted(anchors, key=lambda q: int(q[1:])):
        first.setdefault(anchors[q], q)
    lex = Lexicon([r | {"qid": first[str(r["id"])]} if r["id"] in first else r for r in rows], edges)
    protocols = {
        f"{folds} folds": [set(synsets[i::folds]) for i in range(folds)],
        "leave one out": [{s} for s in synsets],
    }
    runs: dict[str, list[Outcome]] = {}
    for protocol, groups in protocols.items():
        for depth in depths:
            outs = runs[f"{protocol}, depth {depth}"] = []
            for hidden in groups:
                names = sorted(lab for lab, s in queries.items() if s in hidden)
                linker = NameLinker(client, lex, max_depth=depth)
                # the lexicon's anchors, the other items of a shared synset added, the hidden removed
                linker.anchors = {q: s for q, s in anchors.items() if s not in hidden}
                found = linker(names, [])
                if linker.report.skipped:
                    raise SystemExit(f"the linker skipped: {linker.report.skipped}")
                outs += [score(full, n, queries[n], found.get(n)) for n in names]
    return runs


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def proposed(outs: list[Outcome]) -> list[Outcome]:
    return [o for o in outs if o.placement is not None and o.placement.concept is not None]


def row(full: Lexicon, arm: str, outs: list[Outcome]) -> tuple[str, str]:
    """One table line for ``outs`` and its sentence beside the goal and the root baseline."""
    n = len(outs)
    prop = proposed(outs)
    ambiguous = sum(o.placement is not None and o.placement.review for o in outs)
    unmatched = sum(o.placement is None for o in outs)
    no_path = n - len(prop) - ambiguous - unmatched
    hits = sum(o.hit for o in prop)
    right = sum(o.right_ancestor for o in prop)
    wup_prop = mean([o.wup for o in prop])
    wup_all = mean([o.wup for o in outs])
    root = mean([max(full.wu_palmer(ENTITY_ID, g) for g in full.parents[o.synset]) for o in outs])
    steps = mean([float(o.steps) for o in prop])
    line = (
        f"{arm:31} {n:4d} {len(prop):8d} {ambiguous:6d} {no_path:7d} {unmatched:9d} "
        f"{hits / n:6.3f} {right / n:10.3f} {wup_prop:9.3f} {wup_all:7.3f} {root:6.3f} {steps:5.2f}"
    )
    sentence = (
        f"{arm}: Wu-Palmer over all {n} queries {wup_all:.3f} (goal {GOAL_WUP:.2f}, ratio "
        f"{wup_all / GOAL_WUP:.2f}; root baseline {root:.3f}, ratio {wup_all / root:.2f}); over the "
        f"{len(prop)} proposals {wup_prop:.3f}; Hit@1 {hits}/{n} = {hits / n:.3f} "
        f"({hits / max(len(prop), 1):.3f} of proposals); under a right ancestor {right}/{n} = {right / n:.3f}"
    )
    return line, sentence


def report(full: Lexicon, labels: dict[str, str], runs: dict[str, list[Outcome]]) -> None:
    print(
        f"{'arm':31} {'n':>4} {'proposed':>8} {'ambig.':>6} {'no path':>7} {'unmatched':>9} "
        f"{'Hit@1':>6} {'right anc.':>10} {'WuP prop.':>9} {'WuP all':>7} {'root':>6} {'steps':>5}"
    )
    sentences = []
    for arm, outs in runs.items():
        leaves = [o for o in outs if not full.children.get(o.synset)]
        for name, subset in ((arm, outs), (f"{arm}, leaves", leaves)):
            line, sentence = row(full, name, subset)
            print(line)
            sentences.append(sentence)
    print(
        "\nHit@1 and 'right anc.' are shares of all queries; WuP all counts no proposal as entity; root: "
        "every query under entity; steps: P279 steps walked, over proposals; leaves: queries whose "
        "synset has no WordNet hyponyms"
    )
    print("\n".join(sentences))
    shown = list(runs)[-1]
    outs = runs[shown]
    prop = proposed(outs)
    common = Counter(full.name(str(o.placement.concept)) for o in prop if o.placement is not None)
    print(f"\nmost proposed ({shown}): " + ", ".join(f"{k} {c}" for k, c in common.most_common(6)))
    for title, chosen in (
        ("misses", [o for o in prop if not o.hit]),
        ("hits", [o for o in prop if o.hit]),
    ):
        print(f"\n{len(chosen)} {title} ({shown}; first 10 by name): name -> proposed | gold")
        for o in sorted(chosen, key=lambda o: o.name.casefold())[:10]:
            assert o.placement is not None and o.placement.concept is not None
            gold = ", ".join(full.name(g) for g in full.parents[o.synset])
            mark = "" if o.hit else (" (an ancestor)" if o.right_ancestor else " (wrong branch)")
            print(
                f"  {o.name} -> {full.name(o.placement.concept)}{mark} | {gold}  "
                f"[WuP {o.wup:.2f}; {readable(o.placement.evidence, labels)}]"
            )


if __name__ == "__main__":
    main()
