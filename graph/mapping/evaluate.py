"""Measure how dataset class names are mapped onto WordNet, against a gold list.

Gold files are tab-separated, one class per line: ``dataset<TAB>class name<TAB>wnid`` with an
optional fourth column ``exact`` (default: the class *is* that synset) or ``parent`` (WordNet lacks
the class; the wnid is its right parent). Lines starting with ``#`` are comments. Each gold
dataset's classes are mapped by name only (no wnid), in file order, exactly as an import maps
them (:meth:`bamboo.graph.mapping.datasets.ClassMapper.map_all`), and scored:

* **exact accuracy**: ``exact`` rows mapped to their gold synset;
* **coverage**: ``exact`` rows mapped to some WordNet synset (not made a new concept);
* **grouped accuracy**: the same, but classes of one name in one list (the alphabetical ImageNet-21K
  names has 1,470 such names) are scored as a group, the gold senses against the chosen ones as
  multisets. Nothing in the name tells such classes apart, so which of them the gold list happens to
  give which sense (its ids' order) is not something a names-only mapper can know; the strict figure
  is kept beside it. For a list without repeats the two are equal;
* **review rate**: mapped rows flagged for review;
* **placement Wu-Palmer**: for ``parent`` rows, the similarity between the gold parent and the
  concept the class was mapped to, or, for a new concept, the parent it was placed under
  (``stop sign`` -> a sign);
* **under parent**: the share of ``parent`` rows whose concept (or placement) lies under the gold
  parent or is it: a held-out list's known subject (Stanford Cars' names, gold parent *car*);
* **under entity**: rows made new concepts with *entity* itself as their parent (the last resort).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bamboo.errors import MalformedFile
from bamboo.graph.mapping.datasets import ClassMapper, MappedClass
from bamboo.graph.taxonomy.model import ENTITY_ID
from bamboo.graph.taxonomy.search import normalize
from bamboo.loaders.base import RawClass, read_lines

__all__ = [
    "GoldClass",
    "MappingScore",
    "TaxonomyScore",
    "evaluate_mapping",
    "evaluate_taxonomy",
    "read_gold",
    "read_taxon_gold",
]


@dataclass(frozen=True)
class GoldClass:
    """A gold mapping of one dataset class: its exact concept, or (``kind`` "parent") its parent."""

    dataset: str
    name: str
    concept: str
    kind: str  # "exact" or "parent"


@dataclass
class MappingScore:
    """How one dataset's class mapping compares with the gold classes."""

    dataset: str
    exact_total: int = 0
    exact_correct: int = 0
    covered: int = 0
    grouped_correct: int = 0
    review: int = 0
    parent_total: int = 0
    parent_wup: float = 0.0
    parent_under: int = 0
    under_entity: int = 0
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (name, gold, got)

    @property
    def accuracy(self) -> float:
        """Share of exact gold classes mapped to the gold concept (0 without any)."""
        return self.exact_correct / self.exact_total if self.exact_total else 0.0

    @property
    def grouped_accuracy(self) -> float:
        """Like :attr:`accuracy`, classes sharing a name scored as a multiset (0 without any)."""
        return self.grouped_correct / self.exact_total if self.exact_total else 0.0

    @property
    def coverage(self) -> float:
        """Share of exact gold classes mapped to an existing concept, not a new one (0 without any)."""
        return self.covered / self.exact_total if self.exact_total else 0.0

    @property
    def under_parent(self) -> float:
        """Share of the parent gold rows placed under (or at) their gold parent (0 without any)."""
        return self.parent_under / self.parent_total if self.parent_total else 0.0

    @property
    def placement(self) -> float:
        """Mean Wu-Palmer similarity over the parent gold rows (0 without any)."""
        return self.parent_wup / self.parent_total if self.parent_total else 0.0

    def as_dict(self) -> dict[str, object]:
        """The score as JSON-able data, ratios rounded to 4 places."""
        return {
            "dataset": self.dataset,
            "exact": self.exact_total,
            "accuracy": round(self.accuracy, 4),
            "grouped_accuracy": round(self.grouped_accuracy, 4),
            "coverage": round(self.coverage, 4),
            "review": self.review,
            "parent_rows": self.parent_total,
            "placement_wu_palmer": round(self.placement, 4),
            "under_parent": round(self.under_parent, 4),
            "under_entity": self.under_entity,
            "errors": [list(e) for e in self.errors],
        }


def read_gold(path: Path) -> list[GoldClass]:
    """Parse a gold file.

    Raises:
        MalformedFile: a line without three or four tab-separated fields, a bad wnid or kind.
    """
    out = []
    for line_no, line in read_lines(path):
        if line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) not in (3, 4):
            raise MalformedFile(
                path, line_no, f"expected dataset<TAB>class<TAB>wnid[<TAB>kind], got {line!r}"
            )
        dataset, name, wnid = (p.strip() for p in parts[:3])
        kind = parts[3].strip() if len(parts) == 4 else "exact"
        if not (len(wnid) == 9 and wnid[0] == "n" and wnid[1:].isdigit()):
            raise MalformedFile(path, line_no, f"{wnid!r} is not a WordNet noun id such as n02084071")
        if kind not in ("exact", "parent"):
            raise MalformedFile(path, line_no, f"kind must be exact or parent, not {kind!r}")
        if not dataset or not name:
            raise MalformedFile(path, line_no, "empty dataset or class name")
        out.append(GoldClass(dataset, name, f"wn:{wnid}", kind))
    if not out:
        raise MalformedFile(path, None, "no gold rows")
    return out


