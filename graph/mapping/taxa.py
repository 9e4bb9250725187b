"""Place a species under WordNet by its taxonomy: genus, family, order, class, phylum, kingdom.

WordNet names taxa (*genus Quercus*, *family Felidae*, *class Aves*) as groups under *taxonomic
group*, not as organisms; its **member meronyms** tie a taxon to the organisms it groups (*class
Aves* has *bird*, *genus Quercus* has *oak*) and to its sub-taxa. The organism concept of a taxon
is therefore read from its members:

* the organisms the taxon groups, directly or through its sub-taxa, are collected;
* a direct organism member that covers at least half of them (is an ancestor of, or one of, them)
  is the taxon's organism (*Mammalia* -> *mammal*, not *placental*), the one covering most if
  several do (*Arthropoda* lists both *arthropod* and *insect*);
* otherwise the most specific concept above at least 90 % of them (*Insecta*, which WordNet
  lists only through its orders, -> *insect*);
* a genus whose one organism is a species without hyponyms (*genus Ailuropoda* -> *giant panda*)
  stands for that species' parent, since another species of the genus is its sibling, not its
  kind. (Above the genus the one organism is usually the class itself, *Diplopoda* -> *millipede*.)

A species is placed under the organism of its most specific taxon WordNet knows, provided that
organism lies under the organism of its class (or phylum, or kingdom): a genus name that WordNet
uses for something else does not pull a beetle under a plant.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bamboo.graph.link.lexicon import Lexicon
from bamboo.loaders.base import TAXON_RANKS

__all__ = ["KINGDOMS", "TAXON_RANKS", "TaxonIndex", "TaxonPlacement"]

TAXONOMIC_GROUP = "wn:n07992450"
#: The organism concept of each kingdom, for a class and phylum WordNet does not know.
KINGDOMS = {
    "animalia": "wn:n00015388",  # animal
    "plantae": "wn:n00017222",  # plant, flora
    "fungi": "wn:n12992868",  # fungus
    "bacteria": "wn:n01355326",  # bacteria
    "protozoa": "wn:n01389507",  # protozoan
    "chromista": "wn:n00004475",  # organism (WordNet 3.0 has no Chromista)
}
#: Words that name a rank in a taxon's lemma (*genus Quercus*, *bird family*, *suborder Lipotyphla*).
_RANK_WORDS = frozenset(
    {*TAXON_RANKS, "species", "division", "tribe", "section", "series", "category", "variety"}
)
_ORGANISM_FILES = frozenset({"noun.plant", "noun.animal"})
_CONFIDENCE = {"genus": 0.9, "family": 0.85, "order": 0.8, "class": 0.75, "phylum": 0.7, "kingdom": 0.6}


@dataclass(frozen=True)
class TaxonPlacement:
    """Where a lineage places a species: the organism concept, the taxon and rank that chose it."""

    concept: str
    rank: str
    taxon: str
    confidence: float


class TaxonIndex:
    """The organism concept of each taxon WordNet names (see the module docstring)."""

    def __init__(self, lexicon: Lexicon, members: Mapping[str, Sequence[str]]) -> None:
        self._lex = lexicon
        self._members = members
        self._organisms: dict[str, frozenset[str]] = {}
        self._by_name: dict[tuple[str, str], str | None] = {}

    def is_taxon(self, concept: str) -> bool:
        """Whether ``concept`` is a taxon: it lies under WordNet's taxonomic group (and is not that
        group itself) and is no organism WordNet files there (see :meth:`filed_organism`)."""
        return (
            concept != TAXONOMIC_GROUP
            and TAXONOMIC_GROUP in self._lex.ancestors(concept)
            and not self.filed_organism(concept)
        )

    def filed_organism(self, concept: str) -> bool:
        """Whether ``concept`` is an organism that WordNet files directly under a taxon group.

        WordNet puts a few species under their family or genus instead of their kind: *trumpet
        creeper* (hypernym *Bignoniaceae*), *Culver's root*, *fumewort* (*Corydalis solida*),
        *barramundi*, *Francisella tularensis*. Such a concept is a leaf of a plant or animal file that
        groups nothing (no member meronyms), no lemma of which names a rank (*genus Ginkgo*, *bird
        family*), and whose name is not one capitalised word (a taxon's Latin name, *Hemachatus*)."""
        entry = self._lex.concepts.get(concept, {})
        if (
            entry.get("lexname") not in _ORGANISM_FILES
            or self._lex.children.get(concept)
            or self._members.get(concept)
        ):
            return False
        names = [str(n) for n in (entry.get("name"), *(entry.get("lemmas") or ())) if n]
        words = {re.sub(r"^(sub|super|infra)", "", w.lower()) for n in names for w in re.split(r"[\s_-]+", n)}
        return bool(names) and not words & _RANK_WORDS and not re.fullmatch(r"[A-Z][a-z]+", names[0])

    def _grouped(self, taxon: str, seen: frozenset[str] = frozenset()) -> frozenset[str]:
        """The organisms ``taxon`` groups, directly or through its sub-taxa."""
        if taxon not in self._organisms:
            out: set[str] = set()
            for m in self._members.get(taxon, ()):
                if m in seen or m not in self._lex.concepts:
                    continue
                out |= self._grouped(m, seen | {taxon}) if self.is_taxon(m) else {m}
            self._organisms[taxon] = frozenset(out)
        return self._organisms[taxon]

    def organisms(self, taxon: str) -> frozenset[str]:
        """The organisms ``taxon`` groups in WordNet, directly or through its sub-taxa."""
        return self._grouped(taxon) if self.is_taxon(taxon) else frozenset()

    def organism_of_taxon(self, taxon: str, rank: str = "") -> str | None:
        """The organism concept covering the organisms ``taxon`` groups, or ``None`` when it groups none."""
        grouped = self._grouped(taxon)
        if not grouped:
            return None
        cover: Counter[str] = Counter()
        for o in grouped:
            cover.update(self._lex.ancestors(o))
        direct = [m for m in self._members.get(taxon, ()) if m in grouped and cover[m] * 2 >= len(grouped)]
        if direct:
            best = max(direct, key=lambda c: (cover[c], self._lex.depth(c), c))
        else:
            best = max(
                (c for c, n in cover.items() if n >= 0.9 * len(grouped)),
                key=lambda c: (self._lex.depth(c), cover[c], c),
            )
        if rank == "genus" and len(grouped) == 1 and not self._lex.children.get(best):
            parents = sorted(self._lex.parents.get(best, ()))
            best = parents[0] if parents else best
        return best

    def organism(self, name: str, rank: str = "") -> str | None:
        """The organism concept of the taxon called ``name`` (``"Aves"``, ``"Quercus"``), if
        WordNet names it."""
        key = (name.strip().lower(), rank)
        if key not in self._by_name:
            found = None
            for sense in self._lex.senses(name.strip()):
                if self.is_taxon(sense):
                    found = self.organism_of_taxon(sense, rank)
                    if found:
                        break
            self._by_name[key] = found
        return self._by_name[key]

    def anchor(self, lineage: Mapping[str, str]) -> str | None:
        """The organism of the lineage's class, else phylum, else kingdom."""
        for rank in ("class", "phylum"):
            if lineage.get(rank) and (found := self.organism(lineage[rank], rank)):
                return found
        return KINGDOMS.get((lineage.get("kingdom") or "").strip().lower())

    def place(self, lineage: Mapping[str, str], *, within: str | None = None) -> TaxonPlacement | None:
        """Where a species with this lineage (``{"genus": ..., "family": ..., ...}``) belongs;
        ``within`` stands in for the class when the lineage has none (a dataset's domain)."""
        anchor = self.anchor(lineage) or within
        for rank in TAXON_RANKS:
            taxon = lineage.get(rank)
            if not taxon:
                continue
            found = self.organism(taxon, rank) if rank != "kingdom" else KINGDOMS.get(taxon.lower())
            if (
                found
                and found in self._lex.concepts
                and (anchor is None or anchor in self._lex.ancestors(found))
            ):
                return TaxonPlacement(found, rank, taxon, _CONFIDENCE[rank])
        return None
