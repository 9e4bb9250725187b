"""``/tags``: annotators' visual/common votes (paper §3.3) and the queue of concepts to vote on.

Queue order (:func:`bamboo.graph.taxonomy.tags.tag_queue`): concepts that already have some votes on the
tag first (finish what was started), then by the lexicographer-file prior of being visual
(likely-visual concepts first, so that they become crawl queries soonest), then deeper (more
specific) concepts first, then by id. The vote-free part of that order is ranked once per graph
version.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from bamboo.api.deps import Cache, PlannedView, Store, Tags, keyed_post
from bamboo.graph.taxonomy.tags import MAX_VOTES, Tag, tag_queue

__all__ = ["DecisionOut", "QueueItem", "VoteIn", "get_queue", "post_vote", "router"]

router = APIRouter(prefix="/tags", tags=["tags"])


class VoteIn(BaseModel):
    """One annotator's vote on one tag of one concept."""

    annotator: str = Field(min_length=1, max_length=100, pattern=r"^[\w.@+-]+$", examples=["ann-1"])
    concept: str = Field(min_length=1, max_length=200, examples=["wn:n02084071"])
    tag: Tag = Field(examples=["visual"])
    value: bool = Field(examples=[True])


class DecisionOut(BaseModel):
    """The votes on the tag after a vote, and the 3-of-5 decision."""

    concept: str
    tag: str
    yes: int
    no: int
    decision: bool | None


class QueueItem(BaseModel):
    """A concept waiting for votes on the tag."""

    id: str
    name: str
    gloss: str | None
    lexname: str | None
    votes: int
    votes_left: int
    prior_visual: float


@keyed_post(router, "/votes", "Cast (or replace) one annotator's vote; returns the tag decision", DecisionOut)
def post_vote(vote: VoteIn, store: Store, cache: Cache) -> DecisionOut:
    """Record the vote, reload this process's tag view at once, and return the decision.

    Votes at once are counted one after the other (``GraphStore.cast_vote``). Needs the API key
    (401/403). 404 for an unknown concept; 409 when the rules refuse the vote (a sixth annotator on
    the tag, *common* before the concept is decided visual); 503 with Retry-After only when it kept
    meeting other processes' votes.
    """
    at = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
    d = store.cast_vote(annotator=vote.annotator, concept=vote.concept, tag=vote.tag, value=vote.value, at=at)
    cache.invalidate_tags()
    return DecisionOut(concept=d.concept, tag=d.tag, yes=d.yes, no=d.no, decision=d.decision)


@router.get(
    "/queue", response_model=list[QueueItem], summary="Concepts that still need votes, most useful first"
)
def get_queue(
    view: PlannedView,
    tags: Tags,
    tag: Tag = "visual",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    annotator: Annotated[
        str | None, Query(max_length=100, description="skip concepts this annotator voted on")
    ] = None,
) -> list[QueueItem]:
    """The next concepts to vote on for ``tag``, most useful first."""
    out = []
    for cid, votes in tag_queue(view.queue_order, tags.votes_of, tag, limit=limit, annotator=annotator):
        props = view.props[cid]
        out.append(
            QueueItem(
                id=cid,
                name=props.get("name") or cid,
                gloss=props.get("gloss"),
                lexname=props.get("lexname"),
                votes=votes,
                votes_left=MAX_VOTES - votes,
                prior_visual=round(view.crawl.visual_p(cid), 4),
            )
        )
    return out
