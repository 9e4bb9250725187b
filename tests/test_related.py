"""Related-category sets: the vectorised computation against a plain set-based reference, as properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from bamboo.graph.taxonomy.hierarchy import Taxonomy
from bamboo.graph.taxonomy.invariants import GraphContents
from bamboo.graph.taxonomy.related import related_sets
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
