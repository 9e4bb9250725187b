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

**A list's make kind.** Most families no declared list names (Open Images' 75 *Renault* names, 30
*Lockheed* names) have no kind of their own. When two or more known families place names (two or more each) of
the same list, the deepest concept covering *all* their kinds (Open Images: cars and aircraft -> *vehicle*)
is the list's make kind (:func:`list_make_kind`): a kind-less family of that list goes under it,
flagged. Coarse on purpose: an aircraft maker among two dozen car makers must not become a car. A
family whose brand a declared list uses for something else (CUB-200's *California Gull*: a bird) is
no maker and gets none. A possessive first word (*Women's lacrosse*) makes no family at all; the
brand's own entry (*Subaru (Brand)*) and a member its head noun places as a company (*Lockheed
Corporation*) are not models.

**Model codes.** In a list with a make kind, three or more names sharing a first word are a family
also when :data:`CODED_MIN` of them, and a third, carry a model code: a word with a digit (*Tatra 87*,
*Dkw f8*). Then the first word may be a common noun (*Lotus 62*, *Bristol 410*, *Fiat x1/9*: a model
number is no flower, city or decree), unless the heads of its names agree on a kind. Such a family
changes nothing unless it has a kind, and a name of it without a code keeps its head noun (*Bell
peppers*, *Republic day*).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from bamboo.graph.link.lexicon import Lexicon
from bamboo.graph.taxonomy.search import normalize, split_qualifier
from bamboo.loaders.base import RawClass

__all__ = [
    "CODED_MIN",
    "FAMILY_MIN",
    "FAMILY_MIN_HEADS",
    "FAMILY_SUPPORT",
    "KNOWN_FAMILY_MIN",
    "LIST_KIND_MIN_NAMES",
    "KnownFamily",
    "ModelFamily",
    "known_families",
    "list_make_kind",
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
#: Names of a family that carry a model code (a word with a digit) before the codes alone make it a
#: make / model family, in a list that has a make kind; they must also be a third of its names.
CODED_MIN = 2
#: Known families (distinct brands) that must place names of a list before it has a make kind.
LIST_KIND_MIN_FAMILIES = 2
#: Names of a list a known family must place to count among them (a maker's models, not one name:
#: CUB's *Hooded* family placed one Open Images name, a bird, among the car and aircraft makers).
LIST_KIND_MIN_NAMES = 2


@dataclass(frozen=True)
class ModelFamily:
    """A make / model family: its first word, its size, and its kind when other evidence gives one."""

    word: str
    size: int
    kind: str | None
    kind_votes: int = 0
    #: the brands of the list's known families, when the kind is the list's make kind
    list_brands: tuple[str, ...] = ()


@dataclass(frozen=True)
class KnownFamily:
    """A first word that names of declared-domain lists share, and the kind those lists declare."""

    word: str
    kind: str
    names: int
    lists: tuple[str, ...]


def known_families(
    lists: Iterable[tuple[str, str, Sequence[str]]], lexicon: Lexicon, minimum: int = KNOWN_FAMILY_MIN
) -> dict[str, KnownFamily]:
    """The known families of ``(dataset, declared domain concept, class names)`` lists: each first
    word of ``minimum`` or more multi-word names, with the deepest concept covering
    :data:`FAMILY_SUPPORT` of their lists' domains (at least :data:`FAMILY_KIND_DEPTH` deep)."""
    votes: dict[str, list[tuple[str, str]]] = {}
    for dataset, domain, names in lists:
        for name in names:
            words = normalize(split_qualifier(name)[0]).split()
            if len(words) > 1:
                votes.setdefault(words[0], []).append((domain, dataset))
    out = {}
    for word, cast in sorted(votes.items()):
        kind = _common_kind([d for d, _ in cast], lexicon) if len(cast) >= minimum else None
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


def _coded(members: Sequence[RawClass], least: int = CODED_MIN) -> bool:
    """At least ``least`` of the names, and a third of them, carry a model code after their first
    word: a word with a digit (*Tatra 87*, *Dkw f8*, *Lotus 62*)."""
    coded = 0
    for raw in members:
        words = normalize(split_qualifier(raw.display_name)[0]).split()[1:]
        coded += any(ch.isdigit() for w in words for ch in w)
    return coded >= least and 3 * coded >= len(members)


def list_make_kind(brands: Mapping[str, str], lexicon: Lexicon) -> str | None:
    """The make kind of a list whose names the known families ``brands`` (brand -> kind) placed: the
    deepest concept covering every kind, when :data:`LIST_KIND_MIN_FAMILIES` brands placed names and
    it is at least :data:`FAMILY_KIND_DEPTH` deep; else ``None``."""
    if len(brands) < LIST_KIND_MIN_FAMILIES:
        return None
    kinds = set(brands.values())
    common = set.intersection(*(set(lexicon.ancestors(k)) | {k} for k in kinds))
    best = max(((lexicon.depth(c), c) for c in common if c in lexicon.concepts), default=None)
    return best[1] if best and best[0] >= FAMILY_KIND_DEPTH else None


def model_families(
    classes: Sequence[RawClass],
    mapped: Sequence,  # Sequence[MappedClass]: untyped to keep this module below datasets.py
    lexicon: Lexicon,
    common_word: Callable[[str], bool],
    unplaced: str,
    *,
    brands: Mapping[str, str] | None = None,
    other_uses: Mapping[str, str] | None = None,
    companies: Collection[str] = (),
) -> dict[int, ModelFamily]:
    """The members of make / model families whose head-noun placement is to be dropped, by index
    (see the module docstring). ``common_word(word)`` says whether WordNet has the word as a common
    noun (not only as the name of a person or place); members placed ``unplaced`` (the root) join
    a family that has a kind. ``brands`` are the known families that placed names of this list
    (brand -> kind): a family with no kind of its own takes their :func:`list_make_kind`, unless
    ``other_uses`` (first word -> the kind a declared list gives it, however few its names) puts
    its word outside that kind. A member its head noun places under one of ``companies`` (concepts:
    company, business) is the maker itself and stays where it is."""
    make_kind = list_make_kind(brands or {}, lexicon)
    groups: dict[str, list[int]] = {}
    for i, (raw, m) in enumerate(zip(classes, mapped, strict=True)):
        words = normalize(raw.display_name).split()
        if m.new and len(words) > 1:
            groups.setdefault(words[0], []).append(i)
    out: dict[int, ModelFamily] = {}
    for word, members in groups.items():
        if word.endswith("'s"):
            continue  # a possessive names whose things (*Women's lacrosse*, *Kellogg's corn flakes*)
        classic = len(members) >= FAMILY_MIN and not common_word(word)
        coded = make_kind is not None and len(members) >= KNOWN_FAMILY_MIN
        coded = coded and _coded([classes[i] for i in members])
        if not classic and not coded:
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
        agree = len(heads) >= FAMILY_MIN_HEADS and _common_kind(list(heads.values()), lexicon) is not None
        disagree = classic and len(heads) >= FAMILY_MIN_HEADS and not agree
        if not disagree and (not coded or agree):
            continue  # models neither by their heads nor by their codes, or the heads agree on a kind
        kind = _common_kind(list(other.values()), lexicon)
        family = ModelFamily(word, len(members), kind, len(other) if kind else 0)
        used = (other_uses or {}).get(word)
        if kind is None and make_kind and (used is None or make_kind in lexicon.ancestors(used) | {used}):
            family = ModelFamily(word, len(members), make_kind, list_brands=tuple(sorted(brands or {})))
        if family.kind is None and not disagree:
            continue  # a family by its codes alone changes nothing without a kind
        for i in members:
            m = mapped[i]
            if len(normalize(split_qualifier(classes[i].display_name)[0]).split()) < 2:
                continue  # the brand's own entry (*Subaru (Brand)*) is no model
            placed_above = lexicon.ancestors(m.parent) | {m.parent} if m.parent else frozenset()
            if m.placed_by.startswith("head noun") and placed_above & set(companies):
                continue  # the maker itself (*Lockheed Corporation*), placed by its head noun
            if m.placed_by.startswith("head noun") and not disagree and not _coded([classes[i]], 1):
                continue  # a family by its codes: a name without one keeps its head (*Bell peppers*)
            if m.placed_by.startswith("head noun") or (family.kind and m.placed_by == unplaced):
                out[i] = family
    return out
