"""Errors to JSON responses ``{"error", "detail"}``: the only place exceptions become status codes."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bamboo.errors import (
    BambooError,
    ConceptNotFound,
    ConfigurationError,
    DatasetNotFound,
    FileRefused,
    GraphBusy,
    GraphUnavailable,
    InvariantViolation,
    MalformedFile,
    QueryError,
    QueryTimeout,
    SnapshotError,
    TaskNotFound,
    UnreadableValue,
    VoteRejected,
    WikidataError,
)

__all__ = ["SafeJSONResponse", "install_error_handlers"]

log = logging.getLogger(__name__)


class SafeJSONResponse(JSONResponse):
    """JSON that always encodes: ASCII escapes (a lone surrogate too), non-finite numbers as strings."""

    def render(self, content: Any) -> bytes:
        """The body as compact ASCII JSON; what JSON cannot carry is written as its ``str``."""
        return json.dumps(content, ensure_ascii=True, separators=(",", ":"), default=str).encode("ascii")


_STATUS: list[tuple[type[BambooError], int]] = [
    (ConceptNotFound, 404),
    (DatasetNotFound, 404),
    (TaskNotFound, 404),
    (VoteRejected, 409),
    (InvariantViolation, 409),
    (MalformedFile, 422),
    (FileRefused, 403),
    (QueryTimeout, 504),
    (UnreadableValue, 422),
    (QueryError, 400),
    (ConfigurationError, 422),
    (GraphUnavailable, 503),
    (SnapshotError, 503),  # the service's taxonomy view cannot be built or read
    (WikidataError, 503),  # the upstream SPARQL endpoint failed
]


def _error(status: int, kind: str, detail: str, **extra: Any) -> SafeJSONResponse:
    return SafeJSONResponse(status_code=status, content={"error": kind, "detail": detail, **extra})


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error on ``app`` as ``{"error", "detail"}`` JSON with the status chosen here.

    Bamboo errors get the status of their first matching kind in ``_STATUS`` (500 otherwise, as
    for any unexpected exception, which is logged and never echoed).
    """

    async def bamboo_error(_: Request, exc: Exception) -> JSONResponse:
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)
        retry = getattr(exc, "retry_after", 1)
        headers = {"Retry-After": str(retry)} if isinstance(exc, GraphBusy) else None
        response = _error(status, type(exc).__name__, str(exc))
        if headers:
            response.headers.update(headers)
        return response

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        response = _error(exc.status_code, "HTTPError", str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        # Never echo the input back: it may be huge, or not encodable (the body guard refuses lone
        # surrogates, but a query string can still carry anything).
        errors = [
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid"}
        where = ".".join(first["loc"])
        return _error(422, "ValidationError", f"{where}: {first['msg']}", errors=errors)

    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return _error(500, "InternalError", "an unexpected error; it has been logged")

    app.add_exception_handler(BambooError, bamboo_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)
