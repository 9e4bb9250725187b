"""Quality of name-only class mapping (sense choice), on gold lists, against the first-sense baseline.

Gold sets:

* ``benchmarks/gold/coco-80.tsv``: COCO's 80 detection classes, synsets checked by hand;
* ImageNet-21K names: every ImageNet-21K (fall 2011) synset's first lemma, mapped by name alone, its
  wnid being the answer (built here from timm's ``imagenet_synset_to_lemma.txt``). The names are
  given in alphabetical order, so the list order leaks nothing; ``imaged`` is ImageNet-1K only (the
  answers must not be given away by "has ImageNet-21K images"). Scored over all names and over the
  ambiguous ones (two or more noun senses), which is where sense choice matters;
* ImageNet-1K names in the dataset's own class order (neighbours speak), mapped without the
  ImageNet-images evidence (it would give the answers away); the neighbour weight was chosen here;
* iNaturalist 2018's official ``categories.json`` (when ``../shared/data`` has it): the share of
  species placed under their kingdom's and class's synset (``benchmarks/gold/inat-classes.tsv``,
  hand-checked), beside the same mapping without WordNet's taxa (domain and head noun only).

Prints exact-synset accuracy (strict, and grouped: classes sharing a name scored as a multiset, see
:mod:`bamboo.graph.mapping.evaluate`) and coverage beside the baseline run in the same process: the most
frequent WordNet sense (the first in ``index.noun``), the classic word-sense baseline.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from bamboo.graph.mapping.datasets import ClassMapper
from bamboo.graph.mapping.evaluate import (
    GoldClass,
    evaluate_mapping,
    evaluate_taxonomy,
    read_gold,
    read_taxon_gold,
)
from bamboo.graph.taxonomy.search import normalize
from bamboo.graph.taxonomy.wordnet import read_member_meronyms, read_modifiers, read_nouns, read_sense_index

HERE = Path(__file__).resolve().parent
LABELSETS = HERE.parents[1] / "shared" / "data" / "labelsets"


def _timm_file(name: str) -> Path | None:
    if (LABELSETS / f"timm__{name}").exists():
        return LABELSETS / f"timm__{name}"
    try:
        import timm.data

        path = Path(timm.data.__file__).parent / "_info" / name
        return path if path.exists() else None
    except ImportError:
        return None


def first_sense_accuracy(
    gold: list[GoldClass], senses: dict[str, list[tuple[str, int]]], *, grouped: bool = False
) -> float:
    """The most frequent sense for every class; ``grouped``: the k classes of one name take its first
    k senses (the baseline for repeated names), scored as a multiset like the grouped accuracy."""
    exact = [g for g in gold if g.kind == "exact"]
    if not grouped:
        hits = 0
        for g in exact:
            found = senses.get(normalize(g.name)) or []
            hits += bool(found) and found[0][0] == g.concept
        return hits / len(exact) if exact else 0.0
    by_name: dict[str, list[str]] = {}
    for g in exact:
        by_name.setdefault(normalize(g.name), []).append(g.concept)
    hits = 0
    for name, concepts in by_name.items():
        guess = [c for c, _ in senses.get(name) or []][: len(concepts)]
        hits += sum((Counter(concepts) & Counter(guess)).values())
    return hits / len(exact) if exact else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.parse_args()
    t0 = time.perf_counter()
    nouns = read_nouns()
    senses = read_sense_index()
    one_k = _timm_file("imagenet_synsets.txt")
    imaged = {f"wn:{w.strip()}" for w in one_k.read_text().split()} if one_k else set()
    members = read_member_meronyms()
    rows_ = [{"id": c["id"], **c["props"]} for c in nouns.concepts]
    modifiers = read_modifiers()
    mapper = ClassMapper(rows_, nouns.edges, imaged, senses, members, modifiers)
    print(f"WordNet, sense index and mapper ready in {time.perf_counter() - t0:.1f} s")

    sets: list[tuple[str, list[GoldClass], dict[str, str]]] = [
        ("coco-80 (hand-checked)", read_gold(HERE / "gold" / "coco-80.tsv"), {"coco": "detection"})
    ]
    lemmas = _timm_file("imagenet_synset_to_lemma.txt")
    if lemmas:
        rows = []
        for line in lemmas.read_text().splitlines():
            wnid, _, names = line.partition("\t")
            name = names.split(",")[0].strip()
            if wnid.startswith("n") and name:
                rows.append(GoldClass("imagenet-21k-names", name, f"wn:{wnid}", "exact"))
        rows.sort(key=lambda g: (g.name.lower(), g.concept))
        ambiguous = [
            GoldClass("imagenet-21k-ambiguous", g.name, g.concept, g.kind)
            for g in rows
            if len(senses.get(normalize(g.name), [])) > 1
        ]
        sets.append(("imagenet-21k names", rows, {}))
        sets.append(("imagenet-21k ambiguous names", ambiguous, {}))
        if one_k:  # in the dataset's own order, so the neighbours speak; ambiguous names only
            first = {g.concept: g.name for g in rows}
            in_order = [
                GoldClass("imagenet-1k-ordered", first[f"wn:{w}"], f"wn:{w}", "exact")
                for w in one_k.read_text().split()
                if f"wn:{w}" in first
            ]
            sets.append(("imagenet-1k names, own order *", in_order, {}))
    else:
        print("timm's imagenet_synset_to_lemma.txt not found: ImageNet-21K gold skipped")

    print(
        f"{'gold set':32} {'n':>6} {'accuracy':>9} {'grouped':>8} {'coverage':>9} {'review':>7}  "
        f"{'first sense':>11} {'grouped':>8}  ratio (grouped)"
    )
    # * ImageNet-1K's own classes are the imaged senses: that set is mapped without them.
    blind = ClassMapper(rows_, nouns.edges, (), senses, members, modifiers)
    for title, gold, tasks in sets:
        t1 = time.perf_counter()
        (score,) = evaluate_mapping(gold, blind if title.endswith("*") else mapper, tasks=tasks)
        base = first_sense_accuracy(gold, senses)
        base_grouped = first_sense_accuracy(gold, senses, grouped=True)
        print(
            f"{title:32} {score.exact_total:6d} {score.accuracy:9.3f} {score.grouped_accuracy:8.3f} "
            f"{score.coverage:9.3f} "
            f"{score.review:7d}  {base:11.3f} {base_grouped:8.3f}  "
            f"{score.grouped_accuracy / base_grouped if base_grouped else float('nan'):.2f}x"
            f"   ({time.perf_counter() - t1:.1f} s)"
        )
        if score.errors and len(score.errors) <= 12:
            print("   errors:", ", ".join(f"{n} -> {got}" for n, _, got in score.errors))

    categories = LABELSETS / "inaturalist2018_categories.json"
    if not categories.exists():
        print("iNaturalist 2018 categories.json not found: taxonomy placement skipped")
        return
    from bamboo.loaders import create_loader

    species = create_loader("inaturalist-2018").load(categories).classes
    gold = read_taxon_gold(HERE / "gold" / "inat-classes.tsv")
    without = ClassMapper(rows_, nouns.edges, imaged, senses)  # no member meronyms: no taxa
    print(f"\n{'iNaturalist 2018 species':32} {'n':>6} {'under kingdom':>14} {'under class':>12}")
    for title, m in (("with WordNet taxa (ours)", mapper), ("without taxa (baseline)", without)):
        t1 = time.perf_counter()
        tax = evaluate_taxonomy("inaturalist-2018", species, m, gold)
        print(
            f"{title:32} {tax.species:6d} {tax.under_kingdom / tax.kingdom_total:14.3f} "
            f"{tax.under_class / tax.class_total:12.3f}   ({time.perf_counter() - t1:.1f} s) {tax.by_method}"
        )


if __name__ == "__main__":
    main()
