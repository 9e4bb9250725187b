"""Attach a dataset's label set to the label system, best evidence first, and write it.

Mapping order for each class:

1. a WordNet id given by the dataset (``method="wnid"``, confidence 1.0);
2. a WordNet synset name given by the dataset, e.g. LVIS's ``dog.n.01`` (``"synset"``, 1.0);
3. an exact lemma match of the class name (``"lemma"``): 0.9 when the name has one noun sense;
   0.85 when it has several and exactly one lies under the dataset's domain (``"Abyssinian"`` in
   Oxford Pets is the cat, not the person); 0.8 when only the name's singular matches
   (Caltech-101's ``airplanes``); 0.75 when it has several and exactly one is an image class of a
   dataset that names its classes by WordNet id (COCO's ``person`` is the human, the one sense
   with ImageNet-21K images). A single sense *outside* the dataset's domain is not taken.

A class none of these settles is never dropped nor forced onto a guess: it becomes a new concept
``ds:<dataset>:<index>`` in review state (``review = "pending"``), placed under the
``bamboo:pending`` node so the graph stays rooted, until the linking strategies or a person place
it. It carries a ``suggested_parent``: its dataset parent when that maps (an Open Images
Subcategory parent, an iNaturalist genus), else the dataset's domain.

The dataset's own hierarchy is kept as evidence, not as taxonomy: ``EVIDENCE`` edges
``{dataset, kind}`` from a class's concept to its dataset parent (``subcategory``) or to the whole
it is a part of (``part``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bamboo.graph.link.lexicon import Lexicon
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

    @property
    def pending(self) -> bool:
        return self.method == "pending"


@dataclass(frozen=True)
class DatasetReport:
    """What an import did: ``classes == sum(by_method.values())`` (nothing is lost)."""

    dataset: str
    classes: int
    by_method: dict[str, int]
    pending: list[str] = field(default_factory=list)
    evidence: int = 0


class ClassMapper:
    """Maps raw classes to concept ids using the WordNet concepts (and IS_A edges) of the graph.

    ``imaged`` holds the concepts that datasets name by WordNet id (ImageNet's classes): when a
    name has several senses and exactly one of them is imaged, that sense is taken.
    """

    def __init__(
        self,
        concepts: Iterable[dict[str, Any]],
        edges: Iterable[dict[str, Any]] = (),
        imaged: Iterable[str] = (),
    ) -> None:
        concepts = list(concepts)
        self._ids = {c["id"] for c in concepts}
        self._by_synset = {c["synset"]: c["id"] for c in concepts if c.get("synset")}
        self._lexicon = Lexicon(concepts, edges)  # WordNet lemmas and IS_A, shared with the linkers
        self._imaged = frozenset(imaged)

    def concept_of_synset(self, synset: str) -> str | None:
        return self._by_synset.get(synset)

    def ancestors(self, concept: str) -> frozenset[str]:
        """``concept`` and everything above it (needs the edges given to the constructor)."""
        return self._lexicon.ancestors(concept)

    def map(self, dataset: str, raw: RawClass, domain: Sequence[str] = ()) -> MappedClass:
        """Map one class; ``domain`` holds concept ids every class of the dataset falls under."""
        pending = f"ds:{dataset}:{raw.index}"

        def keep(note: str) -> MappedClass:
            return MappedClass(raw.index, raw.raw_name, pending, "pending", 0.0, note, name=raw.display_name)

        if raw.wnid:
            cid = f"wn:{raw.wnid}"
            if cid in self._ids:
                return MappedClass(raw.index, raw.raw_name, cid, "wnid", 1.0)
            if len(raw.wnid) == 9:  # a real wnid that WordNet 3.0 lacks; otherwise a dataset's own id
                return keep(f"{raw.wnid} is not in WordNet 3.0")
        if raw.synset:
            by_name = self._by_synset.get(raw.synset)
            if by_name:
                return MappedClass(raw.index, raw.raw_name, by_name, "synset", 1.0)
        found = self.lemma(raw.display_name, domain)
        if isinstance(found, str):
            return keep(found)
        return MappedClass(raw.index, raw.raw_name, found[0], "lemma", found[1], found[2])

    def lemma(self, name: str, domain: Sequence[str] = ()) -> tuple[str, float, str] | str:
        """``(concept, confidence, note)`` for an exact lemma match, or why there is none."""
        key = normalize(name)
        candidates, confidence, note = set(self._lexicon.senses(key)), 0.9, ""
        if not candidates:
            for suffix, replacement in (("ies", "y"), ("es", ""), ("s", "")):
                singular = (
                    self._lexicon.senses(key[: -len(suffix)] + replacement) if key.endswith(suffix) else []
                )
                if singular:
                    candidates, confidence, note = set(singular), 0.8, "singular form"
                    break
        if not candidates:
            return "no WordNet lemma"
        where = ""
        if domain:
            inside = {c for c in candidates if self.ancestors(c) & set(domain)}
            if not inside:
                return f"{len(candidates)} WordNet sense(s), none under {', '.join(domain)}"
            if len(inside) == 1 and len(candidates) > 1:
                confidence, note = min(confidence, 0.85), f"the one sense under {', '.join(domain)}"
            candidates, where = inside, f" under {', '.join(domain)}"
        if len(candidates) == 1:
            return next(iter(candidates)), confidence, note
        imaged = candidates & self._imaged
        if len(imaged) == 1:
            return next(iter(imaged)), min(confidence, 0.75), "the one sense with ImageNet images"
        return f"{len(candidates)} WordNet senses{where}"


def import_label_set(store: GraphStore, label_set: LabelSet, mapper: ClassMapper) -> DatasetReport:
    """Map every class and write the dataset in one transaction (re-running gives the same graph)."""
    domain = [c for c in (mapper.concept_of_synset(s) for s in label_set.domain) if c]
    mapped = [mapper.map(label_set.name, raw, domain) for raw in label_set.classes]
    by_key: dict[str, MappedClass] = {}
    for raw, m in zip(label_set.classes, mapped, strict=True):
        by_key.setdefault(raw.raw_name, m)
        if raw.mid:
            by_key.setdefault(raw.mid, m)

    def resolve(key: str | None) -> str | None:
        """The concept a dataset parent (a class of the dataset, or a name) maps to."""
        if not key:
            return None
        if key in by_key:
            return by_key[key].concept
        found = mapper.lemma(key, domain)
        return None if isinstance(found, str) else found[0]

    evidence: list[dict[str, Any]] = []
    suggested: dict[str, tuple[str, str]] = {}
    for raw, m in zip(label_set.classes, mapped, strict=True):
        parent = resolve(raw.parent)
        targets = [(parent, "subcategory"), *((resolve(w), "part") for w in raw.part_of)]
        for target, kind in targets:
            if target and target != m.concept:
                evidence.append({"child": m.concept, "parent": target, "kind": kind})
        if m.pending:
            if parent and not parent.startswith("ds:"):
                suggested[m.concept] = (parent, "dataset hierarchy")
            elif domain:
                suggested[m.concept] = (domain[0], "dataset domain")
    evidence = list({(e["child"], e["parent"], e["kind"]): e for e in evidence}.values())

    # Classes the linkers placed earlier (``bamboo link datasets``) keep their placement.
    linked = store.linked_of(sorted({m.concept for m in mapped if m.pending}))
    mapped = [
        replace(m, method=linked[m.concept]["method"], confidence=linked[m.concept]["score"])
        if m.concept in linked
        else m
        for m in mapped
    ]
    pending = [m for m in mapped if m.pending]
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
            hint, why = suggested.get(m.concept, (None, None))
            concepts.append(
                {
                    "id": m.concept,
                    "props": {
                        "name": m.name or m.raw_name,
                        "lemmas": sorted({m.raw_name, m.name or m.raw_name}),
                        "source": label_set.name,
                        "review": "pending",
                        "review_note": m.note,
                        "suggested_parent": hint,
                        "suggested_by": why,
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
        {
            "task": label_set.task,
            "source": label_set.source,
            "num_classes": len(label_set.classes),
            "domain": [*label_set.domain],
        },
        concepts=concepts,
        edges=edges,
        classes=classes,
        evidence=evidence,
    )
    return DatasetReport(
        dataset=label_set.name,
        classes=len(mapped),
        by_method=dict(Counter(m.method for m in mapped)),
        pending=[m.concept for m in pending],
        evidence=len(evidence),
    )
