"""``/review``: the integration decisions a person should check, and accepting or changing them.

Two kinds of item: a **placement** (a concept WordNet lacks, placed under a parent on weak evidence:
the dataset's domain, the root, a close head-noun sense) and a **class** (a dataset class whose
WordNet sense was chosen on a narrow margin). Both come with their alternatives, least sure first.
Accepting or moving one needs the API key; the decision is recorded as a person's (``method =
"person"``, score 1.0), which later imports keep; it bumps ``graph.version``, so the service's
views show it within a second.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from bamboo.api.deps import Store, keyed_post
from bamboo.graph.taxonomy.model import ReviewItems

router = APIRouter(prefix="/review", tags=["review"])

_ID = r"^[A-Za-z0-9][\w:.\-]*$"
_REVIEWER = Field(min_length=1, max_length=100, pattern=r"^[\w.@+-]+$", examples=["ann-1"])


class PlacementDecision(BaseModel):
    """A reviewer's decision on a placement: accept it, or move the concept under ``parent``."""

    concept: str = Field(min_length=1, max_length=200, pattern=_ID, examples=["bamboo:stop-sign"])
    parent: str | None = Field(
        default=None, max_length=200, pattern=_ID, description="move under this concept; omit to accept"
    )
    reviewer: str = _REVIEWER


class ClassDecision(BaseModel):
    """A reviewer's decision on a dataset class: accept its concept, or re-point it to ``concept``."""

    dataset: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    index: int = Field(ge=0, le=10_000_000)
    concept: str | None = Field(
        default=None, max_length=200, pattern=_ID, description="re-point the class here; omit to accept"
    )
    reviewer: str = _REVIEWER


# The answer is the store's dataclass itself: FastAPI validates it and documents it in OpenAPI from
# its fields and docstring, so the API model cannot drift from what the store returns.
@router.get("", response_model=ReviewItems, summary="Decisions flagged for review, least sure first")
def get_review(
    store: Store,
    dataset: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> ReviewItems:
    """The placements and class mappings flagged for review, least sure first."""
    return store.review_items(dataset=dataset, limit=limit)


@keyed_post(router, "/placements", "Accept a new concept's placement, or move it under another parent")
def post_placement(decision: PlacementDecision, store: Store) -> dict[str, str | None]:
    """Accept a new concept's placement, or move it under ``parent``; recorded as the reviewer's.

    Needs the API key (401/403). 404 when the concept or parent is unknown; 422 when the concept
    was not brought by the datasets or Wikidata; 409 when the move would make an IS_A cycle.
    """
    store.review_placement(decision.concept, by=decision.reviewer, parent=decision.parent)
    return {"concept": decision.concept, "parent": decision.parent, "review": "accepted"}


@keyed_post(router, "/classes", "Accept a dataset class's concept, or re-point the class to another concept")
def post_class(decision: ClassDecision, store: Store) -> dict[str, Any]:
    """Accept a dataset class's concept, or re-point the class to ``concept``; recorded as the reviewer's.

    Needs the API key (401/403). 404 when the concept, the dataset or the class index is unknown.
    """
    store.review_class(decision.dataset, decision.index, by=decision.reviewer, concept=decision.concept)
    return {
        "dataset": decision.dataset,
        "index": decision.index,
        "concept": decision.concept,
        "review": "accepted",
    }
