"""Request dependencies: the store and taxonomy cache (opened in the lifespan), and the API key."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, HTTPException, Request

from bamboo.api.cache import GraphCache, TagView
from bamboo.api.settings import ServiceSettings
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.view import GraphView

F = TypeVar("F", bound=Callable[..., Any])

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


# The view dependencies only hand out references the lifespan and the poller thread prepared (they
# never load anything), so they are coroutines: no thread-pool hop on every request. Anything that
# may wait (the store, a view that would load on first use) must stay a plain function, which
# FastAPI runs in its thread pool.


async def get_store(request: Request) -> GraphStore:
    """The store opened in the app's lifespan."""
    store: GraphStore = request.app.state.store
    return store


async def get_cache(request: Request) -> GraphCache:
    """The in-memory views of the label system."""
    cache: GraphCache = request.app.state.cache
    return cache


async def get_planned_view(request: Request) -> GraphView:
    """The newest view whose crawl plan and tag-queue order are computed (the current one once its
    warm-up is done; until then the one before): crawl and queue answers never wait for a plan."""
    cache: GraphCache = request.app.state.cache
    return cache.planned()


async def get_view(request: Request) -> GraphView:
    """The current graph view.

    Raises:
        GraphUnavailable: the view is not loaded yet.
    """
    cache: GraphCache = request.app.state.cache
    return cache.get()


async def get_tags(request: Request) -> TagView:
    """The current tag view.

    Raises:
        GraphUnavailable: the votes are not loaded yet.
    """
    cache: GraphCache = request.app.state.cache
    return cache.tags()


async def get_settings(request: Request) -> ServiceSettings:
    """The service settings read at start."""
    settings: ServiceSettings = request.app.state.settings
    return settings


def require_api_key(
    settings: Annotated[ServiceSettings, Depends(get_settings)],
    x_api_key: Annotated[str | None, Header(description="API key for write endpoints")] = None,
) -> None:
    """Let a write through only with the server's API key.

    Raises:
        HTTPException: 403 when the server has no key (writes disabled), 401 when the header is
            missing or wrong.
    """
    if settings.api_key is None:
        raise HTTPException(403, "write endpoints are disabled: the server has no BAMBOO_API_KEY")
    if x_api_key is None or not secrets.compare_digest(x_api_key, settings.api_key.get_secret_value()):
        raise HTTPException(401, "missing or wrong X-API-Key header")


Store = Annotated[GraphStore, Depends(get_store)]
View = Annotated[GraphView, Depends(get_view)]
PlannedView = Annotated[GraphView, Depends(get_planned_view)]
Tags = Annotated[TagView, Depends(get_tags)]
Cache = Annotated[GraphCache, Depends(get_cache)]


def keyed_post(router: APIRouter, path: str, summary: str, model: Any = None) -> Callable[[F], F]:
    """``router.post`` for a write endpoint: it needs the API key (401 without one, 403 wrong).
    Without ``model`` the answer's schema comes from the endpoint's return annotation."""
    typed = {} if model is None else {"response_model": model}
    return router.post(path, dependencies=[Depends(require_api_key)], summary=summary, **typed)
