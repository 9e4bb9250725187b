"""Request dependencies: the store and taxonomy cache (opened in the lifespan), and the API key."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from bamboo.api.cache import GraphCache, GraphView, TagView
from bamboo.api.settings import ServiceSettings
from bamboo.graph.store import GraphStore

__all__ = [
    "Cache",
    "Store",
    "Tags",
    "View",
    "get_cache",
    "get_settings",
    "get_store",
    "get_tags",
    "get_view",
    "require_api_key",
]


# Dependencies are async so that requests answered from memory never hop through the thread pool.


async def get_store(request: Request) -> GraphStore:
    store: GraphStore = request.app.state.store
    return store


async def get_cache(request: Request) -> GraphCache:
    cache: GraphCache = request.app.state.cache
    return cache


async def get_view(request: Request) -> GraphView:
    cache: GraphCache = request.app.state.cache
    return cache.get()


async def get_tags(request: Request) -> TagView:
    cache: GraphCache = request.app.state.cache
    return cache.tags()


async def get_settings(request: Request) -> ServiceSettings:
    settings: ServiceSettings = request.app.state.settings
    return settings


async def require_api_key(
    settings: Annotated[ServiceSettings, Depends(get_settings)],
    x_api_key: Annotated[str | None, Header(description="API key for write endpoints")] = None,
) -> None:
    if settings.api_key is None:
        raise HTTPException(403, "write endpoints are disabled: the server has no BAMBOO_API_KEY")
    if x_api_key is None or not secrets.compare_digest(x_api_key, settings.api_key.get_secret_value()):
        raise HTTPException(401, "missing or wrong X-API-Key header")


Store = Annotated[GraphStore, Depends(get_store)]
View = Annotated[GraphView, Depends(get_view)]
Tags = Annotated[TagView, Depends(get_tags)]
Cache = Annotated[GraphCache, Depends(get_cache)]
