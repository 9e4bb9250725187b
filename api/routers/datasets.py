"""``/datasets``: the public datasets integrated into the label system and their classes."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from bamboo.api.deps import Store

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
def list_datasets(store: Store) -> list[DatasetOut]:
    """Every dataset's properties and number of classes."""
    return [DatasetOut(**d.to_dict()) for d in store.datasets()]


@router.get(
    "/{name}/classes", response_model=list[DatasetClassOut], summary="A dataset's classes, index order"
)
def dataset_classes(
    name: Annotated[str, Path(examples=["imagenet-1k"])], store: Store
) -> list[DatasetClassOut]:
    """The dataset's classes and the concepts they map to."""
    return [DatasetClassOut(**dataclasses.asdict(c)) for c in store.dataset_classes(name)]
