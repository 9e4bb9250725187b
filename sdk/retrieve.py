"""Concept retrieval with human verification, and time buckets (CLEAR's visio-linguistic curation).

For each concept a prompt ensemble (its name and synonyms in templates such as ``"a photo of a {}."``,
plus ``"name: gloss"``) is embedded by an image-text encoder (:mod:`bamboo.sdk.encoders`) and averaged;
pool images are ranked by cosine to it (faiss, exact) and the top ``k`` go to human verification,
either through the task store the web UI answers (:class:`~bamboo.sdk.tasks.TaskStore`) or as a
Label Studio task file (:mod:`bamboo.sdk.labelstudio`). The answers come back as a per-concept report:
precision of the retrieval, the depth down to which it stays at a target precision, and the verified
images. :func:`bucket_by_time` splits the pool into time buckets by a timestamp column, and
:func:`labelled_by_bucket` gives each bucket its verified labelled set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from bamboo.errors import ConfigurationError
from bamboo.sdk.encoders import ImageTextEncoder
from bamboo.sdk.labelstudio import Task, export_tasks, import_answers
from bamboo.sdk.tasks import TaskStore

__all__ = [
    "TEMPLATES",
    "Concept",
    "ConceptVerification",
    "Retrieval",
    "TimeBuckets",
    "answers_from_labelstudio",
    "answers_from_store",
    "bucket_by_time",
    "concept_vectors",
    "export_to_labelstudio",
    "labelled_by_bucket",
    "precision_at_k",
    "retrieve_for_concepts",
    "send_to_store",
    "verification_report",
]

Array = npt.NDArray[Any]

#: Prompt templates of the ensemble (a subset of CLIP's ImageNet prompts).
TEMPLATES = (
    "a photo of a {}.",
    "a blurry photo of a {}.",
    "a close-up photo of a {}.",
    "a photo of the small {}.",
    "a photo of the large {}.",
    "a low resolution photo of a {}.",
    "an image of a {}.",
)


@dataclass(frozen=True)
class Concept:
    """A concept to retrieve: an id, a display name, synonyms and a gloss."""

    id: str
    name: str
    synonyms: tuple[str, ...] = ()
    gloss: str = ""

    def prompts(self, templates: Sequence[str] = TEMPLATES) -> list[str]:
        """The ensemble's texts: every template over the name and each synonym, and ``name: gloss``."""
        words = [self.name, *self.synonyms]
        texts = [t.format(w) for w in words for t in templates]
        return texts + ([f"{self.name}: {self.gloss}"] if self.gloss else [])