def evaluate_mapping(
    gold: list[GoldClass], mapper: ClassMapper, *, tasks: dict[str, str] | None = None
) -> list[MappingScore]:
    """Map each gold dataset's names and score them (see the module docstring)."""
    by_dataset: dict[str, list[GoldClass]] = defaultdict(list)
    for row in gold:
        by_dataset[row.dataset].append(row)
    scores = []
    for dataset, rows in by_dataset.items():
        classes = [RawClass(i, row.name) for i, row in enumerate(rows)]
        mapped = mapper.map_all(dataset, classes, task=(tasks or {}).get(dataset, ""))
        score = MappingScore(dataset)
        gold_by_name: dict[str, Counter[str]] = defaultdict(Counter)
        got_by_name: dict[str, Counter[str]] = defaultdict(Counter)
        for row, m in zip(rows, mapped, strict=True):
            if row.kind == "exact":
                gold_by_name[normalize(row.name)][row.concept] += 1
                got_by_name[normalize(row.name)][m.concept] += 1
        score.grouped_correct = sum((gold & got_by_name[k]).total() for k, gold in gold_by_name.items())
        for row, m in zip(rows, mapped, strict=True):
            if m.review:
                score.review += 1
            score.under_entity += m.new and m.parent == ENTITY_ID
            if row.kind == "exact":
                score.exact_total += 1
                score.covered += not m.new
                if m.concept == row.concept:
                    score.exact_correct += 1
                else:
                    score.errors.append((row.name, row.concept, m.concept))
            else:
                score.parent_total += 1
                placed = m.parent if m.new else m.concept
                if placed:
                    score.parent_wup += mapper.wu_palmer(placed, row.concept)
                    score.parent_under += row.concept in mapper.ancestors(placed)
        scores.append(score)
    return scores


@dataclass
class TaxonomyScore:
    """Where a taxonomy-bearing dataset's species land (:func:`evaluate_taxonomy`)."""

    dataset: str
    species: int = 0
    kingdom_total: int = 0  # species of a kingdom with a gold synset
    under_kingdom: int = 0
    class_total: int = 0  # species of a class with a gold synset
    under_class: int = 0
    by_method: dict[str, int] = field(default_factory=dict)
    misplaced: list[tuple[str, str, str]] = field(default_factory=list)  # (species, gold, placed)

    def as_dict(self) -> dict[str, object]:
        """The score as JSON-able data, ratios rounded to 4 places (``None`` without gold rows)."""
        return {
            "dataset": self.dataset,
            "species": self.species,
            "under_kingdom": round(self.under_kingdom / self.kingdom_total, 4)
            if self.kingdom_total
            else None,
            "under_class": round(self.under_class / self.class_total, 4) if self.class_total else None,
            "kingdom_rows": self.kingdom_total,
            "class_rows": self.class_total,
            "by_method": self.by_method,
            "misplaced": [list(m) for m in self.misplaced[:50]],
        }


def read_taxon_gold(path: Path) -> dict[tuple[str, str], str]:
    """``rank<TAB>taxon<TAB>wnid[<TAB>note]`` lines -> ``{(rank, taxon): concept id}``.

    Raises:
        MalformedFile: a line without a rank, taxon and WordNet noun id.
    """
    out: dict[tuple[str, str], str] = {}
    for line_no, line in read_lines(path):
        if line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split("\t")]
        if len(parts) < 3 or not parts[0] or not parts[1]:
            raise MalformedFile(path, line_no, f"expected rank<TAB>taxon<TAB>wnid, got {line!r}")
        wnid = parts[2]
        if not (len(wnid) == 9 and wnid[0] == "n" and wnid[1:].isdigit()):
            raise MalformedFile(path, line_no, f"{wnid!r} is not a WordNet noun id such as n02084071")
        out[(parts[0].lower(), parts[1])] = f"wn:{wnid}"
    if not out:
        raise MalformedFile(path, None, "no gold rows")
    return out


def evaluate_taxonomy(
    dataset: str, classes: list[RawClass], mapper: ClassMapper, gold: dict[tuple[str, str], str]
) -> TaxonomyScore:
    """Map a taxonomy-bearing dataset's species by name (and lineage) as an import does, and count
    those that end up under their kingdom's and their class's gold synset: the species' own concept
    for one WordNet has, the parent it was placed under for a new one."""
    mapped = mapper.map_all(dataset, classes)
    score = TaxonomyScore(dataset, species=len(classes))
    methods: dict[str, int] = defaultdict(int)
    for raw, m in zip(classes, mapped, strict=True):
        where = m.parent if m.new else m.concept
        methods[_how(m)] += 1
        above = mapper.ancestors(where) if where else frozenset()
        lineage = dict(raw.lineage)
        for rank in ("kingdom", "class"):
            target = gold.get((rank, lineage.get(rank, "")))
            if target is None:
                continue
            ok = target in above
            if rank == "kingdom":
                score.kingdom_total += 1
                score.under_kingdom += ok
            else:
                score.class_total += 1
                score.under_class += ok
                if not ok:
                    score.misplaced.append((raw.display_name, target, where or ""))
    score.by_method = dict(sorted(methods.items(), key=lambda kv: -kv[1]))
    return score


def _how(m: MappedClass) -> str:
    """``lemma``, ``taxonomy genus``, ``head noun`` ...: how a class got its place."""
    if not m.new:
        return m.method
    if m.placed_by.startswith("taxonomy:"):
        return "taxonomy " + m.placed_by.split()[1]
    return m.placed_by.split(" '")[0]
