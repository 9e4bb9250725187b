"""Detection crawl pairs (paper §4.1.1): *common + scene* and *common + common*, scored and ranked.

A pair's score is the relatedness of the two concepts' texts in a sentence-embedding space
(all-MiniLM-L6-v2 by default: the mean of the cosines of ``"a photo of a <name>"`` and of
``"<name>: <gloss>"``), plus, for scenes, ``SCENE_PRIOR_WEIGHT`` times the scene word's
frequency (scenes people photograph often, *street*, *kitchen*, *house*, rank above rare ones at
equal relatedness). The top pairs of a concept are chosen best first with maximal marginal
relevance, so five scenes for *dog* are not five kinds of pet shop. Object pairs leave out a
concept's own ancestors and descendants (*dog + animal* is not two objects).

Without sentence-transformers installed, relatedness falls back to the overlap of the two texts'
content words (named ``gloss-overlap`` in every pair's evidence), which is much weaker.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "DIVERSITY",
    "KIND_PENALTY",
    "MENTION_BONUS",
    "SCENE_PRIOR_WEIGHT",
    "Pair",
    "PairPlanner",
    "gloss_mentions",
    "lexical_encoder",
    "scene_prior",
]

#: Weight of the scene word's frequency prior against relatedness (cosines of about 0.2-0.7).
SCENE_PRIOR_WEIGHT = 0.05
#: Maximal-marginal-relevance penalty: a candidate loses this times its similarity to the most
#: similar pair already chosen.
DIVERSITY = 0.1
#: Added when one concept's gloss names the other (or the other's parent): *kennel*, "outbuilding
#: that serves as a shelter for a dog"; *saddle*, "a seat for the rider of a horse". A gloss saying
#: what a thing is for or where it is found is the nearest thing to co-occurrence WordNet has.
MENTION_BONUS = 0.2
#: Object pairs lose this times the two concepts' Wu-Palmer similarity in the taxonomy: two kinds
#: of the same thing (*dog + wolf*) are related but rarely photographed together, and confusable.
KIND_PENALTY = 0.4

Encoder = Callable[[Sequence[str]], npt.NDArray[np.float32]]

_WORD = re.compile(r"[a-z]+")
_STOP = frozenset(
    "a an the of or and in on for with to by as at from that which is are be used its it this".split()
)


def lexical_encoder(dim: int = 4096) -> Encoder:
    """A bag-of-content-words encoder (hashed, L2-normalised): relatedness without a model."""

    def encode(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.casefold()):
                if word not in _STOP:
                    out[row, zlib.crc32(word.encode()) % dim] = 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)

    return encode


def _plural(word: str) -> str:
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def gloss_mentions(
    lemmas: Mapping[str, Sequence[str]],
    glosses: Mapping[str, str],
    below: Mapping[str, set[str]],
    *,
    max_below: int = 30,
) -> dict[str, set[str]]:
    """Which concepts' glosses name which others, symmetrically.

    Args:
        lemmas: Concept id -> its names (a gloss mentions the concept when it contains one of them,
            singular or plural, as whole words).
        glosses: Concept id -> its gloss.
        below: Concept id -> its descendants among the same concepts; a mention of a concept also
            links its descendants when there are at most ``max_below`` of them (*kennel* names
            *dog*, so it goes with *cocker spaniel* too).

    Returns:
        Concept id -> the concepts linked to it by a mention either way.
    """
    index: dict[tuple[str, ...], set[str]] = {}
    for cid, names in lemmas.items():
        for name in names:
            words = tuple(_WORD.findall(name.casefold()))
            if not words or (len(words) == 1 and words[0] in _STOP):
                continue
            for form in (words, (*words[:-1], _plural(words[-1]))):
                index.setdefault(form, set()).add(cid)
    links: dict[str, set[str]] = {}
    for cid, gloss in glosses.items():
        tokens = _WORD.findall(gloss.casefold())
        named: set[str] = set()
        for n in (1, 2, 3):
            for i in range(len(tokens) - n + 1):
                named |= index.get(tuple(tokens[i : i + n]), set())
        named.discard(cid)
        for m in named:
            group = {m} | (below.get(m, set()) if len(below.get(m, set())) <= max_below else set())
            for other in group - {cid}:
                links.setdefault(cid, set()).add(other)
                links.setdefault(other, set()).add(cid)
    return links


def scene_prior(tag_count: int) -> float:
    """How often people name the scene word, in [0, 1]: ``log(1 + tag count) / log(21)``, capped."""
    return min(1.0, math.log1p(max(tag_count, 0)) / math.log1p(20))


@dataclass(frozen=True)
class Pair:
    """One detection query: a concept with a scene or another common concept.

    Attributes:
        concept: The common concept.
        other: The scene or the second concept.
        kind: ``scene`` or ``pair``.
        score: Relatedness (+ the scene prior), the ranking key before diversification.
        relatedness: Cosine of the two texts.
        prior: The scene word's prior (0 for pairs).
        mentioned: One's gloss names the other (:func:`gloss_mentions`).
    """

    concept: str
    other: str
    kind: str
    score: float
    relatedness: float
    prior: float
    mentioned: bool = False


class PairPlanner:
    """Scores pairs among ``objects`` and between ``objects`` and ``scenes``.

    Args:
        texts: Concept id -> ``(name, gloss)`` for every object and scene.
        objects: The common vocabulary.
        scenes: The scene concepts.
        scene_priors: Scene id -> :func:`scene_prior`.
        lineage: Concept id -> its ancestors and descendants among ``objects`` (never paired).
        kinship: ``(a, b)`` -> Wu-Palmer similarity of two objects in the taxonomy (0 when None).
        mentions: Concept id -> the concepts its gloss names or whose glosses name it
            (:func:`gloss_mentions`).
        encoder: Texts -> unit vectors; :func:`lexical_encoder` when None.
        encoder_name: Named in each pair's evidence.
    """

    def __init__(
        self,
        texts: Mapping[str, tuple[str, str]],
        objects: Sequence[str],
        scenes: Sequence[str],
        scene_priors: Mapping[str, float],
        lineage: Mapping[str, set[str]],
        encoder: Encoder | None = None,
        encoder_name: str = "gloss-overlap",
        kinship: Callable[[str, str], float] | None = None,
        mentions: Mapping[str, set[str]] | None = None,
    ) -> None:
        self.objects = list(objects)
        self.scenes = list(scenes)
        self.encoder_name = encoder_name if encoder is not None else "gloss-overlap"
        encode = encoder or lexical_encoder()
        every = list(dict.fromkeys([*self.objects, *self.scenes]))
        both = encode(
            [f"a photo of a {texts[c][0]}" for c in every]
            + [f"{texts[c][0]}: {texts[c][1]}".rstrip(": ") for c in every]
        )  # one call: an out-of-process encoder starts a process per call
        photo, glossed = both[: len(every)], both[len(every) :]
        self._row = {c: i for i, c in enumerate(every)}
        self._photo = photo
        self._glossed = glossed
        self._obj = np.array([self._row[c] for c in self.objects], dtype=np.int64)
        self._scn = np.array([self._row[c] for c in self.scenes], dtype=np.int64)
        self._prior = np.array([scene_priors.get(s, 0.0) for s in self.scenes], dtype=np.float64)
        self._lineage = lineage
        self._kinship = kinship or (lambda a, b: 0.0)
        self._mentions = mentions or {}

    def _related(self, cid: str, rows: npt.NDArray[np.int64], *, photo: bool) -> npt.NDArray[np.float64]:
        i = self._row[cid]
        glossed = (self._glossed[rows] @ self._glossed[i]).astype(np.float64)
        if not photo:
            return glossed
        return ((self._photo[rows] @ self._photo[i] + glossed) / 2).astype(np.float64)

    def _pick(
        self,
        cid: str,
        rows: npt.NDArray[np.int64],
        ids: Sequence[str],
        score: npt.NDArray[np.float64],
        k: int,
    ) -> list[int]:
        """Up to ``k`` positions into ``ids``, best first, by maximal marginal relevance."""
        pool = [int(i) for i in np.lexsort((np.array(ids), -score))[: max(8 * k, 40)]]
        chosen: list[int] = []
        while pool and len(chosen) < k:
            if chosen:
                sims = self._glossed[rows[pool]] @ self._glossed[rows[chosen]].T
                adjusted = score[pool] - DIVERSITY * sims.max(axis=1)
            else:
                adjusted = score[pool]
            best = int(np.argmax(adjusted))  # ties: the earlier (better-ranked, then by id) one
            chosen.append(pool.pop(best))
        return chosen

    def _mentioned(self, cid: str, ids: Sequence[str]) -> npt.NDArray[np.float64]:
        linked = self._mentions.get(cid, set())
        return np.array([o in linked for o in ids], dtype=np.float64)

    def scene_pairs(self, cid: str, k: int) -> list[Pair]:
        """The ``k`` best scenes for ``cid``, best first."""
        if cid not in self._row or not self.scenes or k <= 0:
            return []
        rel = self._related(cid, self._scn, photo=True)
        mention = self._mentioned(cid, self.scenes)
        score = rel + SCENE_PRIOR_WEIGHT * self._prior + MENTION_BONUS * mention
        picked = self._pick(cid, self._scn, self.scenes, score, k)
        return [
            Pair(
                cid,
                self.scenes[i],
                "scene",
                float(score[i]),
                float(rel[i]),
                float(self._prior[i]),
                bool(mention[i]),
            )
            for i in picked
        ]

    def object_pairs(self, cid: str, k: int) -> list[Pair]:
        """The ``k`` most related other common concepts for ``cid`` (not its own lineage), best first."""
        if cid not in self._row or k <= 0:
            return []
        rel = self._related(cid, self._obj, photo=False)
        mention = self._mentioned(cid, self.objects)
        banned = self._lineage.get(cid, set()) | {cid}
        score = np.where([o in banned for o in self.objects], -np.inf, rel + MENTION_BONUS * mention)
        pool = np.lexsort((np.array(self.objects), -score))[: max(8 * k, 40)]
        for i in pool:  # only the candidates near the top pay for a taxonomy lookup
            score[i] -= KIND_PENALTY * self._kinship(cid, self.objects[i])
        keep = np.full(len(score), -np.inf)
        keep[pool] = score[pool]
        picked = [i for i in self._pick(cid, self._obj, self.objects, keep, k) if np.isfinite(keep[i])]
        return [
            Pair(cid, self.objects[i], "pair", float(keep[i]), float(rel[i]), 0.0, bool(mention[i]))
            for i in picked
        ]

    def evidence(self, pair: Pair) -> dict[str, Any]:
        """A pair's score and what it is made of, JSON-ready."""
        out: dict[str, Any] = {
            "score": round(pair.score, 4),
            "relatedness": round(pair.relatedness, 4),
            "encoder": self.encoder_name,
        }
        if pair.kind == "scene":
            out["scene_prior"] = round(pair.prior, 4)
        if pair.mentioned:
            out["gloss_mention"] = True
        return out
