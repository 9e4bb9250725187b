"""``/tags``: annotators' visual/common votes (paper §3.3) and the queue of concepts to vote on.

Queue order: concepts that already have some votes on the tag first (finish what was started),
then by the lexicographer-file prior of being visual (likely-visual concepts first, so that they
become crawl queries soonest), then deeper (more specific) concepts first, then by id.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from bamboo.api.deps import Cache, Store, Tags, View, require_api_key
from bamboo.graph.tags import MAX_VOTES, Tag, visual_prior

router = APIRouter(prefix="/tags", tags=["tags"])


class VoteIn(BaseModel):
    annotator: str = Field(min_length=1, max_length=100, pattern=r"^[\w.@+-]+$", examples=["ann-1"])
    concept: str = Field(min_length=1, max_length=200, examples=["wn:n02084071"])
    tag: Tag = Field(examples=["visual"])
    value: bool = Field(examples=[True])


class DecisionOut(BaseModel):
    concept: str
    tag: str
    yes: int
    no: int
    decision: bool | None


class QueueItem(BaseModel):
    id: str
    name: str
    gloss: str | None
    lexname: str | None
    votes: int
    votes_left: int
    prior_visual: float


@router.post(
    "/votes",
    response_model=DecisionOut,
    dependencies=[Depends(require_api_key)],
    summary="Cast (or replace) one annotator's vote; returns the tag decision",
)
def post_vote(vote: VoteIn, store: Store, cache: Cache) -> DecisionOut:
    at = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
    d = store.cast_vote(annotator=vote.annotator, concept=vote.concept, tag=vote.tag, value=vote.value, at=at)
    cache.invalidate_tags()
    return DecisionOut(concept=d.concept, tag=d.tag, yes=d.yes, no=d.no, decision=d.decision)


@router.get(
    "/queue", response_model=list[QueueItem], summary="Concepts that still need votes, most useful first"
)
def get_queue(
    view: View,
    tags: Tags,
    tag: Tag = "visual",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    annotator: Annotated[
        str | None, Query(max_length=100, description="skip concepts this annotator voted on")
    ] = None,
) -> list[QueueItem]:
    progress = {cid: n for cid, votes in tags.votes_of.items() if (n := sum(v["tag"] == tag for v in votes))}
    done_by_me = (
        {
            cid
            for cid, votes in tags.votes_of.items()
            if any(v["annotator"] == annotator and v["tag"] == tag for v in votes)
        }
        if annotator
        else set()
    )
    depth = view.taxonomy.root_depths()
    tax = view.taxonomy

    def open_(cid: str) -> bool:
        visual, common = tags.decided(cid) if cid in tags.votes_of else (None, None)
        if tag == "visual":
            return visual is None
        return visual is True and common is None

    candidates = [cid for cid in (str(i) for i in tax.ids) if open_(cid) and cid not in done_by_me]
    candidates = [cid for cid in candidates if progress.get(cid, 0) < MAX_VOTES]

    def key(cid: str) -> tuple[int, float, int, str]:
        lex = view.props[cid].get("lexname")
        return (-progress.get(cid, 0), -visual_prior(lex), -int(depth[tax.index(cid)]), cid)

    out = []
    for cid in sorted(candidates, key=key)[:limit]:
        props = view.props[cid]
        out.append(
            QueueItem(
                id=cid,
                name=props.get("name") or cid,
                gloss=props.get("gloss"),
                lexname=props.get("lexname"),
                votes=progress.get(cid, 0),
                votes_left=MAX_VOTES - progress.get(cid, 0),
                prior_visual=visual_prior(props.get("lexname")),
            )
        )
    return out
