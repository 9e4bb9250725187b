"""The label-system questions a training job asks, answered offline from a snapshot.

:class:`OfflineLabels` loads the file ``bamboo snapshot`` writes (taxonomy plus every dataset's
label space) and answers locally what :class:`~bamboo.sdk.client.BambooClient` asks the API:
ancestors, label spaces and related-category sets. Both implement :class:`LabelSystem`, so SDK
code takes either.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from bamboo.errors import ConceptNotFound, DatasetNotFound
from bamboo.graph.related import DEFAULT_LEVELS, related_sets
from bamboo.graph.taxonomy import Taxonomy

__all__ = ["LabelSpace", "LabelSystem", "OfflineLabels"]


@dataclass(frozen=True)
class LabelSpace:
    """A model's classes in index order: ``concepts[i]`` is class ``i``'s concept id (``None`` for a
    class index the dataset leaves unmapped)."""

    concepts: tuple[str | None, ...]
    name: str | None = None

    @classmethod
    def of(cls, concepts: Sequence[str | None], name: str | None = None) -> LabelSpace:
        return cls(tuple(concepts), name)

    @classmethod
    def from_classes(cls, classes: Sequence[tuple[int, str]], name: str | None = None) -> LabelSpace:
        """From ``(class index, concept id)`` pairs (gaps become ``None``)."""
        size = max((i for i, _ in classes), default=-1) + 1
        concepts: list[str | None] = [None] * size
        for i, c in classes:
            concepts[i] = c
        return cls(tuple(concepts), name)

    def __len__(self) -> int:
        return len(self.concepts)


class LabelSystem(Protocol):
    """What the SDK needs from the label system (the API client or an offline snapshot)."""

    def ancestors(self, concept: str) -> list[str]: ...

    def label_space(self, dataset: str) -> LabelSpace: ...

    def related(
        self, queries: Sequence[str], space: LabelSpace, *, levels: int = DEFAULT_LEVELS
    ) -> dict[str, npt.NDArray[np.int64]]:
        """Per distinct query concept, the sorted class indices of ``space`` related to it."""
        ...


class OfflineLabels:
    """A :class:`LabelSystem` over a loaded :class:`~bamboo.graph.taxonomy.Taxonomy` (no network)."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> OfflineLabels:
        """Load a snapshot written by ``bamboo snapshot`` (raises ``SnapshotError`` when unreadable)."""
        return cls(Taxonomy.load(path))

    @classmethod
    def from_wordnet(cls, wordnet: str | os.PathLike[str] | None = None) -> OfflineLabels:
        """WordNet 3.0 nouns read directly (no database, no snapshot): for jobs that only need the
        backbone. ``wordnet`` as for ``bamboo build`` (default: found as the build finds it)."""
        from bamboo.graph.invariants import GraphContents
        from bamboo.graph.snapshot import taxonomy_from_contents
        from bamboo.graph.wordnet import read_nouns

        nouns = read_nouns(wordnet)
        contents = GraphContents([{"id": c["id"], **c["props"]} for c in nouns.concepts], nouns.edges)
        return cls(taxonomy_from_contents(contents))

    def ancestors(self, concept: str) -> list[str]:
        """Every ancestor, nearest first (raises ``ConceptNotFound``)."""
        depths = self.taxonomy.ancestor_depths(concept)
        return [c for c, _ in sorted(depths.items(), key=lambda kv: (kv[1], kv[0])) if c != concept]

    def label_space(self, dataset: str) -> LabelSpace:
        try:
            return LabelSpace.from_classes(self.taxonomy.label_spaces[dataset], dataset)
        except KeyError:
            raise DatasetNotFound(dataset) from None

    def related(
        self, queries: Sequence[str], space: LabelSpace, *, levels: int = DEFAULT_LEVELS
    ) -> dict[str, npt.NDArray[np.int64]]:
        distinct = list(dict.fromkeys(queries))
        for q in distinct:
            if q not in self.taxonomy:
                raise ConceptNotFound(q)
        mapped = [i for i, c in enumerate(space.concepts) if c is not None and c in self.taxonomy]
        sets = related_sets(self.taxonomy, distinct, [space.concepts[i] or "" for i in mapped], levels=levels)
        index_of = np.asarray(mapped, dtype=np.int64)
        return {q: index_of[sets[i]] for i, q in enumerate(distinct)}