def concept_vectors(
    encoder: ImageTextEncoder, concepts: Sequence[Concept], templates: Sequence[str] = TEMPLATES
) -> npt.NDArray[np.float32]:
    """One unit vector per concept: the normalised mean of its prompts' text embeddings."""
    prompts = [c.prompts(templates) for c in concepts]
    flat = encoder.encode_texts([p for ps in prompts for p in ps])
    out, at = [], 0
    for ps in prompts:
        out.append(flat[at : at + len(ps)].mean(axis=0))
        at += len(ps)
    v = np.asarray(out, dtype=np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


@dataclass
class Retrieval:
    """The top ``k`` pool images per concept.

    Attributes:
        concepts: The concepts, in query order.
        positions: (C x k) pool positions, best first (``-1`` past the pool's end).
        scores: (C x k) cosines.
        ids: The pool's image ids (paths or URLs), by position.
    """

    concepts: list[Concept]
    positions: Array
    scores: Array
    ids: Array

    def images(self, concept: int, top: int | None = None) -> list[str]:
        """The ids of a concept's retrieved images, best first."""
        pos = self.positions[concept][: top if top is not None else None]
        return [str(self.ids[p]) for p in pos if p >= 0]

    def assignment(self, top: int | None = None) -> dict[str, int]:
        """Image id -> the concept it is asked about: the one that scored it highest among those that
        retrieved it (the task store asks one question per image and round)."""
        best: dict[str, tuple[float, int]] = {}
        for c in range(len(self.concepts)):
            for p, s in zip(self.positions[c][:top], self.scores[c][:top], strict=True):
                if p < 0:
                    continue
                key = str(self.ids[p])
                if key not in best or s > best[key][0]:
                    best[key] = (float(s), c)
        return {k: c for k, (_, c) in best.items()}


def retrieve_for_concepts(
    pool: Array,
    concepts: Sequence[Concept],
    *,
    encoder: ImageTextEncoder | None = None,
    vectors: Array | None = None,
    k: int = 100,
    ids: Sequence[str] | Array | None = None,
    templates: Sequence[str] = TEMPLATES,
) -> Retrieval:
    """Rank pool images for each concept by cosine to its prompt-ensemble vector.

    Args:
        pool: (N x d) image embeddings in the encoder's space.
        concepts: The concepts.
        encoder: Embeds the prompts (needed unless ``vectors`` is given).
        vectors: (C x d) concept vectors computed before (:func:`concept_vectors`).
        k: Images per concept.
        ids: Image ids by pool position (positions as strings when ``None``).
        templates: Prompt templates.

    Returns:
        The top ``k`` per concept with scores.

    Raises:
        ConfigurationError: Neither an encoder nor vectors, or dimensions that differ.
    """
    if vectors is None:
        if encoder is None:
            raise ConfigurationError("retrieve_for_concepts needs an encoder or precomputed concept vectors")
        vectors = concept_vectors(encoder, concepts, templates)
    x = np.ascontiguousarray(pool, dtype=np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    q = np.ascontiguousarray(vectors, dtype=np.float32)
    if x.shape[1] != q.shape[1]:
        raise ConfigurationError(
            f"pool embeddings have {x.shape[1]} dimensions, the concept vectors {q.shape[1]}"
        )
    index: Any = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    scores, positions = index.search(q, min(k, len(x)) if len(x) else 1)
    pool_ids = np.asarray(ids) if ids is not None else np.arange(len(x)).astype(str)
    return Retrieval(list(concepts), positions.astype(np.int64), scores.astype(np.float32), pool_ids)


def precision_at_k(retrieval: Retrieval, truth: Array, ks: Sequence[int]) -> Array:
    """(C x len(ks)) share of each concept's top-k whose true concept index (``truth`` by pool
    position) is that concept; for measuring an encoder on labelled data."""
    out = np.zeros((len(retrieval.concepts), len(ks)))
    for c in range(len(retrieval.concepts)):
        pos = retrieval.positions[c]
        hit = (pos >= 0) & (np.asarray(truth)[np.maximum(pos, 0)] == c)
        for j, k in enumerate(ks):
            out[c, j] = hit[:k].mean() if k else np.nan
    return out


# --- verification ------------------------------------------------------------------------------


def send_to_store(retrieval: Retrieval, store: TaskStore, round_no: int, *, top: int | None = None) -> int:
    """Add the top images of every concept as "Is this a <concept>?" tasks of one round.

    Each image is asked once, about the concept that scored it highest (:meth:`Retrieval.assignment`).

    Returns:
        How many tasks were new.
    """
    assigned = retrieval.assignment(top)
    images = sorted(assigned)
    queries = [retrieval.concepts[assigned[i]].id for i in images]
    names = {c.id: c.name for c in retrieval.concepts}
    glosses = {c.id: c.gloss for c in retrieval.concepts}
    return store.add(round_no, images, queries, names=names, descriptions=glosses)


def answers_from_store(store: TaskStore, round_no: int) -> dict[tuple[str, str], bool | None]:
    """(image, concept id) -> the store's decision (``None`` while open)."""
    return {(t.image, t.query): t.decision for t in store.tasks(round_no)}


def export_to_labelstudio(retrieval: Retrieval, path: str | Path, *, top: int | None = None) -> Path:
    """Write the top images as a Label Studio task file (one task per image, its best concept)."""
    assigned = retrieval.assignment(top)
    tasks = [
        Task(i, retrieval.concepts[assigned[i]].name, retrieval.concepts[assigned[i]].gloss)
        for i in sorted(assigned)
    ]
    return export_tasks(path, tasks)


def answers_from_labelstudio(
    retrieval: Retrieval, export: str | Path, *, quorum: int = 3, top: int | None = None
) -> dict[tuple[str, str], bool | None]:
    """(image, concept id) -> Yes when at least ``quorum`` annotators said so, No when the answers
    cannot reach it any more (5 at most), ``None`` otherwise or when unanswered."""
    assigned = retrieval.assignment(top)
    got = import_answers(export)
    out: dict[tuple[str, str], bool | None] = {}
    for image, c in assigned.items():
        votes = got.get(image, [])
        yes, no = sum(votes), len(votes) - sum(votes)
        out[(image, retrieval.concepts[c].id)] = (
            True if yes >= quorum else (False if no > 5 - quorum else None)
        )
    return out


@dataclass
class ConceptVerification:
    """One concept's verified retrieval.

    Attributes:
        concept: The concept id.
        asked: Images sent for verification.
        decided: Of those, decided.
        valid: Decided Yes.
        precision: ``valid / decided`` (NaN before any decision).
        depth_at_target: The deepest rank r such that the decided images among the top r are at least
            ``target`` precise (0 when even the first is wrong).
        labelled: The verified image ids, best first.
    """

    concept: str
    asked: int
    decided: int
    valid: int
    precision: float
    depth_at_target: int
    labelled: list[str] = field(default_factory=list)


def verification_report(
    retrieval: Retrieval,
    answers: Mapping[tuple[str, str], bool | None],
    *,
    target: float = 0.99,
    top: int | None = None,
) -> list[ConceptVerification]:
    """Per concept: how many of its asked images are decided and valid, the precision, the depth at
    ``target`` precision and the verified images."""
    assigned = retrieval.assignment(top)
    report = []
    for c, concept in enumerate(retrieval.concepts):
        mine = [i for i in retrieval.images(c, top) if assigned.get(i) == c]
        decisions = [answers.get((i, concept.id)) for i in mine]
        decided = [d for d in decisions if d is not None]
        valid = sum(bool(d) for d in decided)
        depth, good, seen = 0, 0, 0
        for rank, d in enumerate(decisions, 1):
            if d is None:
                continue
            seen, good = seen + 1, good + bool(d)
            if good / seen >= target:
                depth = rank
        report.append(
            ConceptVerification(
                concept.id,
                len(mine),
                len(decided),
                valid,
                valid / len(decided) if decided else float("nan"),
                depth,
                [i for i, d in zip(mine, decisions, strict=True) if d],
            )
        )
    return report


# --- time buckets -------------------------------------------------------------------------------


@dataclass
class TimeBuckets:
    """A bucket per pool image by its timestamp.

    Attributes:
        edges: ``buckets + 1`` increasing bucket boundaries (the last one inclusive).
        bucket: The bucket of each image (``-1`` for a missing timestamp).
    """

    edges: Array
    bucket: Array

    def counts(self) -> list[int]:
        """Images per bucket."""
        return np.bincount(self.bucket[self.bucket >= 0], minlength=len(self.edges) - 1).tolist()


def bucket_by_time(
    timestamps: Array, *, buckets: int = 11, edges: Sequence[float] | None = None, equal: str = "width"
) -> TimeBuckets:
    """Split a pool into time buckets (CLEAR: 11 buckets of about a year, bucket 0 for unsupervised
    pre-training).

    Args:
        timestamps: One number per image (e.g. Unix seconds); NaN for missing.
        buckets: How many buckets when ``edges`` is not given.
        edges: Explicit increasing boundaries.
        equal: ``"width"`` (equal time spans) or ``"count"`` (equal numbers of images).

    Returns:
        The edges and each image's bucket.

    Raises:
        ConfigurationError: Bad edges, bucket count or mode.
    """
    t = np.asarray(timestamps, dtype=np.float64)
    ok = np.isfinite(t)
    if edges is not None:
        e = np.asarray(edges, dtype=np.float64)
        if len(e) < 2 or np.any(np.diff(e) <= 0):
            raise ConfigurationError("edges must be at least two increasing numbers")
    elif buckets < 1 or not ok.any():
        raise ConfigurationError("need at least one bucket and one timestamp")
    elif equal == "width":
        e = np.linspace(t[ok].min(), t[ok].max(), buckets + 1)
    elif equal == "count":
        e = np.quantile(t[ok], np.linspace(0, 1, buckets + 1))
    else:
        raise ConfigurationError("equal must be 'width' or 'count'")
    b = np.full(len(t), -1, np.int64)
    inside = ok & (t >= e[0]) & (t <= e[-1])
    b[inside] = np.clip(np.searchsorted(e, t[inside], side="right") - 1, 0, len(e) - 2)
    return TimeBuckets(e, b)


def labelled_by_bucket(
    report: Sequence[ConceptVerification], buckets: TimeBuckets, ids: Sequence[str] | Array
) -> dict[int, list[tuple[str, str]]]:
    """Each bucket's labelled set: ``(image id, concept id)`` of the verified images in it."""
    where = {str(i): int(b) for i, b in zip(ids, buckets.bucket, strict=True)}
    out: dict[int, list[tuple[str, str]]] = {b: [] for b in range(len(buckets.edges) - 1)}
    for r in report:
        for image in r.labelled:
            b = where.get(image, -1)
            if b >= 0:
                out[b].append((image, r.concept))
    return out
