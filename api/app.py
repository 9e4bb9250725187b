"""``create_app``: the FastAPI application, its lifespan (driver open/close) and its routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bamboo import __version__
from bamboo.api import ui
from bamboo.api.cache import GraphCache
from bamboo.api.errors import install_error_handlers
from bamboo.api.routers import (
    concepts,
    crawl,
    cypher,
    datasets,
    health,
    hierarchy,
    related,
    search,
    tags,
    tasks,
)
from bamboo.api.settings import ServiceSettings
from bamboo.graph.connection import open_driver
from bamboo.graph.store import GraphStore
from bamboo.sdk.tasks import TaskStore

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
        driver = open_driver(settings.graph)
        store = GraphStore(driver, settings.graph.database)
        app.state.settings = settings
        app.state.store = store
        app.state.cache = GraphCache(store)
        app.state.cache.get()  # load the taxonomy before taking traffic
        app.state.cypher_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="bamboo-cypher")
        app.state.tasks = TaskStore(settings.tasks_db) if settings.tasks_db else None
        try:
            yield
        finally:
            app.state.cypher_pool.shutdown(wait=False, cancel_futures=True)
            driver.close()

    app = FastAPI(
        title="Bamboo label system", version=__version__, description=DESCRIPTION, lifespan=lifespan
    )
    install_error_handlers(app)
    for module in (health, concepts, hierarchy, search, datasets, related, crawl, tags, tasks, cypher):
        app.include_router(module.router)
    ui.install(app)
    return app
