"""Request dependencies: the store built from the app's driver (opened and closed in the lifespan)."""

from __future__ import annotations

from fastapi import Request

from bamboo.graph.store import GraphStore

__all__ = ["get_store"]


def get_store(request: Request) -> GraphStore:
    store: GraphStore = request.app.state.store
    return store
