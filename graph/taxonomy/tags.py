"""Concept tags (paper §3.3): *visual* and *common*, each decided by 3 of 5 annotator votes.

A concept is visual when at least :data:`VOTES_TO_DECIDE` of at most :data:`MAX_VOTES` annotators
say yes, non-visual when that many say no, undecided otherwise. *Common* is asked only of
concepts already decided visual. Each annotator has one current vote per concept and tag (a re-vote
replaces it); every vote cast is also kept in an append-only log.

Before any votes, a prior by lexicographer file orders the tag queue and stands in for the tag
where callers ask for it (crawl queries over untagged concepts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from bamboo.graph.taxonomy.model import Vote

__all__ = [
    "MAX_VOTES",
    "VISUAL_PRIOR",
    "VOTES_TO_DECIDE",
    "QueueOrder",
    "Tag",
    "TagDecision",
    "Tally",
    "decide",
    "queue_order",
    "tag_queue",
    "tally",
    "visual_prior",
]

Tag = Literal["visual", "common"]
VOTES_TO_DECIDE = 3
MAX_VOTES = 5

#: Prior probability that a concept of a WordNet lexicographer file is visual (depictable).
VISUAL_PRIOR: dict[str, float] = {
    "noun.animal": 0.95, "noun.plant": 0.9, "noun.artifact": 0.9, "noun.food": 0.85, "noun.object": 0.8,
    "noun.body": 0.75, "noun.person": 0.6, "noun.substance": 0.55, "noun.location": 0.5, "noun.shape": 0.5,
    "noun.phenomenon": 0.4, "noun.event": 0.3, "noun.group": 0.3, "noun.act": 0.25, "noun.quantity": 0.1,
    "noun.possession": 0.1, "noun.state": 0.1, "noun.process": 0.15, "noun.communication": 0.15,
    "noun.attribute": 0.05, "noun.cognition": 0.05, "noun.feeling": 0.05, "noun.motive": 0.02,
    "noun.relation": 0.02, "noun.time": 0.05, "noun.Tops": 0.1,
}  # fmt: skip


def visual_prior(lexname: str | None) -> float:
    """Prior probability of *visual* for a lexicographer file.

    Args:
        lexname: A WordNet lexicographer file such as ``noun.animal``; None or unknown ones (e.g.
            Wikidata concepts) get 0.3.
    """
    return VISUAL_PRIOR.get(lexname or "", 0.3)


@dataclass(frozen=True)
class Tally:
    """The yes/no votes on one question and what the 3-of-5 rule makes of them.

    The one place the rule lives: concept tags, the service's views and the verification tasks
    all ask it.

    Attributes:
        yes: Votes for.
        no: Votes against.
    """

    yes: int
    no: int

    @property
    def votes(self) -> int:
        """Votes cast."""
        return self.yes + self.no

    @property
    def votes_left(self) -> int:
        """Votes that may still be cast (never below zero)."""
        return max(MAX_VOTES - self.votes, 0)

    @property
    def value(self) -> bool | None:
        """True once :data:`VOTES_TO_DECIDE` votes say yes, False once that many say no, else None."""
        if self.yes >= VOTES_TO_DECIDE:
            return True
        if self.no >= VOTES_TO_DECIDE:
            return False
        return None

    @property
    def decided(self) -> bool:
        """Whether one side has reached :data:`VOTES_TO_DECIDE`."""
        return self.value is not None

    @property
    def open(self) -> bool:
        """Whether a new annotator may still vote: undecided and fewer than :data:`MAX_VOTES` votes."""
        return not self.decided and self.votes < MAX_VOTES


def tally(values: Iterable[object]) -> Tally:
    """Count yes/no votes (truthy values are yes) and apply the 3-of-5 rule.

    Args:
        values: One vote per annotator.

    Returns:
        The counts and the decision.

    >>> tally([True, True, False, True]).value, tally([False] * 3).value, tally([1, 0]).decided
    (True, False, False)
    """
    yes = no = 0
    for v in values:
        if v:
            yes += 1
        else:
            no += 1
    return Tally(yes, no)


def decide(yes: int, no: int) -> bool | None:
    """The tag decision from vote counts (``Tally(yes, no).value``).

    >>> decide(3, 1), decide(2, 3), decide(2, 2)
    (True, False, None)
    """
    return Tally(yes, no).value


@dataclass(frozen=True)
class QueueOrder:
    """Concepts in tag-queue order before any votes, and each one's place in it.

    Depends on the graph only, so callers build it once per graph version (:func:`queue_order`).

    Attributes:
        ids: Likely visual first, then deeper (more specific), then by id.
        rank: Concept id -> its index in ``ids``.
    """

    ids: tuple[str, ...]
    rank: Mapping[str, int]


def queue_order(ids: Iterable[str], prior: Callable[[str], float], depth: Callable[[str], int]) -> QueueOrder:
    """Rank every concept once for the tag queue: likely visual first, then deeper, then by id.

    Args:
        ids: Every concept id.
        prior: A concept's probability of *visual* before votes
            (:meth:`bamboo.graph.crawl.plan.CrawlPlan.visual_p`).
        depth: A concept's depth below the root.
    """
    ordered = tuple(sorted(ids, key=lambda cid: (-round(prior(cid), 6), -depth(cid), cid)))
    return QueueOrder(ids=ordered, rank={cid: i for i, cid in enumerate(ordered)})


def tag_queue(
    order: QueueOrder,
    votes_of: Mapping[str, Sequence[Vote]],
    tag: Tag,
    *,
    limit: int,
    annotator: str | None = None,
) -> list[tuple[str, int]]:
    """The next concepts to vote on for ``tag``, with the votes each already has on it.

    Concepts with some votes on the tag come first (most votes first, to finish what was started),
    then the rest in ``order``. Only concepts open for ``tag`` are listed: undecided on *visual*,
    or decided visual and undecided on *common*, with fewer than :data:`MAX_VOTES` votes. Looks at
    the voted concepts and walks ``order`` only as far as ``limit`` needs.

    Args:
        order: The graph's :func:`queue_order`.
        votes_of: Concept id -> its current votes.
        tag: The tag to vote on.
        limit: Most concepts returned.
        annotator: Leave out the concepts this annotator voted on for ``tag``.

    Returns:
        ``(concept id, votes on tag)`` pairs, most useful first.
    """

    def wanted(cid: str) -> Tally | None:
        votes = votes_of.get(cid, ())
        visual = tally(v.value for v in votes if v.tag == "visual")
        mine = visual if tag == "visual" else tally(v.value for v in votes if v.tag == "common")
        if (tag == "common" and visual.value is not True) or not mine.open:
            return None
        if annotator and any(v.annotator == annotator and v.tag == tag for v in votes):
            return None
        return mine

    voted = [
        (cid, t.votes)
        for cid in votes_of
        if cid in order.rank and (t := wanted(cid)) is not None and (t.votes or tag == "common")
    ]
    out = sorted(voted, key=lambda x: (-x[1], order.rank[x[0]]))[:limit]
    if tag == "common":  # nothing is decided visual without votes: every candidate is in votes_of
        return out
    for cid in order.ids:
        if len(out) >= limit:
            break
        if cid in votes_of and ((t := wanted(cid)) is None or t.votes):
            continue
        out.append((cid, 0))
    return out


@dataclass(frozen=True)
class TagDecision:
    """Votes on one tag of one concept and the decision they give.

    Attributes:
        concept: The concept id.
        tag: The tag voted on.
        yes: Votes for.
        no: Votes against.
        decision: The 3-of-5 decision (None: undecided).
    """

    concept: str
    tag: Tag
    yes: int
    no: int
    decision: bool | None
