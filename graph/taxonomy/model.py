"""The records the graph layer hands out: concepts, references to them, pages of them."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ENTITY_ID",
    "ClassMapping",
    "Concept",
    "ConceptRef",
    "Dataset",
    "DatasetClass",
    "Page",
    "ReviewClass",
    "ReviewItems",
    "ReviewPlacement",
    "Vote",
    "concept_id_for_offset",
    "keyset_page",
]

#: The root of the WordNet noun hierarchy; every concept must reach it.
ENTITY_ID = "wn:n00001740"


def concept_id_for_offset(offset: int) -> str:
    """The Bamboo id of the WordNet 3.0 noun synset at ``offset`` (the ImageNet wnid form).

    >>> concept_id_for_offset(2084071)
    'wn:n02084071'
    """
    return f"wn:n{offset:08d}"


@dataclass(frozen=True)
class Concept:
    """One concept of the label system, as stored on its ``:Concept`` node."""

    id: str
    name: str
    lemmas: tuple[str, ...] = ()
    gloss: str | None = None
    lexname: str | None = None
    synset: str | None = None
    source: str | None = None
    visual: bool | None = None
    common: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    _FIELDS = ("id", "name", "lemmas", "gloss", "lexname", "synset", "source", "visual", "common")

    @classmethod
    def from_properties(cls, props: dict[str, Any]) -> Concept:
        """The concept of a node's property map; properties without a field go to ``extra``."""
        extra = {k: v for k, v in props.items() if k not in cls._FIELDS}
        return cls(
            id=str(props["id"]),
            name=str(props.get("name") or props["id"]),
            lemmas=tuple(props.get("lemmas") or ()),
            gloss=props.get("gloss"),
            lexname=props.get("lexname"),
            synset=props.get("synset"),
            source=props.get("source"),
            visual=props.get("visual"),
            common=props.get("common"),
            extra=extra,
        )


@dataclass(frozen=True)
class ConceptRef:
    """A concept named in a relation: a parent, child, ancestor or descendant.

    ``depth`` is the number of IS_A edges on the shortest path from the asking concept (ancestors);
    ``kind`` is the edge kind (``hypernym`` or ``instance``) for direct parents and children.
    """

    id: str
    name: str
    depth: int | None = None
    kind: str | None = None


@dataclass(frozen=True)
class Page:
    """One page of a long listing; pass ``next_cursor`` back to get the next page (None: the end)."""

    items: list[ConceptRef]
    next_cursor: str | None


@dataclass(frozen=True)
class Dataset:
    """A dataset integrated into the label system.

    Attributes:
        name: The dataset's name, e.g. ``imagenet-1k``.
        classes: Number of its classes.
        props: Every property of its ``:Dataset`` node (``name``, ``task``, ``source`` ...).
    """

    name: str
    classes: int
    props: dict[str, Any] = field(default_factory=dict)

    @property
    def task(self) -> str | None:
        """The dataset's task (``classification``, ``detection`` ...), None when unknown."""
        task = self.props.get("task")
        return None if task is None else str(task)

    def to_dict(self) -> dict[str, Any]:
        """The node's properties plus ``classes``: the ``/datasets`` JSON."""
        return self.props | {"classes": self.classes}


@dataclass(frozen=True)
class DatasetClass:
    """One class of a dataset and the concept it maps to.

    Attributes:
        index: The class index in the dataset's label space.
        raw_name: The dataset's own name for the class.
        method: How it was mapped (``wnid``, ``synset``, ``lemma``, ``sense``, ``new``, ``person``).
        confidence: The mapping's score.
        concept: The concept's id.
        name: The concept's name.
        review: ``"check"`` when a person should look at the mapping or the concept's placement.
        parent: A new concept's parent (method ``new``).
        placed_by: The evidence that placed a new concept.
    """

    index: int
    raw_name: str | None
    method: str | None
    confidence: float | None
    concept: str
    name: str | None
    review: str | None = None
    parent: str | None = None
    placed_by: str | None = None


@dataclass(frozen=True)
class ClassMapping:
    """A dataset class as the concept side sees it (no placement details).

    Attributes:
        concept: The concept's id.
        dataset: The dataset's name.
        index: The class index.
        raw_name: The dataset's own name for the class.
        method: How it was mapped.
        confidence: The mapping's score.
    """

    concept: str
    dataset: str
    index: int
    raw_name: str | None
    method: str | None
    confidence: float | None

    def without_concept(self) -> dict[str, Any]:
        """The fields other than ``concept``: a concept page's ``datasets`` entry."""
        return {
            "dataset": self.dataset,
            "index": self.index,
            "raw_name": self.raw_name,
            "method": self.method,
            "confidence": self.confidence,
        }


@dataclass(frozen=True)
class ReviewPlacement:
    """A concept WordNet lacks, placed on weak evidence, for a person to accept or move.

    Attributes:
        id: The concept's id.
        name: The concept's name.
        parent: The parent it was placed under.
        parent_name: The parent's name.
        score: The placement's score.
        placed_by: The evidence that placed it.
        alternatives: Other parents considered.
        note: Why it is flagged.
        datasets: The datasets with a class for it.
    """

    id: str
    name: str | None
    parent: str
    parent_name: str | None
    score: float | None
    placed_by: str | None
    alternatives: list[str] | None
    note: str | None
    datasets: list[str]


@dataclass(frozen=True)
class ReviewClass:
    """A dataset class whose WordNet sense was chosen on a narrow margin.

    Attributes:
        dataset: The dataset's name.
        index: The class index.
        raw_name: The dataset's own name for the class.
        concept: The concept chosen.
        name: The concept's name.
        score: The mapping's score.
        note: Why it is flagged.
        alternatives: Other senses considered.
    """

    dataset: str
    index: int
    raw_name: str | None
    concept: str
    name: str | None
    score: float | None
    note: str | None
    alternatives: list[str] | None


@dataclass(frozen=True)
class ReviewItems:
    """What awaits a person, least sure first.

    Attributes:
        placements: New concepts placed on weak evidence.
        classes: Dataset classes mapped on a narrow margin.
    """

    placements: list[ReviewPlacement]
    classes: list[ReviewClass]


@dataclass(frozen=True)
class Vote:
    """One annotator's current vote on one tag of one concept.

    Attributes:
        concept: The concept's id.
        annotator: Who voted.
        tag: ``visual`` or ``common``.
        value: Yes (True) or no.
        at: When, as an ISO 8601 timestamp.
    """

    concept: str
    annotator: str
    tag: str
    value: bool
    at: str | None

    def without_concept(self) -> dict[str, Any]:
        """The fields other than ``concept``: a concept's ``tags`` JSON entry."""
        return {"annotator": self.annotator, "tag": self.tag, "value": self.value, "at": self.at}


def keyset_page(ids: Sequence[str], after: str | None, limit: int) -> tuple[list[str], str | None]:
    """One page of sorted ids after a cursor, and the cursor of the next page.

    Args:
        ids: Sorted ids.
        after: The previous page's cursor (exclusive); None for the first page.
        limit: Page size; 0 for everything after ``after`` in one page.

    Returns:
        The page and the next cursor (its last id), or None when nothing follows.

    >>> keyset_page(["a", "b", "c"], None, 2), keyset_page(["a", "b", "c"], "b", 2)
    ((['a', 'b'], 'b'), (['c'], None))
    """
    start = bisect.bisect_right(ids, after) if after else 0
    if limit == 0:
        return list(ids[start:]), None
    chunk = list(ids[start : start + limit])
    more = start + limit < len(ids)
    return chunk, (chunk[-1] if more and chunk else None)
