"""``create_app``: the FastAPI application, its lifespan (driver open/close) and its routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bamboo import __version__
from bamboo.api.errors import install_error_handlers
from bamboo.api.routers import concepts, health
from bamboo.api.settings import ServiceSettings
from bamboo.graph.connection import open_driver
from bamboo.graph.store import GraphStore

__all__ = ["create_app"]


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """Build the app; the graph driver is opened at start-up and closed at shutdown."""
    settings = settings or ServiceSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        driver = open_driver(settings.graph)
        app.state.settings = settings
        app.state.store = GraphStore(driver, settings.graph.database)
        try:
            yield
        finally:
            driver.close()

    app = FastAPI(
        title="Bamboo label system",
        version=__version__,
        description="Taxonomy queries over the Bamboo label system (WordNet backbone, datasets, Wikidata).",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(concepts.router)
    return app
