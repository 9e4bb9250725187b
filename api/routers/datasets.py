"""``/datasets``: the public datasets integrated into the label system and their classes.

Both answer from the service's view of the graph, like every concept endpoint: a class listed here
resolves on ``/concepts/{id}`` at the same moment (read from the database directly, a dataset
import was listed for seconds before the view knew its new concepts). The review details of a
class (``review``, ``parent``, ``placed_by``) come from the database where it agrees with the view.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from bamboo.api.deps import Store, View
from bamboo.errors import DatasetNotFound

__all__ = ["DatasetClassOut", "DatasetOut", "dataset_classes", "list_datasets", "router"]

router = APIRouter(prefix="/datasets", tags=["datasets"])


class DatasetOut(BaseModel):
    """A dataset's properties (any more than these pass through) and its number of classes."""

    model_config = ConfigDict(extra="allow")
    name: str
    classes: int


class DatasetClassOut(BaseModel):
    """One class of a dataset and the concept it maps to."""

    index: int
    raw_name: str | None
    concept: str
    name: str | None
    method: str | None
    confidence: float | None
    review: str | None = Field(
        default=None,
        description='"check" when the sense was chosen on a narrow margin, or a new concept placed on '
        "weak evidence (see /review)",
    )
    parent: str | None = Field(default=None, description="a new concept's parent (method 'new')")
    placed_by: str | None = Field(default=None, description="the evidence that placed a new concept")


@router.get("", response_model=list[DatasetOut], summary="Datasets in the label system")
def list_datasets(view: View) -> list[DatasetOut]:
    """Every dataset's properties and number of classes."""
    return [DatasetOut(**view.datasets[name].to_dict()) for name in sorted(view.datasets)]


@router.get(
    "/{name}/classes", response_model=list[DatasetClassOut], summary="A dataset's classes, index order"
)
def dataset_classes(
    name: Annotated[str, Path(examples=["imagenet-1k"])], view: View, store: Store
) -> list[DatasetClassOut]:
    """The dataset's classes and the concepts they map to."""
    if name not in view.datasets:
        raise DatasetNotFound(name, known=view.datasets)
    try:
        details = {(c.index, c.concept): c for c in store.dataset_classes(name)}
    except DatasetNotFound:  # removed since the view was loaded: the view's answer stands
        details = {}
    tax = view.taxonomy
    out = []
    for c in view.dataset_classes(name):
        known = details.get((c.index, c.concept))
        if known is not None:
            out.append(DatasetClassOut(**dataclasses.asdict(known)))
        else:
            out.append(
                DatasetClassOut(
                    index=c.index,
                    raw_name=c.raw_name,
                    concept=c.concept,
                    name=tax.name(c.concept) if c.concept in tax else None,
                    method=c.method,
                    confidence=c.confidence,
                )
            )
    return out
