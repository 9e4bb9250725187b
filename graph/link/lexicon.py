"""What the linking strategies know about the backbone: lemmas, glosses, parents, depths."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bamboo.graph.taxonomy.model import ENTITY_ID
from bamboo.graph.taxonomy.search import normalize

__all__ = ["Lexicon", "Link"]

_SENSE = re.compile(r"\.n\.(\d+)$")


@dataclass(frozen=True)
class Link:
    """A proposed parent (or equivalent) concept for something being linked."""

    concept: str
    score: float
    method: str
    evidence: str


class Lexicon:
    """WordNet concepts of the graph: lemma index (senses in WordNet order), parents and depths.

    ``hidden`` concepts are left out of every index (the leaf re-attachment evaluation hides the
    leaves it links).
    """

    def __init__(
        self, concepts: Iterable[dict[str, Any]], edges: Iterable[dict[str, Any]], hidden: Iterable[str] = ()
    ) -> None:
        hide = set(hidden)
        self.concepts: dict[str, dict[str, Any]] = {
            c["id"]: c for c in concepts if c.get("source") == "wordnet" and c["id"] not in hide
        }
        self.parents: dict[str, list[str]] = defaultdict(list)
        self.children: dict[str, list[str]] = defaultdict(list)
        for e in edges:
            if e["child"] in self.concepts and e["parent"] in self.concepts:
                self.parents[e["child"]].append(e["parent"])
                self.children[e["parent"]].append(e["child"])
        senses: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for cid, c in self.concepts.items():
            m = _SENSE.search(c.get("synset") or "")
            rank = int(m.group(1)) if m else 99
            for lemma in {c.get("name") or "", *(c.get("lemmas") or [])}:
                if lemma:
                    senses[normalize(lemma)].append((rank, cid))
        self._senses = {k: [cid for _, cid in sorted(v)] for k, v in senses.items()}
        #: Characters in the longest lemma: a longer text is no lemma, whatever its spelling.
        self.longest_lemma = max(map(len, self._senses), default=0)
        self._depth: dict[str, int] = {}
        self._ancestors: dict[str, frozenset[str]] = {}

    def lemma_keys(self) -> list[str]:
        """Every normalised lemma the lexicon knows."""
        return list(self._senses)

    def senses(self, text: str) -> list[str]:
        """Concepts with ``text`` as a lemma, most frequent WordNet sense first."""
        return self._senses.get(normalize(text), [])

    def gloss(self, concept: str) -> str:
        """The concept's gloss (empty when it has none)."""
        return str(self.concepts[concept].get("gloss") or "")

    def name(self, concept: str) -> str:
        """The concept's name (its id when it has none)."""
        return str(self.concepts[concept].get("name") or concept)

    def ancestors(self, concept: str) -> frozenset[str]:
        """``concept`` and everything above it (memoised)."""
        if concept not in self._ancestors:
            seen = {concept}
            stack = [concept]
            while stack:
                for p in self.parents.get(stack.pop(), ()):
                    if p not in seen:
                        seen.add(p)
                        stack.append(p)
            self._ancestors[concept] = frozenset(seen)
        return self._ancestors[concept]

    def depth(self, concept: str) -> int:
        """Edges on the shortest path up to the root, plus one (the root has depth 1)."""
        if concept not in self._depth:
            frontier, d, seen = [concept], 1, {concept}
            while frontier and ENTITY_ID not in frontier:
                frontier = [p for c in frontier for p in self.parents.get(c, ()) if p not in seen]
                seen.update(frontier)
                d += 1
            self._depth[concept] = d
        return self._depth[concept]

    def _distances_up(self, concept: str) -> dict[str, int]:
        """Shortest number of IS_A steps from ``concept`` up to each of its ancestors."""
        dist, frontier = {concept: 0}, [concept]
        while frontier:
            step = []
            for c in frontier:
                for p in self.parents.get(c, ()):
                    if p not in dist:
                        dist[p] = dist[c] + 1
                        step.append(p)
            frontier = step
        return dist

    def wu_palmer(self, a: str, b: str) -> float:
        """Wu-Palmer similarity as NLTK computes it, ``2 D / (d_a + d_b + 2 D)`` with ``D`` the depth
        of the deepest common ancestor and ``d_x`` the steps from ``x`` up to it (1.0 for the same
        concept; never above 1 under multiple inheritance)."""
        if a == b:
            return 1.0
        up_a, up_b = self._distances_up(a), self._distances_up(b)
        common = up_a.keys() & up_b.keys()
        if not common:
            return 0.0
        lcs = max(common, key=lambda c: (self.depth(c), -(up_a[c] + up_b[c])))
        depth = self.depth(lcs)
        return 2 * depth / (up_a[lcs] + up_b[lcs] + 2 * depth)
