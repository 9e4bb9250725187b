"""Attach a dataset's label set to the label system, best evidence first, and write it.

Mapping order for each class:

1. a WordNet id given by the dataset (``method="wnid"``, confidence 1.0);
2. a WordNet synset name given by the dataset, e.g. LVIS's ``dog.n.01`` (``"synset"``, 1.0);
3. an exact lemma match of the class name (``"lemma"``): 0.9 when the name has one noun sense;
   0.85 when it has several and exactly one lies under the dataset's domain (``"Abyssinian"`` in
   Oxford Pets is the cat, not the person); 0.8 when only the name's singular or joined form
   matches (Caltech-101's ``airplanes``, COCO's ``cell phone``). A single sense *outside* the
   dataset's domain is not taken; a qualifier (``Seal (Animal)``) keeps the senses under it;
4. otherwise, when the name has several senses, the sense the evidence favours (``"sense"``,
   :mod:`bamboo.graph.senses`): WordNet's sense order and tag counts, imageability (ImageNet-21K
   images, a physical lexicographer file), the dataset's other classes; a narrow margin is kept
   but flagged ``review = "check"`` on the class, with the alternatives.

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

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bamboo.graph.link.lexicon import Lexicon
from bamboo.graph.model import ENTITY_ID
from bamboo.graph.search import normalize
from bamboo.graph.senses import SenseChoice, SenseContext, choose_sense
from bamboo.graph.store import GraphStore
from bamboo.loaders.base import LabelSet, RawClass

__all__ = ["PENDING_ID", "ClassMapper", "DatasetReport", "MappedClass", "import_label_set"]

PENDING_ID = "bamboo:pending"
_QUALIFIED = re.compile(r"^(.*?)\s*\(([^()]+)\)\s*$")


@dataclass(frozen=True)
class MappedClass:
    index: int
    raw_name: str
    concept: str
    method: str
    confidence: float
    note: str = ""
    name: str = ""
    review: bool = False
    alternatives: tuple[str, ...] = ()
    suggested: str | None = None  # for a pending class: the concept its head noun names

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
        sense_index: Mapping[str, list[tuple[str, int]]] | None = None,
    ) -> None:
        concepts = list(concepts)
        self._sense_index = sense_index or {}
        self._ids = {c["id"] for c in concepts}
        self._by_synset = {c["synset"]: c["id"] for c in concepts if c.get("synset")}
        self._lexicon = Lexicon(concepts, edges)  # WordNet lemmas and IS_A, shared with the linkers
        self._imaged = frozenset(imaged)

    def concept_of_synset(self, synset: str) -> str | None:
        return self._by_synset.get(synset)

    def wu_palmer(self, a: str, b: str) -> float:
        """Wu-Palmer similarity of two WordNet concepts (0 when either is not one)."""
        if a not in self._lexicon.concepts or b not in self._lexicon.concepts:
            return 0.0
        return self._lexicon.wu_palmer(a, b)

    def ancestors(self, concept: str) -> frozenset[str]:
        """``concept`` and everything above it (needs the edges given to the constructor)."""
        return self._lexicon.ancestors(concept)

    def map_all(
        self, dataset: str, classes: Sequence[RawClass], domain: Sequence[str] = (), *, task: str = ""
    ) -> list[MappedClass]:
        """Map a dataset's classes; a name with several senses is settled by the evidence of the
        dataset's other classes (see :mod:`bamboo.graph.senses`), in two rounds: the second sees
        the first round's choices as neighbours. A detection dataset's classes are objects, which
        favours physical senses."""
        first = [self.map(dataset, raw, domain, choose=False) for raw in classes]
        ambiguous = [i for i, m in enumerate(first) if m.pending and m.note.startswith("ambiguous")]
        names = [raw.display_name.lower() for raw in classes]
        ordered = names != sorted(names)
        out = list(first)
        for _round in range(2):
            settled = [None if m.pending else m.concept for m in out]
            mix = SenseContext.lexname_mix(settled, self._lexicon)
            for i in ambiguous:
                context = SenseContext.of(
                    settled, i, self._lexicon, ordered=ordered, mix=mix, objects=task == "detection"
                )
                out[i] = self.map(dataset, classes[i], domain, context=context)
        settled = [None if m.pending else m.concept for m in out]
        mix = SenseContext.lexname_mix(settled, self._lexicon)
        for i, m in enumerate(out):
            if m.pending and m.note == "no WordNet lemma":
                context = SenseContext.of(
                    settled, i, self._lexicon, ordered=ordered, mix=mix, objects=task == "detection"
                )
                head = self.head_noun(classes[i].display_name, domain, context)
                if head:
                    out[i] = replace(m, suggested=head[0], note=f"no WordNet lemma; head noun {head[1]!r}")
        return out

    def head_noun(self, name: str, domain: Sequence[str], context: SenseContext) -> tuple[str, str] | None:
        """The concept the name's head noun means ("stop sign" -> a sign), chosen like any sense:
        the longest proper ending of the name that is a WordNet lemma."""
        words = normalize(_QUALIFIED.sub(r"\1", name)).replace("-", " ").split()
        for start in range(1, len(words)):
            head = " ".join(words[start:])
            found = self.lemma(head, domain, context=context)
            if isinstance(found, SenseChoice):
                return found.concept, head
            if not isinstance(found, str):
                return found[0], head
        return None

    def map(
        self,
        dataset: str,
        raw: RawClass,
        domain: Sequence[str] = (),
        *,
        context: SenseContext | None = None,
        choose: bool = True,
    ) -> MappedClass:
        """Map one class; ``domain`` holds concept ids every class of the dataset falls under.

        A name with several senses and no deciding rule is settled by :func:`choose_sense` with
        ``context`` (the dataset's other classes; none when mapping a class alone), or left
        pending with an ``ambiguous`` note when ``choose`` is false.
        """
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
        found = self.lemma(raw.display_name, domain, context=context if choose else None, choose=choose)
        if isinstance(found, str):
            return keep(found)
        if isinstance(found, SenseChoice):
            return MappedClass(
                raw.index,
                raw.raw_name,
                found.concept,
                "sense",
                found.confidence,
                found.evidence,
                review=found.review,
                alternatives=found.alternatives,
            )
        return MappedClass(raw.index, raw.raw_name, found[0], "lemma", found[1], found[2])

    def _candidates(self, name: str) -> tuple[list[str], float, str, str]:
        """Senses of ``name`` in WordNet order, the confidence of the match, a note, a qualifier."""
        qualifier = ""
        m = _QUALIFIED.match(name)
        if m:  # "Seal (Animal)", "Jaguar (Vehicle)"
            name, qualifier = m.group(1), normalize(m.group(2))
        key = normalize(name)
        variants = [(key, 0.9, "")]
        for suffix, replacement in (("ies", "y"), ("es", ""), ("s", "")):
            if key.endswith(suffix) and len(key) > len(suffix) + 2:
                variants.append((key[: -len(suffix)] + replacement, 0.8, "singular form"))
        if " " in key or "-" in key:
            variants.append((key.replace(" ", "").replace("-", ""), 0.8, "joined form"))
        for text, confidence, note in variants:
            indexed = self._sense_index.get(text)
            senses = [c for c, _ in indexed if c in self._ids] if indexed else self._lexicon.senses(text)
            if senses:
                return list(senses), confidence, note, qualifier
        return [], 0.0, "", qualifier

    def lemma(
        self,
        name: str,
        domain: Sequence[str] = (),
        *,
        context: SenseContext | None = None,
        choose: bool = True,
    ) -> tuple[str, float, str] | SenseChoice | str:
        """``(concept, confidence, note)`` for a lemma match settled by a rule, a
        :class:`SenseChoice` for one settled by evidence, or why there is none."""
        candidates, confidence, note, qualifier = self._candidates(name)
        if not candidates:
            return "no WordNet lemma"
        if qualifier:
            under = set(self._lexicon.senses(qualifier))
            kept = [c for c in candidates if self.ancestors(c) & under]
            if not kept:
                return f"no sense of {name!r} is a kind of {qualifier!r}"
            candidates, note = kept, f"qualified by {qualifier!r}"
        where = ""
        if domain:
            inside = [c for c in candidates if self.ancestors(c) & set(domain)]
            if not inside:
                return f"{len(candidates)} WordNet sense(s), none under {', '.join(domain)}"
            if len(inside) == 1 and len(candidates) > 1:
                confidence, note = min(confidence, 0.85), f"the one sense under {', '.join(domain)}"
            candidates, where = inside, f" under {', '.join(domain)}"
        if len(candidates) == 1:
            return candidates[0], confidence, note
        if not choose:
            return f"ambiguous: {len(candidates)} WordNet senses{where}"
        counts = self._tag_counts(name)
        return choose_sense(candidates, self._lexicon, self._imaged, context or SenseContext(), counts)

    def _tag_counts(self, name: str) -> dict[str, int]:
        key = normalize(_QUALIFIED.sub(r"\1", name))
        return {c: n for c, n in self._sense_index.get(key, [])}


def import_label_set(store: GraphStore, label_set: LabelSet, mapper: ClassMapper) -> DatasetReport:
    """Map every class and write the dataset in one transaction (re-running gives the same graph)."""
    domain = [c for c in (mapper.concept_of_synset(s) for s in label_set.domain) if c]
    mapped = mapper.map_all(label_set.name, label_set.classes, domain, task=label_set.task)
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
        if isinstance(found, str):
            return None
        return found.concept if isinstance(found, SenseChoice) else found[0]

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
            elif m.suggested:
                suggested[m.concept] = (m.suggested, "head noun")
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
            "note": m.note,
            "review": "check" if m.review else None,
            "alternatives": list(m.alternatives),
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
