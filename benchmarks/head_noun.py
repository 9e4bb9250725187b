"""Head-noun sense choice, measured on WordNet's own two-word compounds.

A new concept is often placed under its head noun (*stop sign* -> a sign), and the head's sense is
chosen like any other. Gold: every two-word WordNet noun lemma ``M H`` whose synset's direct hypernym
is exactly one of ``H``'s senses (*bread knife* -> knife the edge tool, not the weapon). The compound
is hidden from the lookup: only its proper endings are tried, as for a name WordNet lacks.

Prints the share of compounds whose head takes the gold sense with the modifier's first two senses as
neighbours, beside the same mapper without them (the default:
:data:`bamboo.graph.mapping.datasets.MODIFIER_SENSES` is 0, because the modifier evidence put fewer
Stanford Cars names under *car* in ``benchmarks/domains.py``) and the first WordNet sense, all in one
process. Names from datasets are not
WordNet compounds, so this is a proxy: it says which way the modifier evidence pushes, not how
often a dataset's new concept lands right.
"""

from __future__ import annotations

import argparse
import time

import bamboo.graph.mapping.datasets as mapping
from bamboo.graph.mapping.datasets import ClassMapper
from bamboo.graph.mapping.senses import SenseContext
from bamboo.graph.taxonomy.search import normalize
from bamboo.graph.taxonomy.wordnet import read_member_meronyms, read_modifiers, read_nouns, read_sense_index


def compounds(mapper: ClassMapper) -> list[tuple[str, str]]:
    """``(compound, gold head sense)`` for the two-word lemmas described in the module docstring."""
    lex = mapper._lexicon
    out = []
    for cid, props in lex.concepts.items():
        parents = set(lex.parents.get(cid, ()))
        for lemma in props.get("lemmas") or ():
            words = normalize(lemma).replace("-", " ").split()
            if len(words) != 2:
                continue
            senses = mapper._senses(words[1])
            right = [s for s in senses if s in parents]
            if len(senses) > 1 and len(right) == 1:
                out.append((lemma, right[0]))
    return sorted(set(out))


def accuracy(mapper: ClassMapper, gold: list[tuple[str, str]]) -> float:
    hits = 0
    for name, sense in gold:
        found = mapper.head_noun(name.replace("_", " "), (), SenseContext())
        hits += found is not None and found[0] == sense
    return hits / len(gold)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.parse_args()
    t0 = time.perf_counter()
    nouns = read_nouns()
    rows = [{"id": c["id"], **c["props"]} for c in nouns.concepts]
    mapper = ClassMapper(rows, nouns.edges, (), read_sense_index(), read_member_meronyms(), read_modifiers())
    gold = compounds(mapper)
    print(f"{len(gold)} WordNet compounds, mapper ready in {time.perf_counter() - t0:.1f} s")
    default = mapping.MODIFIER_SENSES
    try:
        mapping.MODIFIER_SENSES = 2
        ours = accuracy(mapper, gold)
        mapping.MODIFIER_SENSES = 0
        without = accuracy(mapper, gold)
    finally:
        mapping.MODIFIER_SENSES = default
    first = sum(mapper._senses(normalize(n).replace("-", " ").split()[1])[0] == s for n, s in gold) / len(
        gold
    )
    print(f"{'head sense':40} {'accuracy':>9}")
    print(f"{'with the modifier (2 senses)':40} {ours:9.3f}")
    print(f"{'without the modifier (the default)':40} {without:9.3f}")
    print(f"{'first WordNet sense':40} {first:9.3f}")
    print(f"modifier over default: {ours / without:.3f}x   ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
