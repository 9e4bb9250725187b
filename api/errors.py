"""Errors to JSON responses ``{"error", "detail"}``: the only place exceptions become status codes."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bamboo.errors import (
    BambooError,
    ConceptNotFound,
    ConfigurationError,
    DatasetNotFound,
    GraphUnavailable,
    QueryError,
    QueryTimeout,
    TaskNotFound,
    VoteRejected,
)

__all__ = ["install_error_handlers"]

_STATUS: list[tuple[type[BambooError], int]] = [
    (ConceptNotFound, 404),
    (DatasetNotFound, 404),
    (TaskNotFound, 404),
    (VoteRejected, 409),
    (QueryTimeout, 504),
    (QueryError, 400),
    (ConfigurationError, 422),
    (GraphUnavailable, 503),
]


def install_error_handlers(app: FastAPI) -> None:
    async def bamboo_error(_: Request, exc: Exception) -> JSONResponse:
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)
        return JSONResponse(status_code=status, content={"error": type(exc).__name__, "detail": str(exc)})

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return JSONResponse(
            status_code=exc.status_code,
            content={"error": "HTTPError", "detail": exc.detail},
            headers=getattr(exc, "headers", None),
        )

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = jsonable_encoder(exc.errors())
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", []))
        return JSONResponse(
            status_code=422,
            content={
                "error": "ValidationError",
                "detail": f"{where}: {first.get('msg', 'invalid')}",
                "errors": errors,
            },
        )

    app.add_exception_handler(BambooError, bamboo_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
