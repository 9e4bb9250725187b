"""``/concepts``: one concept page, its ancestors, children, descendants and tag votes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from bamboo.api.deps import Store
from bamboo.graph.search import labels_of
from bamboo.graph.tags import MAX_VOTES, decide

router = APIRouter(prefix="/concepts", tags=["concepts"])

ConceptId = Annotated[str, Path(description="Concept id", examples=["wn:n02084071"])]


class ConceptRefOut(BaseModel):
    id: str = Field(examples=["wn:n02083346"])
    name: str = Field(examples=["canine"])
    depth: int | None = Field(None, description="IS_A edges on the shortest path (ancestors)")
    kind: str | None = Field(None, description="edge kind for direct parents/children: hypernym | instance")


class DatasetClassRef(BaseModel):
    dataset: str = Field(examples=["imagenet-1k"])
    index: int = Field(examples=[207])
    raw_name: str | None = None


class TagOut(BaseModel):
    tag: str
    yes: int
    no: int
    votes_left: int = Field(description="votes that may still be cast (at most 5 per tag)")
    decision: bool | None
    votes: list[dict[str, Any]]


class TagsOut(BaseModel):
    concept: str
    visual: TagOut
    common: TagOut


class ConceptOut(BaseModel):
    id: str = Field(examples=["wn:n02084071"])
    name: str = Field(examples=["dog"])
    lemmas: list[str]
    gloss: str | None = None
    lexname: str | None = None
    synset: str | None = None
    sources: list[str]
    visual: bool | None = None
    common: bool | None = None
    labels: dict[str, list[str]] = Field(description="labels per language (en from lemmas)")
    parents: list[ConceptRefOut]
    datasets: list[DatasetClassRef]
    tags: TagsOut


class PageOut(BaseModel):
    items: list[ConceptRefOut]
    next_cursor: str | None = Field(None, description="pass as ?cursor= for the next page; null at the end")


def tags_out(concept_id: str, votes: list[dict[str, Any]]) -> TagsOut:
    def one(tag: str) -> TagOut:
        mine = [v for v in votes if v["tag"] == tag]
        yes = sum(1 for v in mine if v["value"])
        no = len(mine) - yes
        return TagOut(
            tag=tag, yes=yes, no=no, votes_left=MAX_VOTES - len(mine), decision=decide(yes, no), votes=mine
        )

    return TagsOut(concept=concept_id, visual=one("visual"), common=one("common"))


@router.get("/{concept_id}", response_model=ConceptOut, summary="One concept with everything known about it")
def get_concept(concept_id: ConceptId, store: Store) -> ConceptOut:
    page = store.concept_page(concept_id)
    c = page["concept"]
    props = {"name": c.name, "lemmas": list(c.lemmas), **c.extra}
    sources = [c.source] if c.source else []
    sources += [s for s in c.extra.get("sources", []) if s not in sources]
    return ConceptOut(
        id=c.id,
        name=c.name,
        lemmas=list(c.lemmas),
        gloss=c.gloss,
        lexname=c.lexname,
        synset=c.synset,
        sources=sources,
        visual=c.visual,
        common=c.common,
        labels=labels_of(props),
        parents=[ConceptRefOut(**p) for p in page["parents"]],
        datasets=[DatasetClassRef(**d) for d in page["datasets"]],
        tags=tags_out(c.id, page["votes"]),
    )


@router.get("/{concept_id}/ancestors", response_model=list[ConceptRefOut], summary="All ancestors, nearest first")
def get_ancestors(concept_id: ConceptId, store: Store) -> list[ConceptRefOut]:
    return [ConceptRefOut(**vars(r)) for r in store.ancestors(concept_id)]


@router.get("/{concept_id}/children", response_model=list[ConceptRefOut], summary="Direct children")
def get_children(concept_id: ConceptId, store: Store) -> list[ConceptRefOut]:
    return [ConceptRefOut(**vars(r)) for r in store.children(concept_id)]


@router.get("/{concept_id}/descendants", response_model=PageOut, summary="Descendants in id order, paged")
def get_descendants(
    concept_id: ConceptId,
    store: Store,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> PageOut:
    page = store.descendants(concept_id, cursor=cursor, limit=limit)
    return PageOut(items=[ConceptRefOut(**vars(r)) for r in page.items], next_cursor=page.next_cursor)


@router.get("/{concept_id}/tags", response_model=TagsOut, summary="Votes and decisions of the visual/common tags")
def get_tags(concept_id: ConceptId, store: Store) -> TagsOut:
    return tags_out(concept_id, store.votes(concept_id))
