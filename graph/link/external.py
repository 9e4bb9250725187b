"""Parents proposed for names by a source outside WordNet (Wikidata): the hand-off between the room that
finds them (:mod:`bamboo.graph.wikidata.names`) and the import that places by them
(:mod:`bamboo.graph.mapping.datasets`), two rooms that may not import each other."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["NamePlacement", "PlaceNames"]


@dataclass(frozen=True)
class NamePlacement:
    """What an outside source says about one name.

    Attributes:
        name: The name looked up, as the list wrote it.
        concept: The proposed parent, ``None`` when the source settles none (no item, no path to a
            known concept, several places that nothing separates, or only places outside the domain).
        score: Confidence in ``concept`` (0 when there is none).
        evidence: Where it comes from, e.g. ``wikidata Q1 'x' (label): Q1 -P31-> Q2 -> Q3 = wn:n...``.
        qid: The item the name was linked to (empty when none was chosen).
        review: Whether a person should look at it.
        candidates: Every concept the name's items lead to, the chosen one first.
        note: Why nothing was placed, or how the choice was made.
    """

    name: str
    concept: str | None
    score: float = 0.0
    evidence: str = ""
    qid: str = ""
    review: bool = False
    candidates: tuple[str, ...] = ()
    note: str = ""


class PlaceNames(Protocol):
    """Proposes parents for names; ``domain`` holds the concepts the list's classes fall under (empty
    when unknown); ``freebase`` the Freebase id the list gives a name, if any (Open Images' MIDs). A
    name without a proposal may be left out of the answer."""

    def __call__(
        self, names: Sequence[str], domain: Sequence[str], *, freebase: Mapping[str, str] | None = None
    ) -> Mapping[str, NamePlacement]: ...
