"""Bamboo errors to JSON responses: the only place where exceptions become HTTP status codes."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from bamboo.errors import BambooError, ConceptNotFound, ConfigurationError, GraphUnavailable

__all__ = ["install_error_handlers"]

_STATUS: list[tuple[type[BambooError], int]] = [
    (ConceptNotFound, 404),
    (ConfigurationError, 422),
    (GraphUnavailable, 503),
]


def install_error_handlers(app: FastAPI) -> None:
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)
        return JSONResponse(status_code=status, content={"error": type(exc).__name__, "detail": str(exc)})

    app.add_exception_handler(BambooError, handle)
