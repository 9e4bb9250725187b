"""Related-category sets: the vectorised computation against a plain set-based reference, as properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from bamboo.graph.taxonomy.hierarchy import Taxonomy
from bamboo.graph.taxonomy.invariants import GraphContents
from bamboo.graph.taxonomy.related import (
    DEFAULT_RULE,
    InformationBound,
    Levels,
    Rule,
    ShareBound,
    WuPalmerBound,
    explain,
    related_sets,
)
from bamboo.graph.taxonomy.snapshot import taxonomy_from_contents
from bamboo.graph.taxonomy.wordnet import WordNetNouns


@pytest.fixture(scope="module")
def tax(wordnet_nouns: WordNetNouns) -> Taxonomy:
    concepts = [{"id": c["id"], **c["props"]} for c in wordnet_nouns.concepts]
    return taxonomy_from_contents(GraphContents(concepts, wordnet_nouns.edges))


def reference(tax: Taxonomy, query: str, space: list[str], levels: int) -> list[int]:
    """The definition, spelled out with Python sets (slow, obviously right)."""
    depths = tax.ancestor_depths(query)
    near = {query} | {a for a, d in depths.items() if d <= levels}
    out = []
    for j, cls in enumerate(space):
        up = tax.ancestors(cls) | {cls}
        if near & up or cls in depths:
            out.append(j)
    return out


# Queries and label spaces drawn from the animal subtree (dense enough to give non-empty sets) and anywhere.
@st.composite
def cases(draw: st.DrawFn, tax: Taxonomy) -> tuple[list[str], list[str], int]:
    ids = tax.ids
    animals = sorted(tax.descendants("wn:n00015388"))
    pick = st.one_of(st.sampled_from(animals), st.integers(0, len(ids) - 1).map(lambda i: str(ids[i])))
    queries = draw(st.lists(pick, min_size=1, max_size=5))
    space = draw(st.lists(pick, min_size=1, max_size=40))
    if draw(st.booleans()):  # make sure the query itself is sometimes in the label space
        space.insert(draw(st.integers(0, len(space))), queries[0])
    return queries, space, draw(st.integers(0, 3))


def test_matches_reference_and_contains_own_members(tax: Taxonomy) -> None:
    @given(cases(tax))
    @settings(max_examples=150, deadline=None, derandomize=True)
    def check(case: tuple[list[str], list[str], int]) -> None:
        queries, space, levels = case
        sets = related_sets(tax, queries, space, levels=levels)
        for i, q in enumerate(queries):
            got = sets[i].tolist()
            assert got == reference(tax, q, space, levels)
            # Property: every label-space class that is the query, or above/below it, is related.
            family = {q} | tax.ancestors(q) | tax.descendants(q)
            assert {j for j, c in enumerate(space) if c in family} <= set(got)
        # Property: more levels never relate fewer classes.
        wider = related_sets(tax, queries, space, levels=levels + 1)
        for i in range(len(queries)):
            assert set(sets[i].tolist()) <= set(wider[i].tolist())

    check()


def test_dog_against_imagenet_style_space(tax: Taxonomy) -> None:
    space = ["wn:n02099601", "wn:n02121620", "wn:n04194289", "wn:n02083346", "wn:n02115641"]
    sets = related_sets(tax, ["wn:n02084071"], space, levels=1)
    assert sets[0].tolist() == [0, 3, 4]
    mask = sets.mask().toarray()
    assert mask.shape == (1, 5) and mask[0].tolist() == [True, False, False, True, True]
    assert np.array_equal(sets.indptr, [0, 3])


def test_bad_input(tax: Taxonomy) -> None:
    from bamboo.errors import ConceptNotFound

    with pytest.raises(ConceptNotFound):
        related_sets(tax, ["wn:n99999999"], ["wn:n02084071"])
    with pytest.raises(ValueError, match="levels"):
        related_sets(tax, ["wn:n02084071"], ["wn:n02084071"], levels=-1)


# --- rules bounded by meaning: each against its definition, brute force over the DAG ---------------


class Brute:
    """The rules' definitions with Python sets and BFS (slow, obviously right); counts memoised."""

    def __init__(self, tax: Taxonomy) -> None:
        self.tax = tax
        self._below: dict[str, int] = {}

    def descendants(self, a: str) -> int:
        if a not in self._below:
            self._below[a] = len(self.tax.descendants(a))
        return self._below[a]

    def depth(self, a: str) -> int:
        """Wu-Palmer depth: nodes on the shortest path up to a root, the root counting 1."""
        up = self.tax.ancestor_depths(a)
        roots = [d for c, d in up.items() if not self.tax.parents(c)]
        return 1 + (min(roots) if roots else 0)

    def admits(self, rule: Rule, q: str, a: str, space: list[str]) -> bool:
        if isinstance(rule, ShareBound):
            under = sum(1 for c in space if c == a or a in self.tax.ancestors(c))
            return under <= rule.max_share * len(space)
        if isinstance(rule, InformationBound):
            ic = 1 - math.log1p(self.descendants(a)) / math.log(len(self.tax))
            return ic >= rule.min_ic
        assert isinstance(rule, WuPalmerBound)
        dq, da = self.depth(q), self.depth(a)
        return 2 * da / (dq + da) >= rule.min_similarity - 1e-9

    def reached(self, rule: Rule, q: str, space: list[str]) -> set[str]:
        seen, todo = {q}, [q]
        while todo:
            for p in self.tax.parents(todo.pop()):
                if p not in seen and self.admits(rule, q, p, space):
                    seen.add(p)
                    todo.append(p)
        return seen

    def related(self, rule: Rule, q: str, space: list[str]) -> list[int]:
        near, above = self.reached(rule, q, space), self.tax.ancestors(q)
        return [j for j, c in enumerate(space) if near & (self.tax.ancestors(c) | {c}) or c in above]


