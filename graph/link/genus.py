"""Strategy 5: the description's genus phrase, its sense and the concept below it settled by the
sibling vote.

A definition names the kind first: *trumpet creeper* is "a North American woody vine having pinnate
leaves", a *sealyham* "a wire-haired terrier ...". The description's first noun phrase, without its
determiner, is looked up longest ending first (*north american woody vine*, *american woody vine*,
*woody vine*, *vine*), its last word also singular; a pronoun is skipped (*any of various small
birds*: *small bird*, *bird*). Of the
first phrase WordNet knows, the sense the :class:`~bamboo.graph.link.embed.SiblingVote` neighbours
support most (their votes for it and for concepts below it; WordNet's sense order breaks ties) is the
**kind**, and the answer is the best-voted concept at or below it: the kind itself, or a narrower
parent the neighbours agree on (*terrier* -> *wirehair*). Without a phrase WordNet knows, or a sense
any neighbour supports, the sibling vote stands.

Measured on WordNet leaf re-attachment (``bamboo eval linking``; results page of 2026-12-07 on
linking): it needs a description, so it does nothing for a bare dataset name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bamboo.graph.link.embed import SiblingVote
from bamboo.graph.link.head import load_spacy
from bamboo.graph.link.lexicon import Link

__all__ = ["GenusVote", "genus_phrases"]


def _singulars(word: str) -> list[str]:
    out = [word]
    for suffix, replacement in (("ies", "y"), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            out.append(word[: -len(suffix)] + replacement)
    return out


def genus_phrases(doc: Any) -> list[str]:
    """The genus phrases of a parsed description, longest first: the endings of its first noun chunk
    that is not a pronoun (without determiners), each with its last word as written and singular."""
    for chunk in doc.noun_chunks:
        if chunk.root.pos_ == "PRON":  # "any of various small birds": the chunk after "any"
            continue
        words = [t.text.lower() for t in chunk if t.pos_ != "DET" and t.dep_ != "det"]
        if words:
            lasts = _singulars(words[-1])
            return [" ".join([*words[i:-1], last]) for i in range(len(words)) for last in lasts]
    return []


class GenusVote:
    """The genus phrase's sense, and the concept at or below it, chosen by the sibling vote.

    Args:
        siblings: The sibling vote (over every concept that may be a neighbour).
        nlp: A spaCy pipeline with a parser (:func:`~bamboo.graph.link.head.load_spacy` when None).
    """

    method = "genus+siblings"

    def __init__(self, siblings: SiblingVote, nlp: Any | None = None) -> None:
        self.siblings = siblings
        self.nlp = nlp if nlp is not None else load_spacy()

    def link_many(self, names: Sequence[str], descriptions: Sequence[str], k: int = 5) -> list[list[Link]]:
        """The ``k`` best parents per name and its description, in order."""
        lexicon = self.siblings.index.lexicon
        texts = [f"{n}: {d}".strip(": ") for n, d in zip(names, descriptions, strict=True)]
        out = []
        docs = self.nlp.pipe([d or "" for d in descriptions])
        for votes, doc in zip(self.siblings.votes_many(texts), docs, strict=True):
            phrase, senses = "", []
            for phrase in genus_phrases(doc):
                senses = [c for c in lexicon.senses(phrase) if c in lexicon.concepts]
                if senses:
                    break
            support = {
                c: sum(v for p, v in votes.items() if p == c or c in lexicon.ancestors(p)) for c in senses
            }
            ranked = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))
            kind = max(senses, key=lambda c: (support[c], -senses.index(c))) if senses else None
            if kind is None or support[kind] <= 0:
                why = f"from the {self.siblings.neighbours} nearest concepts (no genus phrase they support)"
                out.append([Link(c, round(v, 4), self.method, f"votes {v:.3f} {why}") for c, v in ranked[:k]])
                continue
            under = [(c, v) for c, v in ranked if c == kind or kind in lexicon.ancestors(c)]
            rest = [(c, v) for c, v in ranked if (c, v) not in under][: max(k - len(under), 0)]
            why = f"genus {phrase!r} as {lexicon.name(kind)} ({kind}), at or below it"
            out.append(
                [Link(c, round(v, 4), self.method, f"votes {v:.3f}; {why}") for c, v in under[:k]]
                + [Link(c, round(v, 4), self.method, f"votes {v:.3f}") for c, v in rest]
            )
        return out
