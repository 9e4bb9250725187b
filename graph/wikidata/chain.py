"""Chain linking: follow subclass-of (``P279``) and parent-taxon (``P171``) up to an item whose
WordNet synset is known; the nearer the anchor, the higher the score."""

from __future__ import annotations

from collections.abc import Mapping

from bamboo.graph.link.lexicon import Link
from bamboo.graph.wikidata.client import WikidataItem

__all__ = ["chain_links"]


def chain_links(
    qid: str, items: Mapping[str, WikidataItem], anchors: Mapping[str, str], max_depth: int = 10
) -> list[Link]:
    """Synsets reached first going up from ``qid`` (breadth first), with the path as evidence.

    ``anchors`` maps items to the concept ids of their synsets; ``qid``'s own anchor is not a
    parent and is skipped.
    """
    paths = {qid: [qid]}
    frontier = [qid]
    for depth in range(1, max_depth + 1):
        nxt = []
        for q in frontier:
            item = items.get(q)
            for p in item.parents if item else ():
                if p not in paths:
                    paths[p] = [*paths[q], p]
                    nxt.append(p)
        hits = [p for p in nxt if p in anchors]
        if hits:
            score = round(0.95 * 0.9 ** (depth - 1), 4)
            return [
                Link(anchors[p], score, "chain", " -> ".join(paths[p]) + f" = {anchors[p]}")
                for p in sorted(hits, key=lambda h: (anchors[h], h))
            ]
        frontier = nxt
        if not frontier:
            break
    return []
