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
    "SCENE_PRIOR_WEIGHT",
    "Pair",
    "PairPlanner",
    "lexical_encoder",
    "scene_prior",
]

#: Weight of the scene word's frequency prior against relatedness (cosines of about 0.2-0.7).
SCENE_PRIOR_WEIGHT = 0.05
#: Maximal-marginal-relevance penalty: a candidate loses this times its similarity to the most
#: similar pair already chosen.
DIVERSITY = 0.1
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
    """

    concept: str
    other: str
    kind: str
    score: float
    relatedness: float
    prior: float


class PairPlanner:
    """Scores pairs among ``objects`` and between ``objects`` and ``scenes``.

    Args:
        texts: Concept id -> ``(name, gloss)`` for every object and scene.
        objects: The common vocabulary.
        scenes: The scene concepts.
        scene_priors: Scene id -> :func:`scene_prior`.
        lineage: Concept id -> its ancestors and descendants among ``objects`` (never paired).
        kinship: ``(a, b)`` -> Wu-Palmer similarity of two objects in the taxonomy (0 when None).
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
    ) -> None:
        self.objects = list(objects)
        self.scenes = list(scenes)
        self.encoder_name = encoder_name if encoder is not None else "gloss-overlap"
        encode = encoder or lexical_encoder()
        every = list(dict.fromkeys([*self.objects, *self.scenes]))
        photo = encode([f"a photo of a {texts[c][0]}" for c in every])
        glossed = encode([f"{texts[c][0]}: {texts[c][1]}".rstrip(": ") for c in every])
        self._row = {c: i for i, c in enumerate(every)}
        self._photo = photo
        self._glossed = glossed
        self._obj = np.array([self._row[c] for c in self.objects], dtype=np.int64)
        self._scn = np.array([self._row[c] for c in self.scenes], dtype=np.int64)
        self._prior = np.array([scene_priors.get(s, 0.0) for s in self.scenes], dtype=np.float64)
        self._lineage = lineage
        self._kinship = kinship or (lambda a, b: 0.0)

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

    def scene_pairs(self, cid: str, k: int) -> list[Pair]:
        """The ``k`` best scenes for ``cid``, best first."""
        if cid not in self._row or not self.scenes or k <= 0:
            return []
        rel = self._related(cid, self._scn, photo=True)
        score = rel + SCENE_PRIOR_WEIGHT * self._prior
        picked = self._pick(cid, self._scn, self.scenes, score, k)
        return [
            Pair(cid, self.scenes[i], "scene", float(score[i]), float(rel[i]), float(self._prior[i]))
            for i in picked
        ]

    def object_pairs(self, cid: str, k: int) -> list[Pair]:
        """The ``k`` most related other common concepts for ``cid`` (not its own lineage), best first."""
        if cid not in self._row or k <= 0:
            return []
        rel = self._related(cid, self._obj, photo=False)
        banned = self._lineage.get(cid, set()) | {cid}
        score = np.where([o in banned for o in self.objects], -np.inf, rel)
        pool = np.lexsort((np.array(self.objects), -score))[: max(8 * k, 40)]
        for i in pool:  # only the candidates near the top pay for a taxonomy lookup
            score[i] -= KIND_PENALTY * self._kinship(cid, self.objects[i])
        keep = np.full(len(score), -np.inf)
        keep[pool] = score[pool]
        picked = [i for i in self._pick(cid, self._obj, self.objects, keep, k) if np.isfinite(keep[i])]
        return [Pair(cid, self.objects[i], "pair", float(keep[i]), float(rel[i]), 0.0) for i in picked]

    def evidence(self, pair: Pair) -> dict[str, Any]:
        """A pair's score and what it is made of, JSON-ready."""
        out: dict[str, Any] = {
            "score": round(pair.score, 4),
            "relatedness": round(pair.relatedness, 4),
            "encoder": self.encoder_name,
        }
        if pair.kind == "scene":
            out["scene_prior"] = round(pair.prior, 4)
        return out