@st.composite
def rule_cases(draw: st.DrawFn, tax: Taxonomy) -> tuple[list[str], list[str], Rule]:
    queries, space, _ = draw(cases(tax))
    rule = draw(
        st.one_of(
            st.sampled_from([0.0, 0.05, 0.1, 0.2, 0.5, 1.0]).map(ShareBound),
            st.sampled_from([0.2, 0.4, 0.6, 0.8]).map(InformationBound),
            st.sampled_from([0.5, 0.8, 0.9, 1.0]).map(WuPalmerBound),
        )
    )
    return queries, space, rule


def test_rules_match_their_definitions(tax: Taxonomy) -> None:
    brute = Brute(tax)

    @given(rule_cases(tax))
    @settings(max_examples=60, deadline=None, derandomize=True)
    def check(case: tuple[list[str], list[str], Rule]) -> None:
        queries, space, rule = case
        sets = related_sets(tax, queries, space, rule=rule)
        for i, q in enumerate(queries):
            got = sets[i].tolist()
            assert got == brute.related(rule, q, space), (q, rule)
            family = {q} | tax.ancestors(q) | tax.descendants(q)
            assert {j for j, c in enumerate(space) if c in family} <= set(got)

    check()


def test_share_bound_holds(tax: Taxonomy) -> None:
    """No set reaches past its own subtree into an ancestor holding more than the share; looser
    bounds never relate fewer classes."""

    @given(cases(tax), st.sampled_from([0.0, 0.05, 0.1, 0.2, 0.5]))
    @settings(max_examples=40, deadline=None, derandomize=True)
    def check(case: tuple[list[str], list[str], int], share: float) -> None:
        queries, space, _ = case
        own = related_sets(tax, queries, space, levels=0)
        sets = related_sets(tax, queries, space, rule=ShareBound(share))
        looser = related_sets(tax, queries, space, rule=ShareBound(min(1.0, share * 2 + 0.05)))
        for i, q in enumerate(queries):
            climb = explain(tax, q, space, ShareBound(share))
            extra = set(sets[i].tolist()) - set(own[i].tolist())
            tops = [a.split(" ")[0] for a in climb.reached]
            covers = [sum(1 for c in space if c == a or a in tax.ancestors(c)) for a in tops]
            assert all(c <= share * len(space) for c in covers)
            assert len(extra) <= sum(covers)
            assert not extra or tops
            assert set(sets[i].tolist()) <= set(looser[i].tolist())
            assert climb.size == len(sets[i]) and climb.own == len(own[i])

    check()


def test_levels_keyword_and_rule_agree(tax: Taxonomy) -> None:
    space = ["wn:n02099601", "wn:n02121620", "wn:n04194289", "wn:n02083346", "wn:n02115641"]
    for k in range(4):
        assert related_sets(tax, ["wn:n02084071"], space, levels=k).as_dict() == (
            related_sets(tax, ["wn:n02084071"], space, rule=Levels(k)).as_dict()
        )
    assert related_sets(tax, ["wn:n02084071"], space).as_dict() == (
        related_sets(tax, ["wn:n02084071"], space, rule=DEFAULT_RULE).as_dict()
    )
    with pytest.raises(ValueError, match="not both"):
        related_sets(tax, ["wn:n02084071"], space, levels=1, rule=ShareBound(0.1))
    with pytest.raises(ValueError, match="max_share"):
        related_sets(tax, ["wn:n02084071"], space, rule=ShareBound(1.5))


def test_default_rule_bounds_high_queries_on_imagenet_1k(tax: Taxonomy) -> None:
    """The issue's figures: at one level *person* related 41 % of ImageNet-1K, *bird* 34 %. Under the
    default rule they stay within 20 %, beyond their own subtrees (*animal*'s own is 39.8 %)."""
    timm_data = pytest.importorskip("timm.data")
    space = [f"wn:{w}" for w in timm_data.ImageNetInfo().label_names()]
    queries = {
        "person": "wn:n00007846",
        "bird": "wn:n01503061",
        "dog": "wn:n02084071",
        "animal": "wn:n00015388",
    }
    old = related_sets(tax, list(queries.values()), space, levels=1)
    new = related_sets(tax, list(queries.values()), space)
    own = related_sets(tax, list(queries.values()), space, levels=0)
    assert len(old[0]) == 414 and len(old[1]) == 337
    for i, name in enumerate(queries):
        extra = len(set(new[i].tolist()) - set(own[i].tolist()))
        assert extra <= 0.2 * len(space), name
        if name != "animal":
            assert len(new[i]) <= 0.2 * len(space), name
    bird = explain(tax, "wn:n01503061", space)
    assert bird.reached == [] and "vertebrate" in bird.stopped[0][0] and "33.7%" in bird.stopped[0][1]
