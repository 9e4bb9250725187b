"""``/datasets``: the public datasets integrated into the label system and their classes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from bamboo.api.deps import Store

router = APIRouter(prefix="/datasets", tags=["datasets"])


class DatasetOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    classes: int


class DatasetClassOut(BaseModel):
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
def list_datasets(store: Store) -> list[dict[str, Any]]:
    return store.datasets()


@router.get(
    "/{name}/classes", response_model=list[DatasetClassOut], summary="A dataset's classes, index order"
)
def dataset_classes(
    name: Annotated[str, Path(examples=["imagenet-1k"])], store: Store
) -> list[dict[str, Any]]:
    return store.dataset_classes(name)
