"""Make / model families: names of one list that share a brand as their first word.

Open Images names 70 *Toyota*s, 57 *Ford*s and 44 *Chevrolet*s (``Ford falcon``, ``Toyota corolla``,
``Mercedes-benz s-class``). The last word of such a name is a model, not a kind, so the head-noun rule
(``stop sign`` -> a sign) misplaces them: a *Ford falcon* under the bird, a *Toyota corolla* under the
flower part, an *Alfa romeo ...* under Romeo. A family is recognised by evidence, not by a list of
makers:

* at least :data:`FAMILY_MIN` new classes of the list share a first word, and that word is no common
  noun WordNet knows (*Toyota* is none; *Ford* and *Austin* name only people and places; *chicken*,
  *red* or *mountain* are common words and their families are left alone);
* the head nouns of its members, counted once per distinct head word (21 *Ford falcon* variants are one
  vote), are at least :data:`FAMILY_MIN_HEADS` and share no concept at depth
  :data:`FAMILY_KIND_DEPTH` or deeper that covers :data:`FAMILY_SUPPORT` of them: they name models, not
  a kind. Head words that agree (*BMW M3 coupe*, *BMW X5 sedan*: both cars) keep their placement.

The members the head noun placed lose that placement. The family's kind is what its members' *other*
evidence says (a qualifier: *Jaguar (Automobile)* is a car; a dataset parent; a taxonomy) when it
agrees (the deepest concept covering :data:`FAMILY_SUPPORT` of those votes); they are placed under it,
flagged. Without such evidence they fall to the list's domain or the root, flagged: a wrong parent is
worse than none, since a related-category set built on a bird would drop every photo of the car.

**Known families** carry that evidence across lists (:func:`known_families`). A list whose domain is
declared (Stanford Cars: *car*) says what its names' first words make: *Toyota*, *Nissan*, *Ferrari*
make cars. A name of another list with that first word (Open Images' *Nissan navara*, which nothing
else places) goes under the family's kind, flagged. A first word that is an adjective (*Northern*,
*American*: a *Northern Cloudywing* is no bird because CUB-200 has *Northern Flicker*) makes no known
family; one that is a common noun (*Ford*, *Jaguar*, *Lotus*) counts only when the name's other words
are not common words (*Lotus elise*, not *Eagle owl*).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bamboo.graph.link.lexicon import Lexicon
from bamboo.graph.taxonomy.search import normalize, split_qualifier
from bamboo.loaders.base import RawClass

__all__ = [
    "FAMILY_MIN",
    "FAMILY_MIN_HEADS",
    "FAMILY_SUPPORT",
    "KNOWN_FAMILY_MIN",
    "KnownFamily",
    "ModelFamily",
    "known_families",
    "model_families",
]

#: New classes sharing a first word before they are a family.
FAMILY_MIN = 5
#: Distinct head words a family's members need before their disagreement says "models".
FAMILY_MIN_HEADS = 3
#: Share of the votes a concept must cover to be the heads' (or the family's) common kind.
FAMILY_SUPPORT = 0.6
#: The common kind must be at least this deep (animal, plant, dish, vehicle; not *organism*, *object*).
FAMILY_KIND_DEPTH = 7
#: Names of declared-domain lists sharing a first word before it is a known family (with 2, FGVC's two
#: *Saab* aircraft made Open Images' 25 Saab cars aircraft).
KNOWN_FAMILY_MIN = 3


@dataclass(frozen=True)
class ModelFamily:
    """A make / model family: its first word, its size, and its kind when other evidence gives one."""

    word: str
    size: int
    kind: str | None
    kind_votes: int = 0


@dataclass(frozen=True)
class KnownFamily:
    """A first word that names of declared-domain lists share, and the kind those lists declare."""

    word: str
    kind: str
    names: int
    lists: tuple[str, ...]


def known_families(
    lists: Iterable[tuple[str, str, Sequence[str]]], lexicon: Lexicon
) -> dict[str, KnownFamily]:
    """The known families of ``(dataset, declared domain concept, class names)`` lists: each first
    word of :data:`KNOWN_FAMILY_MIN` or more multi-word names, with the deepest concept covering
    :data:`FAMILY_SUPPORT` of their lists' domains (at least :data:`FAMILY_KIND_DEPTH` deep)."""
    votes: dict[str, list[tuple[str, str]]] = {}
    for dataset, domain, names in lists:
        for name in names:
            words = normalize(split_qualifier(name)[0]).split()
            if len(words) > 1:
                votes.setdefault(words[0], []).append((domain, dataset))
    out = {}
    for word, cast in sorted(votes.items()):
        kind = _common_kind([d for d, _ in cast], lexicon) if len(cast) >= KNOWN_FAMILY_MIN else None
        if kind:
            out[word] = KnownFamily(word, kind, len(cast), tuple(sorted({ds for _, ds in cast})))
    return out


def _common_kind(votes: Sequence[str], lexicon: Lexicon) -> str | None:
    """The deepest concept covering :data:`FAMILY_SUPPORT` of ``votes`` (at least
    :data:`FAMILY_KIND_DEPTH` deep), or ``None``."""
    if not votes:
        return None
    counts = Counter(a for v in votes for a in lexicon.ancestors(v) | {v})
    need = FAMILY_SUPPORT * len(votes)
    best = [
        (lexicon.depth(a), n, a)
        for a, n in counts.items()
        if n >= need and a in lexicon.concepts and lexicon.depth(a) >= FAMILY_KIND_DEPTH
    ]
    return max(best)[2] if best else None


def model_families(
    classes: Sequence[RawClass],
    mapped: Sequence,  # Sequence[MappedClass]: untyped to keep this module below datasets.py
    lexicon: Lexicon,
    common_word: Callable[[str], bool],
    unplaced: str,
) -> dict[int, ModelFamily]:
    """The members of make / model families whose head-noun placement is to be dropped, by index
    (see the module docstring). ``common_word(word)`` says whether WordNet has the word as a common
    noun (not only as the name of a person or place); members placed ``unplaced`` (the root) join
    a family that has a kind."""
    groups: dict[str, list[int]] = {}
    for i, (raw, m) in enumerate(zip(classes, mapped, strict=True)):
        words = normalize(raw.display_name).split()
        if m.new and len(words) > 1:
            groups.setdefault(words[0], []).append(i)
    out: dict[int, ModelFamily] = {}
    for word, members in groups.items():
        if len(members) < FAMILY_MIN or common_word(word):
            continue
        heads: dict[str, str] = {}
        other: dict[str, str] = {}
        for i in members:
            m = mapped[i]
            if m.placed_by.startswith("head noun") and m.parent:
                heads.setdefault(m.placed_by, m.parent)
            elif (
                m.parent
                and m.placed_by.startswith(("qualifier", "dataset parent", "taxonomy"))
                and len(normalize(split_qualifier(classes[i].display_name)[0]).split()) > 1
            ):  # a model's evidence; not the brand's own entry ("Cadillac (Brand)" is a trade name)
                other.setdefault(m.parent, m.parent)
        if len(heads) < FAMILY_MIN_HEADS or _common_kind(list(heads.values()), lexicon):
            continue
        kind = _common_kind(list(other.values()), lexicon)
        family = ModelFamily(word, len(members), kind, len(other) if kind else 0)
        for i in members:
            by = mapped[i].placed_by
            if by.startswith("head noun") or (kind and by == unplaced):
                out[i] = family
    return out
