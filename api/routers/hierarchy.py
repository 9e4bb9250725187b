"""``/path`` and ``/lca``: hierarchy questions answered from the in-memory taxonomy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from bamboo.api.deps import View

router = APIRouter(tags=["hierarchy"])


class PathOut(BaseModel):
    """A path between two concepts through their lowest common ancestor, with the names on it."""

    source: str
    target: str
    lca: str
    path: list[str]
    names: list[str]


class LcaOut(BaseModel):
    """The lowest common ancestor of the given concepts, if they have one, and every other lowest one."""

    ids: list[str]
    lca: str | None
    name: str | None
    lowest: list[str] = Field(
        default_factory=list,
        description="every lowest common ancestor (none has a common ancestor below it; on a DAG there "
        "can be several), in the order lca is chosen from: closest to the ids, then deepest, then id",
    )


@router.get(
    "/path", response_model=PathOut, summary="Path from one concept up to the LCA and down to another"
)
def get_path(
    view: View,
    source: Annotated[str, Query(alias="from", examples=["wn:n02084071"])],
    target: Annotated[str, Query(alias="to", examples=["wn:n02121620"])],
) -> PathOut:
    """The IS_A path from ``from`` up to the lowest common ancestor and down to ``to``.

    ``path`` lists concept ids in order and ``names`` their names. 404 when either id is unknown;
    422 when the two share no ancestor.
    """
    tax = view.taxonomy
    tax.index(source), tax.index(target)  # unknown ids -> 404
    try:
        path = tax.path(source, target)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    lca = tax.lowest_common_ancestor([source, target])
    assert lca is not None
    return PathOut(source=source, target=target, lca=lca, path=path, names=[tax.name(p) for p in path])


@router.get("/lca", response_model=LcaOut, summary="Lowest common ancestor of several concepts")
def get_lca(
    view: View,
    ids: Annotated[
        str, Query(description="comma-separated concept ids", examples=["wn:n02084071,wn:n02121620"])
    ],
) -> LcaOut:
    """The lowest common ancestor of the comma-separated concept ids.

    ``lca`` and ``name`` are null when the concepts share no ancestor. ``lowest`` lists every lowest
    common ancestor (a DAG can have several); ``lca`` is its first: the closest to the ids, then the
    deepest, then the smallest id, so ``lca(x, x) = x`` and ``lca(a, x) = a`` for an ancestor ``a``.
    404 when an id is unknown; 422 when no id, or more than 1000, is given.
    """
    wanted = [i.strip() for i in ids.split(",") if i.strip()]
    if not wanted:
        raise HTTPException(422, "ids: give at least one concept id")
    if len(wanted) > 1000:
        raise HTTPException(422, "ids: at most 1000 concept ids")
    lowest = view.taxonomy.lowest_common_ancestors(wanted)
    lca = lowest[0] if lowest else None
    return LcaOut(ids=wanted, lca=lca, name=view.taxonomy.name(lca) if lca else None, lowest=lowest)
