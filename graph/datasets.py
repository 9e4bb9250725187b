"""Attach a dataset's label set to the label system, best evidence first, and write it.

Mapping order for each class: a WordNet id given by the dataset (``method="wnid"``, confidence
1.0); a WordNet synset name given by the dataset, e.g. LVIS's ``dog.n.01`` (``"synset"``, 1.0); an
exact, unambiguous lemma match of the class name (``"lemma"``, 0.9). A class none of these settles
is never dropped nor forced onto a guess: it becomes a new concept ``ds:<dataset>:<index>`` in
review state (``review = "pending"``), placed under the ``bamboo:pending`` node so the graph stays
rooted, until the linking strategies (Wikidata issue) or a person place it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from bamboo.graph.model import ENTITY_ID
from bamboo.graph.search import normalize
from bamboo.graph.store import GraphStore
from bamboo.loaders.base import LabelSet, RawClass

__all__ = ["PENDING_ID", "ClassMapper", "DatasetReport", "MappedClass", "import_label_set"]

PENDING_ID = "bamboo:pending"


@dataclass(frozen=True)
class MappedClass:
    index: int
    raw_name: str
    concept: str
    method: str
    confidence: float
    note: str = ""
    name: str = ""


@dataclass(frozen=True)
class DatasetReport:
    """What an import did: ``classes == sum(by_method.values())`` (nothing is lost)."""

    dataset: str
    classes: int
    by_method: dict[str, int]
    pending: list[str] = field(default_factory=list)


class ClassMapper:
    """Maps raw classes to concept ids using the WordNet concepts of the graph."""

    def __init__(self, concepts: list[dict[str, Any]]) -> None:
        self._ids = {c["id"] for c in concepts}
        self._by_synset = {c["synset"]: c["id"] for c in concepts if c.get("synset")}
        by_lemma: dict[str, set[str]] = defaultdict(set)
        for c in concepts:
            if c.get("source") != "wordnet":
                continue
            for lemma in [c.get("name") or "", *(c.get("lemmas") or [])]:
                if lemma:
                    by_lemma[normalize(lemma)].add(c["id"])
        self._by_lemma = dict(by_lemma)

    def map(self, dataset: str, raw: RawClass) -> MappedClass:
        pending = f"ds:{dataset}:{raw.index}"
        if raw.wnid:
            cid = f"wn:{raw.wnid}"
            if cid in self._ids:
                return MappedClass(raw.index, raw.raw_name, cid, "wnid", 1.0)
            return MappedClass(
                raw.index,
                raw.raw_name,
                pending,
                "pending",
                0.0,
                f"{raw.wnid} is not in WordNet 3.0",
                name=raw.display_name,
            )
        if raw.synset:
            by_name = self._by_synset.get(raw.synset)
            if by_name:
                return MappedClass(raw.index, raw.raw_name, by_name, "synset", 1.0)
        candidates = self._by_lemma.get(normalize(raw.display_name), set())
        if len(candidates) == 1:
            return MappedClass(raw.index, raw.raw_name, next(iter(candidates)), "lemma", 0.9)
        note = f"{len(candidates)} WordNet senses" if candidates else "no WordNet lemma"
        return MappedClass(raw.index, raw.raw_name, pending, "pending", 0.0, note, name=raw.display_name)


def import_label_set(store: GraphStore, label_set: LabelSet, mapper: ClassMapper) -> DatasetReport:
    """Map every class and write the dataset in one transaction (re-running gives the same graph)."""
    mapped = [mapper.map(label_set.name, raw) for raw in label_set.classes]
    pending = [m for m in mapped if m.method == "pending"]
    concepts: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    if pending:
        concepts.append(
            {
                "id": PENDING_ID,
                "props": {
                    "name": "pending review",
                    "source": "bamboo",
                    "gloss": "dataset classes not yet placed in the hierarchy",
                },
            }
        )
        edges.append({"child": PENDING_ID, "parent": ENTITY_ID, "kind": "review", "source": "bamboo"})
        for m in pending:
            concepts.append(
                {
                    "id": m.concept,
                    "props": {
                        "name": m.raw_name,
                        "lemmas": [m.raw_name],
                        "source": label_set.name,
                        "review": "pending",
                        "review_note": m.note,
                    },
                }
            )
            edges.append(
                {"child": m.concept, "parent": PENDING_ID, "kind": "review", "source": label_set.name}
            )
    classes = [
        {
            "index": m.index,
            "raw_name": m.raw_name,
            "concept": m.concept,
            "method": m.method,
            "confidence": m.confidence,
        }
        for m in mapped
    ]
    store.import_dataset(
        label_set.name,
        {"task": label_set.task, "source": label_set.source, "num_classes": len(label_set.classes)},
        concepts=concepts,
        edges=edges,
        classes=classes,
    )
    return DatasetReport(
        dataset=label_set.name,
        classes=len(mapped),
        by_method=dict(Counter(m.method for m in mapped)),
        pending=[m.concept for m in pending],
    )
