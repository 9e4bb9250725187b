"""``POST /related``: related-category sets of query concepts within a label space (paper §4.1.3).

Definition (see :mod:`bamboo.graph.taxonomy.related`): for query ``q``, the label-space classes in the
subtree of ``q`` or of the ancestors its rule reaches, plus the label-space classes that are
ancestors of ``q``. The rule is ``levels = k`` (ancestors at most ``k`` IS_A edges up) when given,
otherwise the default rule (:data:`~bamboo.graph.taxonomy.related.DEFAULT_RULE`: ancestors whose
subtree holds at most 20 % of the label space). Indices are positions in the label space's order
(a dataset's class indices, or the order of the given id list).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from bamboo.api.deps import Store, View
from bamboo.graph.taxonomy.related import DEFAULT_RULE, Levels, related_sets

__all__ = ["RelatedIn", "RelatedOut", "post_related", "router"]

router = APIRouter(tags=["related"])


class RelatedIn(BaseModel):
    """Query concepts and the label space to relate them to."""

    queries: list[str] = Field(min_length=1, max_length=100_000, examples=[["wn:n02084071"]])
    label_space: str | list[str] = Field(
        description="a dataset name, or concept ids in label-space order", examples=["imagenet-1k"]
    )
    levels: Annotated[int | None, Field(ge=0, le=20)] = Field(
        default=None, description="climb this many IS_A levels; left out, the default rule applies"
    )


class RelatedOut(BaseModel):
    """The related label-space classes of each query concept."""

    label_space_size: int
    levels: int | None = Field(description="the levels asked for; null when the default rule applied")
    rule: str = Field(description="the rule applied, in words", examples=["share <= 20%"])
    related: dict[str, list[int]] = Field(description="query id -> sorted label-space indices")


@router.post("/related", response_model=RelatedOut, summary="Related label-space classes per query concept")
def post_related(body: RelatedIn, view: View, store: Store) -> RelatedOut:
    """Each query concept's related classes in the label space (a dataset's or a list of ids)."""
    if isinstance(body.label_space, str):
        classes = store.dataset_classes(body.label_space)
        size = max((c.index for c in classes), default=-1) + 1
        # Dataset indices may have gaps (unmapped classes); map positions back to class indices.
        space = [c.concept for c in classes]
        index_of = [c.index for c in classes]
    else:
        space, index_of, size = body.label_space, list(range(len(body.label_space))), len(body.label_space)
    rule = Levels(body.levels) if body.levels is not None else DEFAULT_RULE
    sets = related_sets(view.taxonomy, body.queries, space, rule=rule)
    related = {q: sorted({index_of[j] for j in sets[i].tolist()}) for i, q in enumerate(sets.queries)}
    return RelatedOut(label_space_size=size, levels=body.levels, rule=str(rule), related=related)
