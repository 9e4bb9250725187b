"""Request bodies the service accepts: bounded in size, strict JSON, no input it cannot echo.

:class:`BodyGuard` is a plain ASGI middleware in front of every route. It reads the body up to
``max_bytes`` (a larger one is 413 before it is read whole), and for JSON bodies refuses what
FastAPI would otherwise pass on and later fail on with a 500: ``NaN`` / ``Infinity``, lone
surrogates (in keys or values), and nesting deeper than ``max_depth``. Refusals are JSON
``{"error", "detail"}`` with a 4xx status; the body is then replayed unchanged to the route.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyGuard", "json_depth"]


class _Refused(Exception):
    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


def _constant(name: str) -> Any:
    raise _Refused(422, "ValidationError", f"{name} is not a JSON value (numbers must be finite)")


def json_depth(value: Any, *, limit: int) -> int:
    """Nesting depth of a JSON value (a scalar is 0), checked iteratively up to ``limit + 1``.

    Strings (keys too) must be encodable as UTF-8.

    Raises:
        _Refused: a lone surrogate.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _utf8(item)
            continue
        if isinstance(item, dict):
            children: list[Any] = []
            for key, child in item.items():
                _utf8(key)
                children.append(child)
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _utf8(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _Refused(
            400, "BadRequest", "the request holds invalid Unicode (a lone surrogate escape such as \\ud800)"
        ) from None


class BodyGuard:
    """ASGI middleware bounding request bodies (see the module docstring).

    Args:
        app: The wrapped application.
        max_bytes: Largest body accepted, in bytes.
        max_depth: Deepest JSON nesting accepted.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_depth: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read(scope, receive)
            if body and _is_json(scope):
                self._check_json(body)
        except _Refused as refused:
            await _send_error(send, refused)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes:
        too_big = _Refused(413, "PayloadTooLarge", f"the request body is larger than {self.max_bytes} bytes")
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                raise too_big
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise too_big
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _check_json(self, body: bytes) -> None:
        try:
            value = json.loads(body, parse_constant=_constant)
        except _Refused:
            raise
        except RecursionError:
            raise _Refused(
                422, "ValidationError", f"the JSON body is nested more than {self.max_depth} levels deep"
            ) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise _Refused(
                422, "ValidationError", f"the body is not valid JSON: {_plain(str(exc))}"
            ) from None
        if json_depth(value, limit=self.max_depth) > self.max_depth:
            raise _Refused(
                422, "ValidationError", f"the JSON body is nested more than {self.max_depth} levels deep"
            )


def _plain(text: str) -> str:
    return text.encode("ascii", "backslashreplace").decode("ascii")[:200]


def _is_json(scope: Scope) -> bool:
    # FastAPI reads a body without a content type as JSON too.
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            kind = value.split(b";")[0].strip().lower()
            return kind == b"application/json" or kind.endswith(b"+json")
    return True


async def _send_error(send: Send, refused: _Refused) -> None:
    payload = json.dumps({"error": refused.error, "detail": refused.detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": refused.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
