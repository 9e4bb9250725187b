"""``create_app``: the FastAPI application, its lifespan (driver open/close) and its routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from bamboo import __version__
from bamboo.api import ui
from bamboo.api.cache import GraphCache
from bamboo.api.errors import install_error_handlers
from bamboo.api.limits import BodyGuard
from bamboo.api.routers import (
    concepts,
    crawl,
    cypher,
    datasets,
    health,
    hierarchy,
    related,
    review,
    search,
    tags,
    tasks,
)
from bamboo.api.routers.cypher import CypherGate
from bamboo.api.settings import ServiceSettings
from bamboo.graph.store.connection import open_driver, reader_credentials
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.tasks.db import TaskStore
from bamboo.graph.usercypher.runner import CypherLimits, UserCypher

__all__ = ["create_app"]

DESCRIPTION = """
Taxonomy queries over the Bamboo label system: WordNet 3.0 backbone, public datasets' classes and
Wikidata concepts. Errors are JSON `{"error": ..., "detail": ...}`. Write endpoints need the
`X-API-Key` header (the server's `BAMBOO_API_KEY`; without one they are disabled).
"""


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """Build the app; the graph driver is opened at start-up and closed at shutdown."""
    settings = settings or ServiceSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        driver = await anyio.to_thread.run_sync(open_driver, settings.graph)
        store = GraphStore(driver, settings.graph.database)
        app.state.settings = settings
        app.state.store = store
        app.state.cache = GraphCache(store, view_dir=settings.view_folder(), database=settings.graph.database)
        await anyio.to_thread.run_sync(app.state.cache.start)  # load the views before taking traffic
        app.state.cypher = _cypher_gate(settings)
        app.state.tasks = TaskStore(settings.tasks_db) if settings.tasks_db else None
        try:
            yield
        finally:
            app.state.cache.stop()
            app.state.cypher.close()
            driver.close()

    app = FastAPI(
        title="Bamboo label system", version=__version__, description=DESCRIPTION, lifespan=lifespan
    )
    app.add_middleware(BodyGuard, max_bytes=settings.max_body_bytes, max_depth=64)
    install_error_handlers(app)
    for module in (
        health,
        concepts,
        hierarchy,
        search,
        datasets,
        related,
        crawl,
        tags,
        tasks,
        review,
        cypher,
    ):
        app.include_router(module.router)
    ui.install(app)
    return app


def _cypher_gate(settings: ServiceSettings) -> CypherGate:
    """User Cypher runs as the read-only user only; without one the endpoint is off (503)."""
    limits = CypherLimits(
        timeout_s=settings.cypher_timeout_s,
        max_rows=settings.cypher_max_rows,
        max_bytes=settings.cypher_max_bytes,
        max_depth=settings.cypher_max_depth,
    )
    credentials = reader_credentials(settings.graph)
    if credentials is None:
        return CypherGate(
            None,
            settings.cypher_concurrency,
            why_off="no read-only database user is configured (BAMBOO_GRAPH_READER_USER and "
            "BAMBOO_GRAPH_READER_PASSWORD; the embedded store creates one on `bamboo db start`)",
        )
    uri, auth = credentials
    return CypherGate(UserCypher(uri, auth, settings.graph.database, limits), settings.cypher_concurrency)
