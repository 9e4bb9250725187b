"""``GET /health``: liveness plus a round-trip to the graph store."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from bamboo import __version__
from bamboo.api.deps import get_store
from bamboo.graph.store import GraphStore

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    build_status: str | None


@router.get("/health", response_model=Health)
def health(store: Annotated[GraphStore, Depends(get_store)]) -> Health:
    return Health(status="ok", version=__version__, build_status=store.get_meta("build.status"))
