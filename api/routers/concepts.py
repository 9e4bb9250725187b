"""``/concepts``: one concept, its ancestors, children and descendants."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from bamboo.api.deps import get_store
from bamboo.graph.store import GraphStore

router = APIRouter(prefix="/concepts", tags=["concepts"])

ConceptId = Annotated[str, Path(description="Concept id", examples=["wn:n02084071"])]


class ConceptRefOut(BaseModel):
    id: str
    name: str
    depth: int | None = None
    kind: str | None = None


class ConceptOut(BaseModel):
    id: str = Field(examples=["wn:n02084071"])
    name: str = Field(examples=["dog"])
    lemmas: list[str]
    gloss: str | None
    lexname: str | None
    synset: str | None
    source: str | None
    visual: bool | None
    common: bool | None
    parents: list[ConceptRefOut]


class PageOut(BaseModel):
    items: list[ConceptRefOut]
    next_cursor: str | None


@router.get("/{concept_id}", response_model=ConceptOut)
def get_concept(concept_id: ConceptId, store: Annotated[GraphStore, Depends(get_store)]) -> ConceptOut:
    c = store.concept(concept_id)
    return ConceptOut(
        id=c.id,
        name=c.name,
        lemmas=list(c.lemmas),
        gloss=c.gloss,
        lexname=c.lexname,
        synset=c.synset,
        source=c.source,
        visual=c.visual,
        common=c.common,
        parents=[ConceptRefOut(**vars(p)) for p in store.parents(concept_id)],
    )


@router.get("/{concept_id}/ancestors", response_model=list[ConceptRefOut])
def get_ancestors(concept_id: ConceptId, store: Annotated[GraphStore, Depends(get_store)]) -> list[ConceptRefOut]:
    return [ConceptRefOut(**vars(r)) for r in store.ancestors(concept_id)]


@router.get("/{concept_id}/children", response_model=list[ConceptRefOut])
def get_children(concept_id: ConceptId, store: Annotated[GraphStore, Depends(get_store)]) -> list[ConceptRefOut]:
    return [ConceptRefOut(**vars(r)) for r in store.children(concept_id)]


@router.get("/{concept_id}/descendants", response_model=PageOut)
def get_descendants(
    concept_id: ConceptId,
    store: Annotated[GraphStore, Depends(get_store)],
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> PageOut:
    page = store.descendants(concept_id, cursor=cursor, limit=limit)
    return PageOut(items=[ConceptRefOut(**vars(r)) for r in page.items], next_cursor=page.next_cursor)
