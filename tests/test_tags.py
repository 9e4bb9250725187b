"""The 3-of-5 tally and the tag queue, checked without a database."""

from __future__ import annotations

from typing import Any

from hypothesis import given, strategies as st

from bamboo.graph.taxonomy.model import Vote, keyset_page
from bamboo.graph.taxonomy.tags import (
    MAX_VOTES,
    VOTES_TO_DECIDE,
    Tag,
    decide,
    queue_order,
    tag_queue,
    tally,
    visual_prior,
)

votes_strategy = st.lists(st.booleans(), max_size=MAX_VOTES)


@given(votes_strategy)
def test_tally_counts_and_decides(values: list[bool]) -> None:
    t = tally(values)
    assert (t.yes, t.no, t.votes) == (sum(values), len(values) - sum(values), len(values))
    assert t.votes_left == MAX_VOTES - len(values)
    assert t.value == decide(t.yes, t.no)
    assert t.decided == (t.value is not None)
    if t.value is True:
        assert t.yes >= VOTES_TO_DECIDE > t.no  # within 5 votes both sides cannot reach 3
    elif t.value is False:
        assert t.no >= VOTES_TO_DECIDE > t.yes
    else:
        assert t.yes < VOTES_TO_DECIDE and t.no < VOTES_TO_DECIDE
    assert t.open == (not t.decided and len(values) < MAX_VOTES)


@given(st.lists(st.booleans(), max_size=MAX_VOTES - 1), st.booleans())
def test_tally_one_more_vote_never_undoes_a_decision(values: list[bool], extra: bool) -> None:
    before, after = tally(values), tally([*values, extra])
    if before.decided:
        assert after.value == before.value


def test_tally_examples() -> None:
    assert tally([True, True, True]).value is True
    assert tally([False, False, True, False]).value is False
    assert tally([True, False, True, False]).value is None
    assert tally([]).open and not tally([True, False, True, False, False]).open


IDS = [f"c{i}" for i in range(8)]


def _reference_queue(
    ids: list[str], lex: dict[str, str], depth: dict[str, int], votes_of: dict[str, list[dict[str, Any]]],
    tag: Tag, limit: int, annotator: str | None,
) -> list[tuple[str, int]]:  # fmt: skip
    """The ranking the router did before: every concept sorted on every request."""
    from bamboo.graph.taxonomy.tags import visual_prior

    def on(cid: str, t: str) -> list[dict[str, Any]]:
        return [v for v in votes_of.get(cid, []) if v["tag"] == t]

    progress = {cid: len(on(cid, tag)) for cid in ids}

    def open_(cid: str) -> bool:
        visual = decide(*_counts(on(cid, "visual")))
        common = decide(*_counts(on(cid, "common")))
        return visual is None if tag == "visual" else visual is True and common is None

    mine = (
        {cid for cid in ids if any(v["annotator"] == annotator for v in on(cid, tag))} if annotator else set()
    )
    cands = [c for c in ids if open_(c) and c not in mine and progress[c] < MAX_VOTES]
    cands.sort(key=lambda c: (-progress[c], -visual_prior(lex[c]), -depth[c], c))
    return [(c, progress[c]) for c in cands[:limit]]


def _counts(votes: list[dict[str, Any]]) -> tuple[int, int]:
    yes = sum(1 for v in votes if v["value"])
    return yes, len(votes) - yes


vote = st.fixed_dictionaries(
    {
        "annotator": st.sampled_from(["a1", "a2", "a3", "a4", "a5"]),
        "tag": st.sampled_from(["visual", "common"]),
        "value": st.booleans(),
    }
)


@given(
    st.dictionaries(st.sampled_from(IDS), st.sampled_from(["noun.animal", "noun.act", "noun.food", None])),
    st.dictionaries(st.sampled_from(IDS), st.integers(0, 4)),
    st.dictionaries(st.sampled_from(IDS), st.lists(vote, max_size=8)),
    st.sampled_from(["visual", "common"]),
    st.integers(1, 10),
    st.sampled_from([None, "a1"]),
)
def test_tag_queue_matches_full_ranking(
    lex: dict[str, str], depth: dict[str, int], raw: dict[str, list[dict[str, Any]]], tag: Tag, limit: int,
    annotator: str | None,
) -> None:  # fmt: skip
    lex = {c: lex.get(c) for c in IDS}  # type: ignore[misc]
    depth = {c: depth.get(c, 0) for c in IDS}
    votes_of = {c: list({v["annotator"] + v["tag"]: v for v in vs}.values()) for c, vs in raw.items() if vs}
    order = queue_order(IDS, prior=lambda c: visual_prior(lex[c]), depth=depth.__getitem__)
    typed = {c: [Vote(concept=c, at=None, **v) for v in vs] for c, vs in votes_of.items()}
    got = tag_queue(order, typed, tag, limit=limit, annotator=annotator)
    assert got == _reference_queue(IDS, lex, depth, votes_of, tag, limit, annotator)


def test_keyset_page_walks_everything_once() -> None:
    ids = [f"id{i:02d}" for i in range(23)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        chunk, cursor = keyset_page(ids, cursor, 5)
        seen += chunk
        if cursor is None:
            break
    assert seen == ids
    assert keyset_page(ids, "id20", 0) == (ids[21:], None)
    assert keyset_page(ids, None, 23) == (ids, None)
