"""``/search``: prefix and fuzzy match over names, lemmas and labels in every language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from bamboo.api.deps import View

router = APIRouter(tags=["search"])


class SearchHitOut(BaseModel):
    """One concept found by a search, with the text and language it matched on."""

    id: str
    name: str
    matched: str
    lang: str
    match: str
    score: float
    gloss: str | None = None


@router.get("/search", response_model=list[SearchHitOut], summary="Find concepts by name")
def search(
    view: View,
    q: Annotated[str, Query(min_length=1, max_length=200, examples=["golden retr"])],
    lang: Annotated[
        str | None, Query(max_length=10, description="only labels in this language", examples=["en"])
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    fuzzy: bool = True,
) -> list[SearchHitOut]:
    """Concepts whose name, lemma or label matches ``q``, best first.

    Matches exactly, by prefix, or (when ``fuzzy``) approximately; ``lang`` keeps only labels in that
    language. Equally good matches come most common sense first (WordNet's tag counts); each hit
    carries its gloss to tell senses apart. At most ``limit`` hits.
    """
    props = view.props

    def tag_count(cid: str) -> float:
        return float(props.get(cid, {}).get("tag_count") or 0)

    hits = view.search.search(q, lang=lang, limit=limit, fuzzy=fuzzy, prior=tag_count)
    return [SearchHitOut(**vars(h), gloss=props.get(h.id, {}).get("gloss")) for h in hits]
