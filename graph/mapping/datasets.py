"""Attach a dataset's label set to the label system, best evidence first, and write it.

Mapping order for each class:

1. a WordNet id given by the dataset (``method="wnid"``, confidence 1.0);
2. a WordNet synset name given by the dataset, e.g. LVIS's ``dog.n.01`` (``"synset"``, 1.0);
3. an exact lemma match of the class name (``"lemma"``): 0.9 when the name has one noun sense;
   0.85 when it has several and exactly one lies under the dataset's domain (``"Abyssinian"`` in
   Oxford Pets is the cat, not the person); 0.8 when only the name's singular or joined form
   matches (Caltech-101's ``airplanes``, COCO's ``cell phone``). A single sense *outside* the
   dataset's domain is not taken; a qualifier (``Seal (Animal)``, LVIS's ``bus_(vehicle)``) keeps
   the senses close to it (Wu-Palmer at least :data:`QUALIFIER_CLOSE`) and counts as evidence;
4. otherwise, when the name has several senses, the sense the evidence favours (``"sense"``,
   :mod:`bamboo.graph.mapping.senses`): WordNet's sense order and tag counts, imageability (ImageNet-21K
   images, a physical lexicographer file), the dataset's other classes; a narrow margin is kept
   but flagged ``review = "check"`` on the class, with the alternatives.

A class none of these settles is a **new concept**, never dropped nor left floating. Its id is
``bamboo:<key>`` with ``key`` the normalised name (lower case, ``_`` and punctuation to ``-``, the
last word singular: ``Stop_Sign``, ``stop signs`` -> ``bamboo:stop-sign``), so the same unseen
class in several datasets is one concept with several ``HAS_CLASS`` edges whatever the import
order. It is placed at once, under the first parent the evidence gives:

1. the dataset's taxonomy (iNaturalist's genus ... kingdom, :mod:`bamboo.graph.mapping.taxa`);
2. the dataset's own parent class when that maps (an Open Images Subcategory parent);
3. the kind its qualifier names (``Avena (Drink)`` -> a drink), chosen like any sense;
4. its head noun (``stop sign`` -> a sign), chosen like any sense;
5. the dataset's domain;
6. the root (*physical object* for a detection dataset, *entity* otherwise).

The decision is an ``IS_A {kind: "placement", method, score, evidence}`` edge; the others are kept
as ``alternatives`` and a decision scored under :data:`REVIEW_BELOW` (or resting on a sense choice
that was itself close) is flagged ``review = "check"``. When several datasets place the same new
concept, the best-scored placement wins (ties by parent id), so rebuilds give the same graph; a
person's decision (``bamboo review``) beats them all.

The dataset's own hierarchy is kept as evidence, not as taxonomy: ``EVIDENCE`` edges
``{dataset, kind}`` from a class's concept to its dataset parent (``subcategory``) or to the whole
it is a part of (``part``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bamboo.errors import InvariantViolation, printable
from bamboo.graph.link.external import PlaceNames
from bamboo.graph.link.lexicon import Lexicon
from bamboo.graph.mapping.families import (
    KNOWN_FAMILY_MIN,
    LIST_KIND_MIN_NAMES,
    KnownFamily,
    ModelFamily,
    known_families,
    model_families,
)
from bamboo.graph.mapping.repeats import separate_repeats
from bamboo.graph.mapping.senses import (
    PHYSICAL_LEXNAMES,
    PHYSICAL_OBJECT,
    SenseChoice,
    SenseContext,
    choose_sense,
)
from bamboo.graph.mapping.taxa import TaxonIndex
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.invariants import InvariantReport, check_placements
from bamboo.graph.taxonomy.model import ENTITY_ID
from bamboo.graph.taxonomy.search import normalize, split_qualifier
from bamboo.graph.taxonomy.wordnet import read_member_meronyms, read_modifiers, read_sense_index
from bamboo.loaders.base import TAXON_RANKS, LabelSet, RawClass

__all__ = [
    "PROGRESS_EVERY",
    "REVIEW_BELOW",
    "ClassMapper",
    "DatasetReport",
    "dataset_mapper",
    "ImportProgress",
    "MappedClass",
    "import_label_set",
    "joined_key",
    "new_concept_id",
    "place_by_outside",
]

#: Senses of the word before a head noun that count as its neighbours. Off (0): two senses help on
#: WordNet's compounds (0.513 -> 0.535, ``benchmarks/head_noun.py``) but put fewer Stanford Cars names
#: under *car* (0.893 -> 0.827, ``benchmarks/domains.py``), so the evidence is mixed.
MODIFIER_SENSES = 0
#: Placements scored below this are flagged for review.
REVIEW_BELOW = 0.5
#: ``progress(stage, done, total)`` of an import (see :func:`import_label_set`).
ImportProgress = Callable[[str, int, int], None]
#: Classes mapped between two progress reports.
PROGRESS_EVERY = 5000
#: Classes a cycle's message names before ``...``.
_SHOWN = 8
_NOT_WORD = re.compile(r"[\W_]+")
_KEEP_S = ("ss", "us", "is", "os", "as", "ys")
_BINOMIAL = re.compile(r"^([A-Z][a-z]{2,})\s+(?:[a-z]{3,}|x)(?:\s+[a-z]{3,})?$")  # "Ursus arctos"
_ORGANISM = "wn:n00004475"
_ORGANISM_LEXNAMES = frozenset({"noun.plant", "noun.animal"})
#: A sense this close (Wu-Palmer) to its qualifier's is one the qualifier allows.
QUALIFIER_CLOSE = 0.7
_QUALIFIER_STOP = frozenset("a an the of for on at in to with from by part non used".split())
#: A qualifier in these files names a field, place or time, not the kind a new concept is.
_FIELD_LEXNAMES = frozenset({"noun.cognition", "noun.location", "noun.time"})
#: A dataset domain at least this deep (car, dog, aircraft; not organism or food) is a confident
#: parent for a class that names nothing WordNet has.
NARROW_DOMAIN_DEPTH = 8

NOTHING_CLOSER = "nothing closer known"
DATASET_DOMAIN = "dataset domain"
INFERRED_DOMAIN = "list domain (inferred)"
_NOT_EVIDENCE = (NOTHING_CLOSER, DATASET_DOMAIN, INFERRED_DOMAIN)  # placements that say nothing of a class

#: A list's domain is inferred (when none is declared) as the deepest concept that covers at least
#: this share of the classes the list already places (known concepts and head-noun placements) ...
DOMAIN_SUPPORT = 0.75
#: ... and at least this many of them; never shallower than this depth (entity, object, whole).
DOMAIN_MIN_CLASSES = 5
DOMAIN_MIN_DEPTH = 4


def _same_taxon(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    """Two lineages of one name agree on every rank both give (case aside)."""
    return all(a[r].lower() == b[r].lower() for r in a.keys() & b.keys())


def _singular(word: str) -> str:
    """English plural to singular by rule, for ids only (names are kept as written)."""
    if len(word) <= 3 or word.endswith(_KEEP_S) or not word.endswith("s"):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    return word[:-1]


def _qualifier_words(qualifier: str) -> tuple[list[str], bool]:
    """A normalised qualifier's words without a leading "type of" / "kind of" / "sort of", and whether
    it names a kind (``animal``, ``type of shoe``) rather than a purpose or place (``for cooking``).

    >>> _qualifier_words("type of shoe"), _qualifier_words("for cooking")
    ((['shoe'], True), (['for', 'cooking'], False))
    """
    words = qualifier.split()
    if words[:2] in (["type", "of"], ["kind", "of"], ["sort", "of"]):
        words = words[2:]
    return words, bool(words) and words[0] not in _QUALIFIER_STOP


def joined_key(name: str) -> str:
    """A name with case, spaces, punctuation and a plural last letter gone: the spellings of one
    class name that :func:`new_concept_id` keeps apart (``potted plant``, VOC's ``pottedplant``).

    >>> joined_key("Potted Plant"), joined_key("pottedplant"), joined_key("potted-plants")
    ('pottedplant', 'pottedplant', 'pottedplant')
    """
    return _singular(_NOT_WORD.sub("", normalize(name)))


def new_concept_id(name: str, *, latin: bool = False) -> str:
    """The id of the new concept a class name stands for: the same for every spelling datasets
    use (case, ``_``, punctuation, a plural last word), so one meaning is one concept. A
    ``latin`` name (a species) keeps its last word (``Aeshna canadensis``).

    >>> new_concept_id("Stop_Sign"), new_concept_id("stop signs"), new_concept_id("Seal (Animal)")
    ('bamboo:stop-sign', 'bamboo:stop-sign', 'bamboo:seal-animal')
    """
    words = _NOT_WORD.sub(" ", normalize(name).replace("_", " ")).split()
    if words and not latin and "(" not in name:
        words[-1] = _singular(words[-1])
    return "bamboo:" + ("-".join(words) or "unnamed")


@dataclass(frozen=True)
class MappedClass:
    """A dataset class mapped to a concept: how, how surely, and whether a person should review it."""

    index: int
    raw_name: str
    concept: str
    method: str
    confidence: float
    note: str = ""
    name: str = ""
    review: bool = False
    alternatives: tuple[str, ...] = ()
    # A new concept's placement: its parent, the evidence that chose it, and the score.
    parent: str | None = None
    placed_by: str = ""
    placement_score: float = 0.0

    @property
    def new(self) -> bool:
        """The class is a concept WordNet lacks (see the module docstring)."""
        return self.method == "new"


@dataclass(frozen=True)
class DatasetReport:
    """What an import did: ``classes == sum(by_method.values())`` (nothing is lost)."""

    dataset: str
    classes: int
    by_method: dict[str, int]
    new: list[str] = field(default_factory=list)
    review: int = 0
    evidence: int = 0
    domain: InferredDomain | None = None


@dataclass(frozen=True)
class InferredDomain:
    """The domain a list was found to have: ``support`` of the ``placed`` classes it covers."""

    concept: str
    support: float
    placed: int


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
        members: Mapping[str, Sequence[str]] | None = None,
        modifiers: Iterable[str] = (),
    ) -> None:
        concepts, edges = list(concepts), list(edges)
        self._modifiers = frozenset(modifiers)  # adjectives and adverbs (make/model families' first words)
        self._sense_index = sense_index or {}
        self._ids = {c["id"] for c in concepts}
        self._by_synset = {c["synset"]: c["id"] for c in concepts if c.get("synset")}
        self._lexicon = Lexicon(concepts, edges)  # WordNet lemmas and IS_A, shared with the linkers
        self._imaged = frozenset(imaged)
        self._instances = frozenset(str(e["child"]) for e in edges if e.get("kind") == "instance")
        self._taxa = TaxonIndex(self._lexicon, members) if members else None
        # A text longer than every lemma matches none: bounds the work a long name costs.
        self._longest = max(self._lexicon.longest_lemma, max(map(len, self._sense_index), default=0))
        # WordNet lemmas by their joined key: CUB's "Black billed Cuckoo" is the "black-billed cuckoo"
        self._lemma_forms: dict[str, list[str]] = {}
        for lemma in sorted(self._sense_index or self._lexicon.lemma_keys()):
            self._lemma_forms.setdefault(joined_key(lemma), []).append(lemma)
        # New concepts by their joined key (``potted plant``, ``pottedplant``): one meaning, one concept.
        self._joined: dict[str, str] = {}
        self._exact: dict[str, str] = {}  # the same without the plural rule: Latin names are spelled exactly
        for c in concepts:
            if str(c["id"]).startswith("bamboo:"):
                self._remember(str(c.get("name") or c["id"][7:]), str(c["id"]), latin=False)
        self._known: dict[str, KnownFamily] = {}
        self._learned_taxa: dict[str, dict[str, str]] = {}
        self._uses: dict[str, str] = {}
        self._candidate_cache: dict[str, tuple[list[str], float, str, str]] = {}
        self._top_kinds: dict[str, str | None] = {}

    def learn_families(self, lists: Iterable[tuple[str, Sequence[str], Sequence[str]]]) -> None:
        """Learn the known make / model families (:func:`~bamboo.graph.mapping.families.known_families`)
        of ``(dataset, declared domain synsets or ids, class names)`` lists; lists declaring no domain
        WordNet has are skipped."""
        declared = []
        for dataset, domain, names in lists:
            concepts = [c for c in (self.domain_concept(d) for d in domain) if c]
            if concepts:
                declared.append((dataset, concepts[0], names))
        # every first word a declared list uses, however few its names (a maker's other uses); the
        # known families are those of them with KNOWN_FAMILY_MIN names or more
        every = known_families(declared, self._lexicon, minimum=1)
        self._uses = {w: f.kind for w, f in every.items()}
        self._known = {w: f for w, f in every.items() if f.names >= KNOWN_FAMILY_MIN}

    def _known_family(self, raw: RawClass) -> KnownFamily | None:
        """The known family a name belongs to: its first word's, unless that word is an adjective
        (*Northern Cloudywing*), or a common noun and so is another of its words (*Eagle owl* is no
        Eagle). A name that merely looks Latin (*Toyota celica*) may belong to one; a taxonomy that
        places it comes first anyway."""
        words = normalize(split_qualifier(raw.display_name)[0]).split()
        family = self._known.get(words[0]) if len(words) > 1 else None
        if family is None or words[0] in self._modifiers:
            return None
        if self._common_word(words[0]) and any(self._common_word(w) for w in words[1:]):
            return None
        return family

    @property
    def lexicon(self) -> Lexicon:
        """The WordNet concepts (with their properties) and IS_A edges the mapper works on."""
        return self._lexicon

    def learn_taxa(self, lists: Iterable[Sequence[RawClass]]) -> None:
        """Learn the taxa that lists with a taxonomy name (iNaturalist: a species' genus, family, order
        ... with the ranks above each): another list's class named exactly as one of them (Open Images'
        *Hericium*, *Zingiberales*, or a species' full Latin name) takes that lineage (:meth:`lineage`).
        A name the lists give two different lineages (a genus of a plant and of an animal) is left out."""
        learned: dict[str, dict[str, str] | None] = {}
        for classes in lists:
            for raw in classes:
                if not raw.lineage:
                    continue
                lineage = {rank: taxon for rank, taxon in raw.lineage if taxon}
                named = [(raw.display_name.strip(), lineage)]
                named += [
                    (lineage[rank], {r: lineage[r] for r in TAXON_RANKS[i:] if r in lineage})
                    for i, rank in enumerate(TAXON_RANKS)
                    if rank in lineage
                ]
                for name, above in named:
                    key, seen = name.lower(), learned.get(name.lower())
                    if key not in learned:
                        learned[key] = above
                    elif seen is not None and not _same_taxon(seen, above):
                        learned[key] = None  # two lineages: a homonym, decided by neither
        self._learned_taxa = {k: v for k, v in learned.items() if v}

    def lineage(self, raw: RawClass) -> dict[str, str]:
        """The class's taxonomy: its own; for a Latin binomial (``Ursus arctos``) its genus when
        WordNet knows that genus as an organism; or, for a name that another list's taxonomy names
        exactly (:meth:`learn_taxa`: a one-word taxon, a species' full name) and WordNet has no noun for,
        that lineage."""
        if raw.lineage:
            return dict(raw.lineage)
        name = raw.display_name.strip()
        m = _BINOMIAL.match(name)
        if m and self._taxa and self._taxa.organism(m.group(1), "genus"):
            return {"genus": m.group(1)}
        learned = self._learned_taxa.get(name.lower())
        if learned and (" " not in name or m) and not self._senses(normalize(name)):
            return dict(learned)  # a Latin name WordNet lacks (not "Circus", "Marina": words it has)
        return {}

    def domain_concept(self, domain: str) -> str | None:
        """The concept a declared domain names: a concept id (``wn:n02958343``) or a WordNet synset
        name (``car.n.01``); ``None`` when it names neither."""
        return domain if domain in self._lexicon.concepts else self.concept_of_synset(domain)

    def concept_of_synset(self, synset: str) -> str | None:
        """The concept for a WordNet synset name, or ``None`` when it has none."""
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
        self,
        dataset: str,
        classes: Sequence[RawClass],
        domain: Sequence[str] = (),
        *,
        task: str = "",
        progress: ImportProgress | None = None,
        infer: bool = True,
    ) -> list[MappedClass]:
        """Map a dataset's classes, then place the new ones (see the module docstring). Without a
        ``domain``, one is inferred (:meth:`infer_domain`; ``infer=False`` turns that off).

        A name with several senses is settled by the evidence of the dataset's other classes (see
        :mod:`bamboo.graph.mapping.senses`), in two rounds: the second sees the first round's choices as
        neighbours. A detection dataset's classes are objects, which favours physical senses.
        ``progress`` hears ``("map", classes done, classes)`` every :data:`PROGRESS_EVERY` classes."""
        objects = task == "detection"
        first = []
        for raw in classes:
            first.append(self.map(dataset, raw, domain, choose=False))
            if progress is not None and len(first) % PROGRESS_EVERY == 0:
                progress("map", len(first), len(classes))
        ambiguous = [i for i, m in enumerate(first) if m.new and m.note.startswith("ambiguous")]
        names = [raw.display_name.lower() for raw in classes]
        ordered = names != sorted(names)
        out = list(first)
        for _round in range(2 if ambiguous else 0):
            settled = [None if m.new else m.concept for m in out]
            mix = SenseContext.lexname_mix(settled, self._lexicon)
            for i in ambiguous:
                context = SenseContext.of(
                    settled, i, self._lexicon, ordered=ordered, mix=mix, objects=objects
                )
                out[i] = self.map(dataset, classes[i], domain, context=context)
        out = separate_repeats(classes, out, self._senses, self._lexicon, ordered=ordered, objects=objects)
        out = self._join_forms(classes, out)
        if not any(m.new for m in out):
            return out
        by_key: dict[str, MappedClass] = {}
        for raw, m in zip(classes, out, strict=True):
            by_key.setdefault(raw.raw_name, m)
            if raw.mid:
                by_key.setdefault(raw.mid, m)
        settled = [None if m.new else m.concept for m in out]
        mix = SenseContext.lexname_mix(settled, self._lexicon)
        contexts = {
            i: SenseContext.of(settled, i, self._lexicon, ordered=ordered, mix=mix, objects=objects)
            for i, m in enumerate(out)
            if m.new
        }
        for i, context in contexts.items():
            out[i] = self._place(out[i], classes[i], domain, context, by_key, objects)
        placed: Counter[tuple[str, str]] = Counter()  # names the known families placed in this list
        for raw, m in zip(classes, out, strict=True):
            known = self._known_family(raw) if m.new else None
            if known and m.parent == known.kind and m.placed_by.startswith("make/model family"):
                placed[known.word, known.kind] += 1
        brands = {word: kind for (word, kind), n in placed.items() if n >= LIST_KIND_MIN_NAMES}
        families = model_families(
            classes,
            out,
            self._lexicon,
            self._common_word,
            NOTHING_CLOSER,
            brands=brands,
            other_uses=self._uses,
            companies=[c for c in map(self.concept_of_synset, ("company.n.01", "business.n.01")) if c],
        )
        for i, family in families.items():
            out[i] = self._place(out[i], classes[i], domain, contexts[i], by_key, objects, family=family)
        found = None if domain or not infer else self.infer_domain(out)
        if found is not None:  # the list's domain is a prior for what nothing else placed
            inferred = [found.concept]
            for i, context in contexts.items():
                if out[i].placed_by == NOTHING_CLOSER:
                    out[i] = self._place(out[i], classes[i], inferred, context, by_key, objects, found)
        return out

    def _common_word(self, word: str) -> bool:
        """WordNet has ``word`` as a modifier or a common noun (a sense that is not a named person,
        place or thing)."""
        if word in self._modifiers:
            return True
        return any(c not in self._instances for c in self._senses(word) or self._senses(_singular(word)))

    def _latin(self, raw: RawClass) -> bool:
        return bool(self.lineage(raw)) or bool(_BINOMIAL.match(raw.display_name.strip()))

    def _join_forms(self, classes: Sequence[RawClass], mapped: list[MappedClass]) -> list[MappedClass]:
        """New classes whose joined key (:func:`joined_key`) names a new concept already known (in
        the graph, an earlier list of this mapper, or earlier in this list) are that concept, flagged;
        the rest are remembered. A Latin name (its id keeps its last word) matches only a name spelled
        exactly so: *Achalarus lyciades* from a list without a taxonomy is the same species."""
        out = list(mapped)
        for i, (raw, m) in enumerate(zip(classes, mapped, strict=True)):
            if not m.new:
                continue
            latin = self._latin(raw)
            exact = _NOT_WORD.sub("", normalize(raw.display_name))
            known = self._exact.get(exact) if latin else self._joined.get(joined_key(raw.display_name))
            known = known or self._exact.get(exact) or m.concept
            if known != m.concept:
                note = f"another spelling of {known}"
                out[i] = replace(m, concept=known, review=True, note=f"{m.note}; {note}" if m.note else note)
            self._remember(raw.display_name, known, latin=latin)
        return out

    def _remember(self, name: str, concept: str, *, latin: bool) -> None:
        self._exact.setdefault(_NOT_WORD.sub("", normalize(name)), concept)
        if not latin:  # a Latin name is not singular-folded: "Xus abcs" and "Xus abc" are two species
            self._joined.setdefault(joined_key(name), concept)

    def infer_domain(self, mapped: Sequence[MappedClass]) -> InferredDomain | None:
        """The deepest concept covering at least :data:`DOMAIN_SUPPORT` of the classes the list
        places by evidence (known concepts, and new ones placed by taxonomy, dataset parent or head
        noun), if :data:`DOMAIN_MIN_CLASSES` of them and no shallower than :data:`DOMAIN_MIN_DEPTH`."""
        placed = [
            m.concept if not m.new else m.parent or ""
            for m in mapped
            if not m.new or (m.parent and m.placed_by not in _NOT_EVIDENCE)
        ]
        if len(placed) < DOMAIN_MIN_CLASSES:
            return None
        counts: Counter[str] = Counter(a for c in placed for a in self.ancestors(c))
        need = max(DOMAIN_MIN_CLASSES, DOMAIN_SUPPORT * len(placed))
        best = [
            (self._lexicon.depth(a), n, a)
            for a, n in counts.items()
            if n >= need and a in self._lexicon.concepts and self._lexicon.depth(a) >= DOMAIN_MIN_DEPTH
        ]
        if not best:
            return None
        depth, n, concept = max(best, key=lambda t: (t[0], t[1], t[2]))
        return InferredDomain(concept, round(n / len(placed), 3), len(placed))

    def _place(
        self,
        m: MappedClass,
        raw: RawClass,
        domain: Sequence[str],
        context: SenseContext,
        by_key: Mapping[str, MappedClass],
        objects: bool,
        inferred: InferredDomain | None = None,
        family: ModelFamily | None = None,
    ) -> MappedClass:
        """A new concept's parent: the first of taxonomy, dataset parent, the kind its qualifier
        names, head noun, domain, root.
        An ``inferred`` domain (not declared) places below :data:`REVIEW_BELOW`: flagged for review."""
        options: list[tuple[str, str, float, bool]] = []  # (parent, placed by, score, flagged)
        lineage = self.lineage(raw)
        if lineage and self._taxa:
            found = self._taxa.place(lineage, within=domain[0] if domain else None)
            if found:
                options.append(
                    (found.concept, f"taxonomy: {found.rank} {found.taxon}", found.confidence, False)
                )
        if raw.parent and not lineage:
            up = by_key.get(raw.parent)
            if up is not None and up.concept != m.concept and up.index != m.index:
                options.append((up.concept, f"dataset parent {up.raw_name!r}", 0.8, up.review))
            elif up is None:  # a parent the list names but does not list (a scene path's place)
                named = self.lemma(raw.parent, domain, context=context)
                if not isinstance(named, str):
                    concept, choice = (
                        (named.concept, named) if isinstance(named, SenseChoice) else (named[0], None)
                    )
                    score = 0.75 if choice is None else round(0.75 * choice.confidence / 0.85, 3)
                    flagged = (choice is not None and choice.review) or score < REVIEW_BELOW
                    options.append((concept, f"dataset parent {raw.parent!r}", score, flagged))
        qualified = self.qualifier_kind(raw.display_name, domain, context)
        if qualified:
            concept, text, choice = qualified
            score = 0.75 if choice is None else round(0.75 * choice.confidence / 0.85, 3)
            if self._lexicon.concepts[concept].get("lexname") == "noun.act":
                score = min(score, 0.4)  # "Plank (Exercise)" is one, "Iron (Golf)" is used in one
            flagged = (choice is not None and choice.review) or score < REVIEW_BELOW
            options.append((concept, f"qualifier {text!r}", score, flagged))
        known, known_option = self._known_family(raw), None
        if known is not None and known.kind not in domain:  # the list's own domain says as much
            lists = ", ".join(known.lists)
            known_option = (known.kind, f"make/model family {known.word!r} of {lists}", 0.5, True)
            if not self._common_word(known.word):
                # a brand's model, not a kind: "Toyota corolla" is a car, whatever a corolla is
                options.append(known_option)
                known_option = None
        head = None if family else self.head_noun(raw.display_name, domain, context)
        if family and family.kind and family.list_brands:  # the kind of the list's known makers
            shown = ", ".join(family.list_brands[:3]) + (", ..." if len(family.list_brands) > 3 else "")
            by = f"make/model family {family.word!r} (the kind of this list's known makers: {shown})"
            options.append((family.kind, by, 0.3, True))
        elif family and family.kind:  # the family's other evidence, not this name's
            votes = f"{family.kind_votes} of its names' other evidence"
            options.append((family.kind, f"make/model family {family.word!r} ({votes})", 0.45, True))
        if head:
            concept, text, choice = head
            score = 0.7 if choice is None else round(0.7 * choice.confidence / 0.85, 3)
            options.append((concept, f"head noun {text!r}", score, choice is not None and choice.review))
        if known_option:  # a common first word: after the head noun
            options.append(known_option)
        if inferred is not None:  # a prior from the list's other classes, not evidence about this one
            options.append((inferred.concept, INFERRED_DOMAIN, round(0.45 * inferred.support, 3), True))
        elif domain:  # a narrow domain (car, dog, aircraft) places well; a broad one (organism) less so
            score = 0.7 if self._lexicon.depth(domain[0]) >= NARROW_DOMAIN_DEPTH else 0.4
            options.append((domain[0], DATASET_DOMAIN, score, score < REVIEW_BELOW))
        root = PHYSICAL_OBJECT if objects or lineage else ENTITY_ID
        options.append((root, NOTHING_CLOSER, 0.1, True))
        parent, placed_by, score, flagged = options[0]
        alternatives = tuple(dict.fromkeys(o[0] for o in options[1:] if o[0] != parent))[:3]
        return replace(
            m,
            confidence=score,
            parent=parent,
            placed_by=placed_by,
            placement_score=score,
            review=flagged or score < REVIEW_BELOW,
            alternatives=alternatives,
        )

    def head_noun(
        self, name: str, domain: Sequence[str], context: SenseContext
    ) -> tuple[str, str, SenseChoice | None] | None:
        """The concept the name's head noun means ("stop sign" -> a sign), chosen like any sense:
        the longest proper ending of the name that is a WordNet lemma; with the sense choice when
        evidence, not a rule, settled it. The noun before the head (its first
        :data:`MODIFIER_SENSES` senses, none by default) counts among the neighbours."""
        words = normalize(split_qualifier(name)[0]).replace("-", " ").split()
        while len(words) > 1 and any(ch.isdigit() for ch in words[-1]):
            words.pop()  # a model year or code after the head ("acura rl sedan 2012" -> sedan)
        for start in range(self._first_ending(words), len(words)):
            head = " ".join(words[start:])
            # the word before the head is a neighbour too: a "bread knife" is near bread
            modifier = self._senses(words[start - 1])[:MODIFIER_SENSES]
            near = [c for c in modifier if c in self._lexicon.concepts]
            here = replace(context, neighbours=(*context.neighbours, *near)) if near else context
            found = self.lemma(head, domain, context=here)
            if isinstance(found, SenseChoice):
                return found.concept, head, found
            if not isinstance(found, str):
                return found[0], head, None
        return None

    def qualifier_kind(
        self, name: str, domain: Sequence[str], context: SenseContext
    ) -> tuple[str, str, SenseChoice | None] | None:
        """The kind a name's qualifier names (``Avena (Drink)`` -> a drink, ``Jaguar (Automobile)`` ->
        a car), its sense chosen like any other; ``None`` when there is no qualifier, it names a
        purpose or place (``for cooking``), or WordNet has no noun for it (``Giulietta (1954)``)."""
        qualifier = split_qualifier(name)[1]
        if not qualifier:
            return None
        words, kind = _qualifier_words(normalize(qualifier))
        if not kind:
            return None
        text = " ".join(words)
        found = self.lemma(text, domain, context=context)
        if isinstance(found, str) and len(words) > 1 and not set(words) & _QUALIFIER_STOP:
            text = words[-1]  # "underwater wrestling" -> wrestling; not "day of the dead" -> dead
            found = self.lemma(text, domain, context=context)
        if isinstance(found, str):
            return None
        concept, choice = (found.concept, found) if isinstance(found, SenseChoice) else (found[0], None)
        if self._lexicon.concepts[concept].get("lexname") in _FIELD_LEXNAMES:
            return None  # a field or a place, not a kind: "Bank (Geography)", "Fairlane (Australia)"
        if any(self._names_a_name(c) for c in self._senses(text)):
            return None  # "Canada goose (Brand)" is a trade name, not a sword (a sense of "brand")
        return concept, text, choice

    def _names_a_name(self, concept: str) -> bool:
        """Whether a concept is a kind of name (*trade name*, *title*): a qualifier with such a sense
        says what kind of name the class is, not what kind of thing."""
        name = self._by_synset.get("name.n.01")
        return concept in self._lexicon.concepts and name in self.ancestors(concept)

    def _first_ending(self, words: Sequence[str]) -> int:
        """The first word of the longest proper ending of ``words`` that could be a lemma: an
        ending of more letters than the longest lemma (plus a plural's two) is none, unless a
        qualifier in it would be cut off (so a long name costs time linear in its length)."""
        letters, start = 0, len(words)
        while start > 1 and "(" not in words[start - 1]:
            letters += len(words[start - 1])
            if letters > self._longest + 2:
                return start
            start -= 1
        return 1

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
        ``context`` (the dataset's other classes; none when mapping a class alone), or, when
        ``choose`` is false, returned as a ``new`` class with an ``ambiguous`` note for
        :meth:`map_all` to settle. A class WordNet lacks comes back ``new``, unplaced (see
        :meth:`map_all`).
        """

        def keep(note: str) -> MappedClass:
            living = bool(domain) and _ORGANISM in self.ancestors(domain[0])
            latin = bool(self.lineage(raw)) or (living and bool(_BINOMIAL.match(raw.display_name.strip())))
            cid = new_concept_id(raw.display_name, latin=latin)
            return MappedClass(raw.index, raw.raw_name, cid, "new", 0.0, note, name=raw.display_name)

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
        lineage = self.lineage(raw)
        if lineage and self._taxa:  # a species' name means an organism of its own class
            anchor = self._taxa.anchor(lineage)
            domain = [anchor] if anchor else domain
        found = self.lemma(
            raw.display_name,
            domain,
            context=context if choose else None,
            choose=choose,
            description=raw.description,
        )
        if isinstance(found, str):
            outside = self._lemma_outside_domain(raw, domain)
            return outside if outside is not None else keep(found)
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
        # a split form ("diningtable" as "dining table") is a guess at the name's words: reviewed
        split = found[2].startswith("split form")
        return MappedClass(raw.index, raw.raw_name, found[0], "lemma", found[1], found[2], review=split)

    def _lemma_outside_domain(self, raw: RawClass, domain: Sequence[str]) -> MappedClass | None:
        """A name that is, spelled exactly, the lemma of one WordNet sense of the domain's kind (its
        lexicographer file; plants and animals count as one) that WordNet files outside the domain:
        that sense, flagged. WordNet's tree misses some members of a kind (*Juniperus communis* under
        juniper wood, *Nerium oleander* outside *vascular plant*, Food-101's *chicken wings* outside
        *solid food*); the name still means that sense, so it is one concept, not two. A sense under
        WordNet's taxonomic groups (the genus *Bromelia* for Flowers-102's *bromelia*) is not the
        organism a class means: no match, unless WordNet's taxon groups one organism of the domain's
        kind (CUB-200's *Geococcyx*, whose one organism in WordNet is the roadrunner): that organism,
        flagged."""
        if not domain or domain[0] not in self._lexicon.concepts:
            return None
        senses, _, how, qualifier = self._candidates(raw.display_name.strip())
        if len(senses) != 1 or qualifier or how not in ("", "singular form"):
            return None
        sense, note, confidence = senses[0], "", 0.8
        if self._taxa is not None and self._taxa.is_taxon(sense):
            grouped = self._taxa.organisms(sense)
            if len(grouped) != 1:
                return None
            (sense,) = grouped
            taxon = self._lexicon.name(senses[0])
            note = f"the one organism WordNet's taxon {taxon!r} groups ({self._lexicon.name(sense)})"
            confidence = 0.7
        kind = self._kind(domain[0])
        lexname = self._lexicon.concepts[sense].get("lexname")
        if lexname != kind and not {lexname, kind} <= _ORGANISM_LEXNAMES:
            return None
        if not note:
            parents = ", ".join(sorted(self._lexicon.name(p) for p in self._lexicon.parents.get(sense, ())))
            note = f"WordNet's one sense, of the domain's kind but filed outside it (under {parents})"
        return MappedClass(raw.index, raw.raw_name, sense, "lemma", confidence, note, review=True)

    def _kind(self, concept: str) -> str | None:
        """A concept's lexicographer file; for one of WordNet's top concepts (``noun.Tops``: *plant*,
        *animal*, *food*), the file most of its hyponyms are in."""
        lexname = self._lexicon.concepts[concept].get("lexname")
        if lexname != "noun.Tops":
            return lexname
        if concept not in self._top_kinds:  # counted once per mapper, not once per class
            below = self._lexicon.children.get(concept, ())
            files = Counter(self._lexicon.concepts[c].get("lexname") for c in below)
            self._top_kinds[concept] = files.most_common(1)[0][0] if files else lexname
        return self._top_kinds[concept]

    def _candidates(self, name: str) -> tuple[list[str], float, str, str]:
        """Senses of ``name`` in WordNet order, the confidence of the match, a note, a qualifier
        (looked up once per name and mapper: a refused name is asked again for its senses outside the
        domain)."""
        found = self._candidate_cache.get(name)
        if found is None:
            found = self._candidate_cache[name] = self._find_candidates(name)
        senses, confidence, note, qualifier = found
        return list(senses), confidence, note, qualifier

    def _find_candidates(self, name: str) -> tuple[list[str], float, str, str]:
        name, qualifier = split_qualifier(name)  # "Seal (Animal)", "Jaguar (Vehicle)"
        qualifier = normalize(qualifier) if qualifier else ""
        key = normalize(name)
        if qualifier and (whole := self._senses(f"{key} {qualifier}")):
            # "Bank (Building)" is WordNet's "bank building": the qualifier completes the lemma
            return whole, 0.9, f"name and qualifier as one lemma {key + ' ' + qualifier!r}", ""
        # Every variant below keeps all but two of the key's letters: a longer key is no lemma.
        if len(key) - key.count(" ") - key.count("-") > self._longest + 2:
            return [], 0.0, "", qualifier
        variants = [(key, 0.9, "")]
        for suffix, replacement in (("ies", "y"), ("es", ""), ("s", "")):
            if key.endswith(suffix) and len(key) > len(suffix) + 2:
                variants.append((key[: -len(suffix)] + replacement, 0.8, "singular form"))
        if " " in key or "-" in key:
            variants.append((key.replace(" ", "").replace("-", ""), 0.8, "joined form"))
        for text, confidence, note in variants:
            senses = self._senses(text)
            if senses:
                return senses, confidence, note, qualifier
        # Every lemma spelled like the key but for spaces, punctuation and a plural ("Hog nosed skunk":
        # "hog-nosed skunk" and "hognosed skunk"), those differing only in punctuation first ("Auto
        # mechanic": the mechanic before "auto mechanics", the trade); their senses in that order.
        bare = _NOT_WORD.sub("", key)
        forms = sorted(self._lemma_forms.get(joined_key(key), []), key=lambda f: _NOT_WORD.sub("", f) != bare)
        senses = list(dict.fromkeys(c for form in forms for c in self._senses(form)))
        if senses:
            # a run-together name ("Payphone" for "pay-phone") is a guess at its words: reviewed
            run_together = key.isalnum() and not any(form.isalnum() for form in forms)
            note = f"split form {forms[0]!r}" if run_together else f"spelling of {forms[0]!r}"
            return senses, 0.8, note, qualifier
        if suffixed := self._suffix_form(key):
            return suffixed
        if key.isalpha() and len(key) >= 6:  # VOC's "diningtable", "tvmonitor": a two-word lemma run together
            found: list[tuple[str, list[str]]] = []
            for i in range(2, len(key) - 1):  # one split at a time, stopping at a second (no answer)
                text = f"{key[:i]} {key[i:]}"
                if senses := self._senses(text):
                    found.append((text, senses))
                    if len(found) > 1:
                        break
            if len(found) == 1:
                return found[0][1], 0.8, f"split form {found[0][0]!r}", qualifier
        return [], 0.0, "", qualifier

    def _suffix_form(self, key: str) -> tuple[list[str], float, str, str] | None:
        """``maple tree``, ``alarm device``: a lemma followed by the name of its own kind means the
        lemma's senses of that kind (the maple that is a tree, not its wood); ``None`` otherwise
        (``corn dog``: no sense of *corn* is a dog)."""
        words = key.split()
        if len(words) < 2:
            return None
        stem, kind = " ".join(words[:-1]), words[-1]
        kinds = set(self._senses(kind) or self._senses(_singular(kind)))
        if not kinds:
            return None
        senses = [
            c
            for c in self._senses(stem)
            if self.ancestors(c) & kinds
            and c not in kinds
            and self._lexicon.concepts[c].get("lexname") in PHYSICAL_LEXNAMES  # not "stop sign" -> a period
        ]
        return (senses, 0.8, f"suffix form: {stem!r} as a {kind}", "") if senses else None

    def _senses(self, text: str) -> list[str]:
        """The senses of a lemma, in WordNet order (the sense index's, else the lexicon's)."""
        indexed = self._sense_index.get(text)
        return [c for c, _ in indexed if c in self._ids] if indexed else list(self._lexicon.senses(text))

    def lemma(
        self,
        name: str,
        domain: Sequence[str] = (),
        *,
        context: SenseContext | None = None,
        choose: bool = True,
        description: str | None = None,
    ) -> tuple[str, float, str] | SenseChoice | str:
        """``(concept, confidence, note)`` for a lemma match settled by a rule, a
        :class:`SenseChoice` for one settled by evidence, or why there is none."""
        candidates, confidence, note, qualifier = self._candidates(name)
        if not candidates:
            return "no WordNet lemma"
        closeness: dict[str, float] = {}
        if qualifier:  # "Seal (Animal)", LVIS's "bus_(vehicle)", "pan_(for_cooking)"
            kind, senses = self._qualifier_senses(qualifier)
            if senses:
                closeness = {
                    c: max(1.0 if s in self.ancestors(c) else self._lexicon.wu_palmer(c, s) for s in senses)
                    for c in candidates
                }
                close = [c for c in candidates if closeness[c] >= QUALIFIER_CLOSE]
                if kind and not close:
                    return f"no sense of {name!r} is close to {qualifier!r}"
                if kind:
                    candidates = close
                note = f"qualified by {qualifier!r}"
            else:
                note = f"qualifier {qualifier!r} unknown to WordNet"
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
        return choose_sense(
            candidates,
            self._lexicon,
            self._imaged,
            context or SenseContext(),
            counts,
            qualifier=closeness,
            description=description,
        )

    def _qualifier_senses(self, qualifier: str) -> tuple[bool, set[str]]:
        """Whether the qualifier names a kind (``animal``, ``railroad vehicle``, ``type of shoe``)
        rather than a purpose or place (``for cooking``, ``part of a train``), and the senses it
        names: the whole phrase's, else its head word's for a kind, its content words' otherwise."""
        words, kind = _qualifier_words(qualifier)
        phrase = " ".join(words)
        for text in (phrase, _singular(phrase)):
            if found := self._lexicon.senses(text):
                return kind, set(found)
        content = [w for w in words if w not in _QUALIFIER_STOP]
        if kind:
            content = content[-1:]
        out: set[str] = set()
        for word in content:
            out.update(self._lexicon.senses(word) or self._lexicon.senses(_singular(word)))
        return kind, out

    def _tag_counts(self, name: str) -> dict[str, int]:
        key = normalize(split_qualifier(name)[0])
        return {c: n for c, n in self._sense_index.get(key, [])}


def import_label_set(
    store: GraphStore,
    label_set: LabelSet,
    mapper: ClassMapper,
    *,
    progress: ImportProgress | None = None,
    outside: PlaceNames | None = None,
) -> DatasetReport:
    """Map every class and write the dataset in one transaction (re-running gives the same graph).

    The write is checked before it happens (:func:`~bamboo.graph.taxonomy.invariants.check_placements`):
    the graph must stay acyclic, rooted and free of duplicate ids.

    Args:
        progress: Hears ``(stage, done, total)``: ``("map", classes mapped, classes)`` as
            :meth:`ClassMapper.map_all` goes, then ``("check", 0, placements)`` and
            ``("write", 0, classes)`` as those stages begin.
        outside: An outside source (Wikidata, :class:`bamboo.graph.wikidata.NameLinker`) asked,
            after the offline mapping, for the new concepts that mapping left under the root or the
            bare list domain (:func:`place_by_outside`); nothing else changes.

    Raises:
        InvariantViolation: the classes' placements would break an invariant (the dataset's own
            parents loop: ``IS_A cycle: a -> b -> a``); the message names the classes and nothing
            is written.
    """
    domain = [c for c in (mapper.domain_concept(s) for s in label_set.domain) if c]
    mapped = mapper.map_all(label_set.name, label_set.classes, domain, task=label_set.task, progress=progress)
    inferred = None if domain else mapper.infer_domain(mapped)
    if outside is not None:
        freebase: dict[str, str] = {}
        for raw, m in zip(label_set.classes, mapped, strict=True):
            if raw.mid:
                freebase.setdefault(m.name or m.raw_name, raw.mid)
        mapped = place_by_outside(
            mapped, outside, domain or ([inferred.concept] if inferred else []), freebase
        )
    evidence = _evidence(label_set, mapped, mapper, domain)
    best, names = _best_placements(mapped)
    concepts, placements = _new_concepts(store, best, names, label_set.name)
    classes = [
        {
            "index": m.index,
            "raw_name": m.raw_name,
            "concept": m.concept,
            "method": m.method,
            "confidence": m.confidence,
            "note": m.note,
            "review": "check" if m.review and not m.new else None,
            "alternatives": [] if m.new else list(m.alternatives),
            "lineage": GraphStore.lineage_property(raw.lineage),
        }
        for raw, m in zip(label_set.classes, mapped, strict=True)
    ]
    if progress is not None:
        progress("check", 0, len(placements))
    report = check_placements(store, placements, [c["id"] for c in concepts])
    if not report.ok:
        raise InvariantViolation(f"{label_set.name}: {_describe(report, mapped)}; nothing was written")
    if progress is not None:
        progress("write", 0, len(classes))
    store.import_dataset(
        label_set.name,
        {
            "task": label_set.task,
            "source": label_set.source,
            "num_classes": len(label_set.classes),
            "domain": [*label_set.domain],
            "inferred_domain": inferred.concept if inferred else None,
            "domain_support": inferred.support if inferred else None,
            "scenes": label_set.scenes,
        },
        concepts=concepts,
        placements=placements,
        classes=classes,
        evidence=evidence,
    )
    return DatasetReport(
        domain=inferred,
        dataset=label_set.name,
        classes=len(mapped),
        by_method=dict(Counter(m.method for m in mapped)),
        new=sorted(best),
        review=sum(m.review for m in mapped),
        evidence=len(evidence),
    )


def place_by_outside(
    mapped: Sequence[MappedClass],
    outside: PlaceNames,
    domain: Sequence[str],
    freebase: Mapping[str, str] | None = None,
) -> list[MappedClass]:
    """Ask ``outside`` about the new concepts placed on no evidence of their own (under the root,
    the declared or the inferred list domain) and re-place each it proposes a parent for: the
    proposal's evidence becomes ``placed_by``, its score the placement's, the old parent the first
    alternative; flagged below :data:`REVIEW_BELOW` or when the source says so. A name the source
    finds ambiguous keeps its place, flagged, with the source's candidates as alternatives.
    ``freebase``: the Freebase id the list gives a class's name (Open Images' MIDs), passed on."""
    weak = [m for m in mapped if m.new and m.placed_by in _NOT_EVIDENCE]
    if not weak:
        return list(mapped)
    names = sorted({m.name or m.raw_name for m in weak})
    ids = {n: freebase[n] for n in names if freebase and n in freebase}
    proposals = outside(names, domain, freebase=ids)
    out = []
    for m in mapped:
        p = proposals.get(m.name or m.raw_name) if m.new and m.placed_by in _NOT_EVIDENCE else None
        if p is None or not (p.concept or p.review):
            out.append(m)
            continue
        note = f"{m.note}; {p.note}" if m.note and p.note else m.note or p.note
        if p.concept is None:  # several places, nothing to separate them
            kept = dict.fromkeys(c for c in (*p.candidates, *m.alternatives) if c != m.parent)
            out.append(replace(m, review=True, note=note, alternatives=tuple(kept)[:3]))
            continue
        alternatives = tuple(dict.fromkeys(c for c in (m.parent, *p.candidates) if c and c != p.concept))[:3]
        out.append(
            replace(
                m,
                confidence=p.score,
                parent=p.concept,
                placed_by=p.evidence,
                placement_score=p.score,
                review=p.review or p.score < REVIEW_BELOW,
                alternatives=alternatives,
                note=note,
            )
        )
    return out


def _evidence(
    label_set: LabelSet, mapped: Sequence[MappedClass], mapper: ClassMapper, domain: list[str]
) -> list[dict[str, Any]]:
    """The dataset's own hierarchy (each class's parent and wholes) as edges between mapped concepts,
    once each."""
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
    for raw, m in zip(label_set.classes, mapped, strict=True):
        targets = [(resolve(raw.parent), "subcategory"), *((resolve(w), "part") for w in raw.part_of)]
        for target, kind in targets:
            if target and target != m.concept:
                evidence.append({"child": m.concept, "parent": target, "kind": kind})
    return list({(e["child"], e["parent"], e["kind"]): e for e in evidence}.values())


def _best_placements(mapped: Sequence[MappedClass]) -> tuple[dict[str, MappedClass], dict[str, set[str]]]:
    """New concepts: one per id, the class with its best placement, and the names its classes give it."""
    best: dict[str, MappedClass] = {}
    names: dict[str, set[str]] = {}
    for m in mapped:
        if m.new:
            names.setdefault(m.concept, set()).update({m.raw_name, m.name or m.raw_name})
            if m.concept not in best or _placement_key(m.placement_score, m.parent) < _placement_key(
                best[m.concept].placement_score, best[m.concept].parent
            ):
                best[m.concept] = m
    return best, names


def _new_concepts(
    store: GraphStore, best: dict[str, MappedClass], names: dict[str, set[str]], dataset: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The new concepts' rows and the placements to write: this dataset's best placement of each
    replaces the one the graph holds (other datasets', the linkers') only when it is better and never a
    person's, so the import order does not matter."""
    existing = store.placements(sorted(best))
    concepts: list[dict[str, Any]] = []
    placements: list[dict[str, Any]] = []
    for cid, m in sorted(best.items()):
        old = existing.get(cid)
        props: dict[str, Any] = {
            "lemmas": sorted(names[cid] | set((old or {}).get("lemmas") or ())),
            "source": "datasets",
        }
        if old is None:
            props["name"] = m.name or m.raw_name
        keep = (
            old is not None
            and old["parent"] is not None
            and (
                old["method"] == "person"
                or _placement_key(old["score"] or 0.0, old["parent"])
                <= _placement_key(m.placement_score, m.parent)
            )
        )
        if not keep:
            props |= {
                "review": "check" if m.review else None,
                "review_note": m.note,
                "placed_by": m.placed_by,
                "alternatives": list(m.alternatives),
            }
            placements.append(
                {
                    "id": cid,
                    "parent": m.parent,
                    "method": "import",
                    "score": m.placement_score,
                    "evidence": m.placed_by,
                    "source": dataset,
                }
            )
        concepts.append({"id": cid, "props": props})
    return concepts, placements


def _describe(report: InvariantReport, mapped: Sequence[MappedClass]) -> str:
    """The broken invariant in the user's terms: the classes (by their names in the file) rather
    than concept ids, where the concept is one of the dataset's."""
    names: dict[str, str] = {}
    for m in mapped:
        names.setdefault(m.concept, printable(m.raw_name, 60))
    if not report.acyclic:
        # Start at the class that comes first in the file, so the message does not vary.
        order = {m.concept: m.index for m in reversed(mapped)}
        loop = report.cycle
        first = min(range(len(loop)), key=lambda i: (order.get(loop[i], len(mapped)), loop[i]))
        loop = loop[first:] + loop[:first]
        shown = [names.get(c, c) for c in loop[:_SHOWN]] + (["..."] if len(loop) > _SHOWN else [])
        return (
            f"IS_A cycle: {' -> '.join([*shown, names.get(loop[0], loop[0])])} ({len(loop)} concepts, "
            "each placed under the next: fix the classes' supercategory or parent)"
        )
    return report.describe()


def _placement_key(score: float, parent: str | None) -> tuple[float, str]:
    """Orders placements best first: higher score, then the smaller parent id."""
    return (-round(score, 6), parent or "~")


def dataset_mapper(store: GraphStore, label_sets: list[LabelSet], wordnet: Path | None) -> ClassMapper:
    """The class mapper over the graph's WordNet, with WordNet's sense index and member meronyms
    (taxa); *imaged* senses are those a dataset names by wnid (in ``label_sets`` or already
    imported)."""
    imaged = {f"wn:{c.wnid}" for ls in label_sets for c in ls.classes if c.wnid} | {
        r.concept for r in store.all_dataset_classes() if r.method == "wnid"
    }
    mapper = ClassMapper(
        store.all_concepts(),
        store.all_is_a(),
        imaged,
        read_sense_index(wordnet),
        read_member_meronyms(wordnet),
        read_modifiers(wordnet),
    )
    lists = {
        ls.name: (ls.name, ls.domain, [c.display_name for c in ls.classes]) for ls in label_sets if ls.domain
    }
    for d in store.datasets():
        domain = d.props.get("domain") or ()
        if domain and d.name not in lists:
            names = [c.raw_name or c.name or "" for c in store.dataset_classes(d.name)]
            lists[d.name] = (d.name, tuple(domain), names)
    mapper.learn_families(lists.values())
    # taxa from the lists imported now and from those imported before (their stored lineage)
    now = {ls.name for ls in label_sets}
    before: dict[str, list[RawClass]] = {}
    for dataset, index, raw_name, lineage in store.class_lineages():
        if dataset not in now and lineage:
            before.setdefault(dataset, []).append(RawClass(index=index, raw_name=raw_name, lineage=lineage))
    mapper.learn_taxa([*(ls.classes for ls in label_sets), *before.values()])
    return mapper
