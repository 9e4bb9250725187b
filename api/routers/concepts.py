"""``/concepts``: one concept page, its ancestors, children, descendants and tag votes.

Answered from the service's in-memory view (see :mod:`bamboo.api.cache`), which follows the
graph within a second of any change.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field, TypeAdapter

from bamboo.api.cache import TagView
from bamboo.api.deps import Tags, View
from bamboo.graph.taxonomy.model import Vote, keyset_page
from bamboo.graph.taxonomy.search import labels_of
from bamboo.graph.taxonomy.tags import MAX_VOTES, tally
from bamboo.graph.view import GraphView

__all__ = [
    "ConceptOut",
    "ConceptRefOut",
    "DatasetClassRef",
    "PageOut",
    "TagOut",
    "TagsOut",
    "concept_out",
    "get_ancestors",
    "get_children",
    "get_concept",
    "get_descendants",
    "get_tags",
    "router",
    "tags_out",
]

router = APIRouter(prefix="/concepts", tags=["concepts"])

ConceptId = Annotated[str, Path(description="Concept id", examples=["wn:n02084071"])]


class ConceptRefOut(BaseModel):
    """A concept named in a relation, with what is known of the edge."""

    id: str = Field(examples=["wn:n02083346"])
    name: str = Field(examples=["canine"])
    depth: int | None = Field(None, description="IS_A edges on the shortest path (ancestors)")
    kind: str | None = Field(
        None, description="edge kind for direct parents/children: hypernym | instance | link | wikidata ..."
    )
    source: str | None = Field(None, description="who put the IS_A edge there (parents only)")
    method: str | None = Field(None, description="linking strategy of a link edge: chain | head | embedding")
    confidence: float | None = Field(None, description="the linking score of a link edge")
    children: int | None = Field(None, description="direct children (children?counts=true)")
    descendants: int | None = Field(None, description="all descendants (children?counts=true)")


class DatasetClassRef(BaseModel):
    """A dataset class mapped to the concept."""

    dataset: str = Field(examples=["imagenet-1k"])
    index: int = Field(examples=[207])
    raw_name: str | None = None
    method: str | None = Field(None, description="wnid | synset | lemma | sense | new | person")
    confidence: float | None = None


class TagOut(BaseModel):
    """The votes on one tag and the 3-of-5 decision."""

    tag: str
    yes: int
    no: int
    votes_left: int = Field(description="votes that may still be cast (at most 5 per tag)")
    decision: bool | None
    votes: list[dict[str, Any]]


class TagsOut(BaseModel):
    """Both tags of a concept."""

    concept: str
    visual: TagOut
    common: TagOut


class ConceptOut(BaseModel):
    """One concept with its labels, parents, dataset classes and tags."""

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
    """One page of a listing in id order."""

    items: list[ConceptRefOut]
    next_cursor: str | None = Field(None, description="pass as ?cursor= for the next page; null at the end")


def tags_out(concept_id: str, votes: list[Vote]) -> TagsOut:
    """Both tags of a concept: counts, decision and the votes themselves."""

    def one(tag: str) -> TagOut:
        mine = [v for v in votes if v.tag == tag]
        t = tally(v.value for v in mine)
        return TagOut(
            tag=tag,
            yes=t.yes,
            no=t.no,
            votes_left=MAX_VOTES - t.votes,
            decision=t.value,
            votes=[v.without_concept() for v in mine],
        )

    return TagsOut(concept=concept_id, visual=one("visual"), common=one("common"))


def _ref(view: GraphView, cid: str, **extra: Any) -> ConceptRefOut:
    return ConceptRefOut(id=cid, name=view.taxonomy.name(cid), **extra)


def concept_out(view: GraphView, tags: TagView, concept_id: str) -> ConceptOut:
    """The concept page, from the in-memory views.

    Raises:
        ConceptNotFound: no such concept (404).
    """
    tax = view.taxonomy
    tax.index(concept_id)  # ConceptNotFound -> 404
    props = view.props[concept_id]
    sources = [props["source"]] if props.get("source") else []
    sources += [s for s in props.get("sources", []) if s not in sources]
    visual, common = tags.decided(concept_id)
    votes = tags.votes_of.get(concept_id, [])
    return ConceptOut(
        id=concept_id,
        name=props.get("name") or concept_id,
        lemmas=list(props.get("lemmas") or []),
        gloss=props.get("gloss"),
        lexname=props.get("lexname"),
        synset=props.get("synset"),
        sources=sources,
        visual=visual,
        common=common,
        labels=labels_of(props),
        parents=[
            _ref(view, p, kind=view.edge_table.kind(concept_id, p), **view.edge_table.info(concept_id, p))
            for p in sorted(tax.parents(concept_id))
        ],
        datasets=[DatasetClassRef(**d.without_concept()) for d in view.datasets_of.get(concept_id, [])],
        tags=tags_out(concept_id, votes),
    )


_REFS = TypeAdapter(list[ConceptRefOut])


# The two hot endpoints hand FastAPI their JSON ready-made: a model they built themselves needs
# no second validation against response_model (which stays, for the OpenAPI schema). At 300K
# concepts under wrk that validation was about a tenth of a request.
@router.get("/{concept_id}", response_model=ConceptOut, summary="One concept with everything known about it")
async def get_concept(concept_id: ConceptId, view: View, tags: Tags) -> Response:
    """One concept with everything known about it."""
    return Response(
        concept_out(view, tags, concept_id).model_dump_json(by_alias=True), media_type="application/json"
    )


@router.get(
    "/{concept_id}/ancestors", response_model=list[ConceptRefOut], summary="All ancestors, nearest first"
)
async def get_ancestors(concept_id: ConceptId, view: View) -> Response:
    """All ancestors, nearest first, each with its depth (in-memory and small: answered on the
    event loop, no thread-pool hop)."""
    depths = view.taxonomy.ancestor_depths(concept_id)
    refs = [_ref(view, a, depth=d) for a, d in sorted(depths.items(), key=lambda x: (x[1], x[0]))]
    return Response(_REFS.dump_json(refs, by_alias=True), media_type="application/json")


@router.get("/{concept_id}/children", response_model=list[ConceptRefOut], summary="Direct children")
def get_children(
    concept_id: ConceptId,
    view: View,
    counts: Annotated[bool, Query(description="add each child's children and descendants counts")] = False,
) -> list[ConceptRefOut]:
    """Direct children in id order, with subtree sizes when asked."""
    tax = view.taxonomy
    kids = sorted(tax.children(concept_id))
    extra: dict[str, dict[str, int]] = {
        c: {"children": len(tax.child_positions(tax.index(c))), "descendants": len(tax.descendants(c))}
        for c in (kids if counts else [])
    }
    return [_ref(view, c, kind=view.edge_table.kind(c, concept_id), **extra.get(c, {})) for c in kids]


@router.get("/{concept_id}/descendants", response_model=PageOut, summary="Descendants in id order, paged")
def get_descendants(
    concept_id: ConceptId,
    view: View,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> PageOut:
    """One page of descendants in id order."""
    chunk, next_cursor = keyset_page(sorted(view.taxonomy.descendants(concept_id)), cursor, limit)
    return PageOut(items=[_ref(view, c) for c in chunk], next_cursor=next_cursor)


@router.get(
    "/{concept_id}/tags", response_model=TagsOut, summary="Votes and decisions of the visual/common tags"
)
def get_tags(concept_id: ConceptId, view: View, tags: Tags) -> TagsOut:
    """The votes and decisions of both tags of a concept."""
    view.taxonomy.index(concept_id)
    return tags_out(concept_id, tags.votes_of.get(concept_id, []))
