"""Choose which WordNet sense a dataset class name means, from evidence, and say why.

A class whose name is a WordNet lemma *is* one of that lemma's synsets; when the lemma has several,
each candidate is scored on evidence that is recorded with the choice:

* WordNet's sense order and tag counts (how often each sense was tagged in the concordances);
* imageability: the sense has ImageNet images (datasets name it by wnid), and its lexicographer
  file holds physical things (animals, artifacts, food, plants, objects, bodies, people);
* the name's qualifier (``bus (vehicle)``): Wu-Palmer closeness of the sense to it;
* the dataset's description of the class, when it gives one (a CSV column, LVIS's ``def``): the
  content words it shares with the sense's gloss and lemmas (simplified Lesk);
* the dataset's task: every class of a detection dataset is an object, so physical senses gain;
* the dataset's other classes: the Wu-Palmer similarity to the classes listed next to it
  (COCO's *mouse* sits between *laptop* and *remote*), when the list is not alphabetical, and the
  share of the dataset's settled classes in the candidate's lexicographer file, also compared with
  the other candidates' files (LVIS holds many more foods than plants: its *banana* is the fruit).

The margin between the best and the second score sets the confidence; a small margin keeps the
choice but flags it for review, with the alternatives.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bamboo.graph.link.lexicon import Lexicon

__all__ = ["PHYSICAL_LEXNAMES", "PHYSICAL_OBJECT", "SenseChoice", "SenseContext", "choose_sense"]

PHYSICAL_OBJECT = "wn:n00002684"  # object, physical object
# Lexicographer files of things a camera can see. (Being under *object* is not enough: WordNet puts
# broadcasting and written works under artifact.) A noun.Tops synset counts when it is an object
# (person.n.01, animal.n.01).
PHYSICAL_LEXNAMES = frozenset(
    {"noun.animal", "noun.artifact", "noun.food", "noun.plant", "noun.object", "noun.body", "noun.person"}
)
REVIEW_MARGIN = 0.35

_W_PRIOR, _W_FREQ, _W_IMAGED, _W_PHYSICAL, _W_NEIGHBOURS, _W_LEXNAME = 1.5, 1.0, 0.5, 0.6, 4.0, 1.0
_W_OBJECT = 1.5  # extra for a physical sense when every class is an object
_W_QUALIFIER = 2.0  # times the closeness to the name's qualifier
_W_GLOSS = 3.0  # times the description's words in the gloss, over the square root of their number
_W_FILE_CONTRAST = 1.0  # times the share of the candidate's file among the candidates' files


@dataclass(frozen=True)
class SenseContext:
    """What the rest of the dataset says: settled neighbours and the lexicographer-file mix."""

    neighbours: tuple[str, ...] = ()
    lexname_share: tuple[tuple[str, float], ...] = ()
    objects: bool = False  # every class is a physical object (a detection dataset)

    @staticmethod
    def lexname_mix(settled: Sequence[str | None], lexicon: Lexicon) -> tuple[tuple[str, float], ...]:
        """The share of the settled classes in each lexicographer file (computed once per round)."""
        counts = Counter(
            str(lexicon.concepts[c].get("lexname")) for c in settled if c and c in lexicon.concepts
        )
        total = sum(counts.values()) or 1
        return tuple((k, v / total) for k, v in counts.items())

    @classmethod
    def of(
        cls,
        settled: Sequence[str | None],
        position: int,
        lexicon: Lexicon,
        *,
        ordered: bool,
        mix: tuple[tuple[str, float], ...] = (),
        objects: bool = False,
    ) -> SenseContext:
        """The context of the class at ``position`` among the ``settled`` concepts.

        Its nearest settled neighbours (up to three either side, only when the classes are ``ordered``),
        with ``mix`` and ``objects`` as given.
        """
        near: list[str] = []
        if ordered:
            for offset in (-1, 1, -2, 2, -3, 3):
                j = position + offset
                if 0 <= j < len(settled) and settled[j] and settled[j] in lexicon.concepts:
                    near.append(settled[j])  # type: ignore[arg-type]
        return cls(tuple(near), mix, objects)


@dataclass(frozen=True)
class SenseChoice:
    """The sense chosen for a class name, the evidence and confidence, and the alternatives."""

    concept: str
    confidence: float
    evidence: str
    alternatives: tuple[str, ...]
    review: bool


def choose_sense(
    candidates: Sequence[str],
    lexicon: Lexicon,
    imaged: frozenset[str],
    context: SenseContext,
    tag_counts: Mapping[str, int] | None = None,
    *,
    qualifier: Mapping[str, float] | None = None,
    description: str | None = None,
) -> SenseChoice:
    """The best of ``candidates`` (in WordNet sense order) with its evidence; see the module doc.
    ``qualifier`` holds each candidate's closeness to the name's qualifier (``bus (vehicle)``);
    ``description`` is the dataset's own description of the class, compared with each gloss."""
    described = _content_words(description or "")
    share = dict(context.lexname_share)
    # The candidates' lexicographer files compared with each other: LVIS has many more foods than
    # plants, so its "banana" is the fruit (noun.food), not the plant.
    files = {str(lexicon.concepts.get(c, {}).get("lexname")) for c in candidates}
    among = sum(share.get(f, 0.0) for f in files)
    counts = tag_counts or {}
    total = sum(counts.get(c, 0) + 1 for c in candidates)
    scored: list[tuple[float, int, str, list[str]]] = []
    for rank, cid in enumerate(candidates):
        lexname = str(lexicon.concepts.get(cid, {}).get("lexname"))
        why = [f"sense {rank + 1} of {len(candidates)}"]
        score = _W_PRIOR / (1 + rank) + _W_FREQ * (counts.get(cid, 0) + 1) / total
        if counts.get(cid):
            why.append(f"tagged {counts[cid]}x")
        if cid in imaged:
            score += _W_IMAGED
            why.append("ImageNet images")
        if lexname in PHYSICAL_LEXNAMES or (
            lexname == "noun.Tops" and PHYSICAL_OBJECT in lexicon.ancestors(cid)
        ):
            score += _W_PHYSICAL + (_W_OBJECT if context.objects else 0.0)
            why.append(f"physical object ({lexname})")
        if context.neighbours:
            sims = sorted((lexicon.wu_palmer(cid, n) for n in context.neighbours), reverse=True)[:3]
            mean = sum(sims) / len(sims)
            score += _W_NEIGHBOURS * mean
            why.append(f"neighbours {mean:.2f}")
        if described:
            entry = lexicon.concepts.get(cid, {})
            overlap = described & _content_words(
                f"{entry.get('gloss') or ''} {' '.join(entry.get('lemmas') or ())}"
            )
            if overlap:
                score += _W_GLOSS * len(overlap) / len(described) ** 0.5
                why.append(f"description shares {', '.join(sorted(overlap)[:4])} with the gloss")
        if qualifier and cid in qualifier:
            score += _W_QUALIFIER * qualifier[cid]
            why.append(f"qualifier {qualifier[cid]:.2f}")
        if share.get(lexname):
            score += _W_LEXNAME * share[lexname]
            why.append(f"{share[lexname]:.0%} of the dataset in {lexname}")
            if len(files) > 1 and among:
                score += _W_FILE_CONTRAST * share[lexname] / among
        scored.append((score, -rank, cid, why))
    scored.sort(reverse=True)
    best, second = scored[0], scored[1] if len(scored) > 1 else None
    margin = best[0] - second[0] if second else 1.0
    confidence = round(min(0.85, 0.5 + margin / 2), 3)
    alternatives = tuple(s[2] for s in scored[1:4])
    evidence = "; ".join(best[3]) + f"; margin {margin:.2f}"
    return SenseChoice(best[2], confidence, evidence, alternatives, review=margin < REVIEW_MARGIN)


_STOP = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to used with "
    "which who any one some such other more most very into than".split()
)


def _content_words(text: str) -> frozenset[str]:
    """Lower-case content words, crudely singular ("wheels" -> "wheel"), for gloss overlap."""
    words = re.findall(r"[a-z]+", text.lower())
    return frozenset(
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
        for w in words
        if w not in _STOP and len(w) > 2
    )
