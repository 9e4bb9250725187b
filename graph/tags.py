"""Concept tags (paper §3.3): *visual* and *common*, each decided by 3 of 5 annotator votes.

A concept is visual when at least :data:`VOTES_TO_DECIDE` of at most :data:`MAX_VOTES` annotators
say yes, non-visual when that many say no, undecided otherwise. *Common* is asked only of
concepts already decided visual. Each annotator has one current vote per concept and tag (a re-vote
replaces it); every vote cast is also kept in an append-only log.

Before any votes, a prior by lexicographer file orders the tag queue and stands in for the tag
where callers ask for it (crawl queries over untagged concepts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "MAX_VOTES",
    "VISUAL_PRIOR",
    "VOTES_TO_DECIDE",
    "Tag",
    "TagDecision",
    "decide",
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
    """Prior probability of *visual* for a lexicographer file (0.3 for unknown ones, e.g. Wikidata)."""
    return VISUAL_PRIOR.get(lexname or "", 0.3)


def decide(yes: int, no: int) -> bool | None:
    """The tag decision from vote counts: True / False once one side has 3 votes, else None.

    >>> decide(3, 1), decide(2, 3), decide(2, 2)
    (True, False, None)
    """
    if yes >= VOTES_TO_DECIDE:
        return True
    if no >= VOTES_TO_DECIDE:
        return False
    return None


@dataclass(frozen=True)
class TagDecision:
    """Votes on one tag of one concept and the decision they give."""

    concept: str
    tag: Tag
    yes: int
    no: int
    decision: bool | None
