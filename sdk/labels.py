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
from bamboo.graph.taxonomy.hierarchy import Taxonomy
from bamboo.graph.taxonomy.related import related_sets

__all__ = ["LabelSpace", "LabelSystem", "OfflineLabels"]


@dataclass(frozen=True)
class LabelSpace:
    """A model's classes in index order: ``concepts[i]`` is class ``i``'s concept id (``None`` for a
    class index the dataset leaves unmapped)."""

    concepts: tuple[str | None, ...]
    name: str | None = None

    @classmethod
    def of(cls, concepts: Sequence[str | None], name: str | None = None) -> LabelSpace:
        """From concept ids in class order.

        Example:
            >>> LabelSpace.of(["wn:n02084071", None]).concepts
            ('wn:n02084071', None)
        """
        return cls(tuple(concepts), name)

    @classmethod
    def from_classes(cls, classes: Sequence[tuple[int, str]], name: str | None = None) -> LabelSpace:
        """From ``(class index, concept id)`` pairs (gaps become ``None``).

        Example:
            >>> len(LabelSpace.from_classes([(0, "wn:n02084071"), (2, "wn:n02121620")]))
            3
        """
        size = max((i for i, _ in classes), default=-1) + 1
        concepts: list[str | None] = [None] * size
        for i, c in classes:
            concepts[i] = c
        return cls(tuple(concepts), name)

    def __len__(self) -> int:
        return len(self.concepts)


class LabelSystem(Protocol):
    """What the SDK needs from the label system: the API client or an offline snapshot.

    :class:`OfflineLabels` and :class:`~bamboo.sdk.client.BambooClient` both implement it and give
    the same answers for the same taxonomy (``tests/test_label_system_protocol.py`` runs one suite
    over both). Errors are part of the contract: code written against the protocol catches
    :class:`~bamboo.errors.ConceptNotFound` and :class:`~bamboo.errors.DatasetNotFound`, never a
    transport-specific error, for an unknown id.
    """

    def ancestors(self, concept: str) -> list[str]:
        """Every ancestor of ``concept`` (the concept itself excluded), nearest first.

        Raises:
            ConceptNotFound: ``concept`` is not in the label system.
        """
        ...

    def label_space(self, dataset: str) -> LabelSpace:
        """A dataset's classes in index order, named after the dataset.

        Raises:
            DatasetNotFound: No dataset of that name.
        """
        ...

    def related(
        self, queries: Sequence[str], space: LabelSpace, *, levels: int | None = None
    ) -> dict[str, npt.NDArray[np.int64]]:
        """The classes of ``space`` related to each query concept (see :mod:`bamboo.graph.taxonomy.related`).

        Args:
            queries: Query concept ids; repeats are answered once. None at all answers ``{}``.
            space: The label space whose class indices are returned.
            levels: How many steps up from each query the related subtree starts; ``None`` (the
                default) uses :data:`~bamboo.graph.taxonomy.related.DEFAULT_RULE`.

        Returns:
            Per distinct query, the sorted (int64) class indices of ``space`` related to it.

        Raises:
            ConceptNotFound: A query is not in the label system; the whole call fails (callers
                that tolerate unknown queries ask again without it, as
                :class:`~bamboo.sdk.ood.ClassificationRectifier` does).
            DatasetNotFound: ``space`` is named for a dataset the label system does not hold
                (only an implementation that looks label spaces up by name raises this).
        """
        ...


class OfflineLabels:
    """A :class:`LabelSystem` over a loaded :class:`~bamboo.graph.taxonomy.hierarchy.Taxonomy` (no network).

    Args:
        taxonomy: The taxonomy and label spaces to answer from.
    """

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
        from bamboo.graph.taxonomy.invariants import GraphContents
        from bamboo.graph.taxonomy.snapshot import taxonomy_from_contents
        from bamboo.graph.taxonomy.wordnet import read_nouns

        nouns = read_nouns(wordnet)
        contents = GraphContents([{"id": c["id"], **c["props"]} for c in nouns.concepts], nouns.edges)
        return cls(taxonomy_from_contents(contents))

    def ancestors(self, concept: str) -> list[str]:
        """See :meth:`LabelSystem.ancestors`."""
        depths = self.taxonomy.ancestor_depths(concept)
        return [c for c, _ in sorted(depths.items(), key=lambda kv: (kv[1], kv[0])) if c != concept]

    def label_space(self, dataset: str) -> LabelSpace:
        """See :meth:`LabelSystem.label_space`."""
        try:
            return LabelSpace.from_classes(self.taxonomy.label_spaces[dataset], dataset)
        except KeyError:
            raise DatasetNotFound(dataset, known=self.taxonomy.label_spaces) from None

    def related(
        self, queries: Sequence[str], space: LabelSpace, *, levels: int | None = None
    ) -> dict[str, npt.NDArray[np.int64]]:
        """See :meth:`LabelSystem.related`."""
        distinct = list(dict.fromkeys(queries))
        if not distinct:
            return {}
        for q in distinct:
            if q not in self.taxonomy:
                raise ConceptNotFound(q)
        mapped = [i for i, c in enumerate(space.concepts) if c is not None and c in self.taxonomy]
        sets = related_sets(self.taxonomy, distinct, [space.concepts[i] or "" for i in mapped], levels=levels)
        index_of = np.asarray(mapped, dtype=np.int64)
        return {q: index_of[sets[i]] for i, q in enumerate(distinct)}
