"""Clients of the Bamboo API (httpx), synchronous and asynchronous, with retries and backoff.

Retried: connection failures and HTTP 429/502/503/504, up to ``retries`` times, waiting the
server's ``Retry-After`` when it gives one, else ``backoff * 2**attempt`` seconds (capped at
``max_wait``). Not retried: other 4xx answers, which map onto the exception tree by the ``error`` kind the API
puts in every error body, whatever the endpoint (an unknown concept -- in a path or among the
queries of ``POST /related`` -- -> :class:`~bamboo.errors.ConceptNotFound`, an unknown dataset ->
:class:`~bamboo.errors.DatasetNotFound`, anything else -> :class:`~bamboo.errors.ServiceError` with
the API's ``detail``).

The two clients are one implementation: each endpoint is written once as a :class:`_Call` (the request
to send and how to read the answer, sans I/O), and the retry policy once in :class:`_ClientCore`; the
clients only send, over ``httpx.Client`` or ``httpx.AsyncClient``.

Both clients implement :class:`~bamboo.sdk.labels.LabelSystem`, like the offline
:class:`~bamboo.sdk.labels.OfflineLabels`. A training job asks for related sets once per distinct
query word (``related`` takes thousands at once), never once per image.
"""

from __future__ import annotations

import ast
import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote, unquote

import httpx
import numpy as np
import numpy.typing as npt

from bamboo.errors import ConceptNotFound, DatasetNotFound, ServiceError
from bamboo.sdk.labels import LabelSpace

__all__ = ["AsyncBambooClient", "BambooClient"]

RETRY_STATUS = frozenset({429, 502, 503, 504})
_T = TypeVar("_T")


def _wait(response: httpx.Response | None, attempt: int, backoff: float, max_wait: float) -> float:
    if response is not None:
        after = response.headers.get("Retry-After", "")
        if after.replace(".", "", 1).isdigit():
            return min(float(after), max_wait)
    return float(min(backoff * 2**attempt, max_wait))


def _quoted(detail: str, prefix: str) -> str | None:
    """The id in an API message such as ``unknown concept id 'wn:n1'`` (the error's ``str``)."""
    if not detail.startswith(prefix):
        return None
    try:
        value = ast.literal_eval(detail[len(prefix) :])
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _raise_for(response: httpx.Response, path: str) -> None:
    if response.status_code < 400:
        return
    kind = ""
    try:
        body = response.json()
        kind = str(body.get("error", "")) if isinstance(body, dict) else ""
        detail = str(body.get("detail", "")) if isinstance(body, dict) else str(body)[:200]
    except ValueError:
        detail = response.text[:200]
    if response.status_code == 404:
        # The error kind (every endpoint, /related included), else the path (older servers).
        part = path.split("/")[2] if path.count("/") >= 2 else ""
        if kind == "ConceptNotFound" or (not kind and path.startswith("/concepts/")):
            raise ConceptNotFound(_quoted(detail, "unknown concept id ") or unquote(part))
        if kind == "DatasetNotFound" or (not kind and path.startswith("/datasets/")):
            raise DatasetNotFound(_quoted(detail, "unknown dataset ") or unquote(part))
    raise ServiceError(
        f"{response.request.method} {path}: HTTP {response.status_code} {detail}".strip(),
        status=response.status_code,
        detail=detail,
    )


@dataclass(frozen=True)
class _Call(Generic[_T]):
    """One endpoint call: the request to send, and ``read``, which turns the decoded JSON answer into
    what the client method returns."""

    method: str
    path: str
    read: Callable[[Any], _T]
    options: dict[str, Any] = field(default_factory=dict)


def _concept_path(concept: str) -> str:
    return f"/concepts/{quote(concept, safe=':')}"


def _ids(rows: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in rows]


def _related_call(
    queries: Sequence[str], space: LabelSpace, levels: int | None
) -> _Call[dict[str, npt.NDArray[np.int64]]]:
    """``POST /related`` for all queries; for an unnamed label space the answer's positions are mapped
    back to the space's class indices."""
    body: dict[str, Any] = {"queries": list(dict.fromkeys(queries))}
    if levels is not None:  # left out, the service applies its default rule
        body["levels"] = levels
    index_of: npt.NDArray[np.int64] | None = None
    if space.name:
        body["label_space"] = space.name
    else:
        mapped = [i for i, c in enumerate(space.concepts) if c is not None]
        body["label_space"] = [space.concepts[i] for i in mapped]
        index_of = np.asarray(mapped, dtype=np.int64)

    def read(answer: dict[str, Any]) -> dict[str, npt.NDArray[np.int64]]:
        out = {q: np.asarray(v, dtype=np.int64) for q, v in answer["related"].items()}
        return out if index_of is None else {q: index_of[v] for q, v in out.items()}

    return _Call("POST", "/related", read, {"json": body})


class _Calls:
    """Every endpoint the clients offer, once (see the methods of :class:`BambooClient`)."""

    @staticmethod
    def health() -> _Call[dict[str, Any]]:
        return _Call("GET", "/health", dict)

    @staticmethod
    def concept(concept: str) -> _Call[dict[str, Any]]:
        return _Call("GET", _concept_path(concept), dict)

    @staticmethod
    def ancestors(concept: str) -> _Call[list[str]]:
        return _Call("GET", _concept_path(concept) + "/ancestors", _ids)

    @staticmethod
    def search(text: str, limit: int) -> _Call[list[dict[str, Any]]]:
        return _Call("GET", "/search", list, {"params": {"q": text, "limit": limit}})

    @staticmethod
    def label_space(dataset: str) -> _Call[LabelSpace]:
        return _Call(
            "GET",
            f"/datasets/{quote(dataset)}/classes",
            lambda rows: LabelSpace.from_classes([(r["index"], r["concept"]) for r in rows], dataset),
        )


_HTTP = TypeVar("_HTTP", httpx.Client, httpx.AsyncClient)
_TRANSPORT = TypeVar("_TRANSPORT", httpx.BaseTransport, httpx.AsyncBaseTransport)


class _ClientCore(Generic[_HTTP, _TRANSPORT]):
    """What both clients share: their arguments, the HTTP client they open, and the retry policy."""

    _http_class: type[_HTTP]

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        retries: int = 5,
        backoff: float = 0.5,
        max_wait: float = 60.0,
        transport: _TRANSPORT | None = None,
    ) -> None:
        headers = {"User-Agent": "bamboo-sdk"} | ({"X-API-Key": api_key} if api_key else {})
        http: Any = self._http_class  # the transport's kind matches the client's (the type parameters)
        self._http: _HTTP = http(base_url=base_url, timeout=timeout, headers=headers, transport=transport)
        self.retries, self.backoff, self.max_wait = retries, backoff, max_wait
        self.waits: list[float] = []  # seconds waited before each retry (for logs and tests)

    def _settle(
        self, method: str, path: str, attempt: int, outcome: httpx.Response | httpx.TransportError
    ) -> httpx.Response | float:
        """The final answer (an error answer raises here), else the seconds to wait before the next
        attempt (recorded in ``waits``). ``outcome``: the answer, or the error of an attempt without one."""
        last = attempt == self.retries
        response = outcome if isinstance(outcome, httpx.Response) else None
        if isinstance(outcome, httpx.TransportError) and last:
            raise ServiceError(f"{method} {path}: {outcome!r} after {attempt + 1} attempts") from outcome
        if response is not None and (response.status_code not in RETRY_STATUS or last):
            _raise_for(response, path)
            return response
        wait = _wait(response, attempt, self.backoff, self.max_wait)
        self.waits.append(wait)
        return wait


class BambooClient(_ClientCore[httpx.Client, httpx.BaseTransport]):
    """Synchronous client of the Bamboo API, a :class:`~bamboo.sdk.labels.LabelSystem`.

    Use it as a context manager, or call :meth:`close`.

    Args:
        base_url: Where the API listens.
        api_key: Sent as ``X-API-Key`` (needed only for writes).
        timeout: Seconds per request.
        retries: Further attempts after a connection failure or a 429/502/503/504 answer.
        backoff: First wait between attempts, doubled each time (unless ``Retry-After`` says).
        max_wait: Longest single wait.
        transport: An httpx transport to use instead of the network (e.g. ``httpx.WSGITransport``).
    """

    _http_class = httpx.Client

    def __enter__(self) -> BambooClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call with retries.

        Args:
            method: The HTTP method.
            path: The path below ``base_url``, e.g. ``"/health"``.
            **kwargs: Passed on to ``httpx.Client.request`` (``json``, ``params``...).

        Returns:
            The decoded JSON body.

        Raises:
            ConceptNotFound: The API answered 404 for an unknown concept (any endpoint).
            DatasetNotFound: The API answered 404 for an unknown dataset.
            ServiceError: Any other error answer, or no answer after every retry.
        """
        for attempt in range(self.retries + 1):
            outcome: httpx.Response | httpx.TransportError
            try:
                outcome = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                outcome = exc
            settled = self._settle(method, path, attempt, outcome)
            if isinstance(settled, httpx.Response):
                return settled.json()
            time.sleep(settled)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, call: _Call[_T]) -> _T:
        return call.read(self.request(call.method, call.path, **call.options))

    def health(self) -> dict[str, Any]:
        """The service's ``GET /health`` answer."""
        return self._send(_Calls.health())

    def concept(self, concept: str) -> dict[str, Any]:
        """One concept's record (``GET /concepts/{id}``).

        Raises:
            ConceptNotFound: No such concept.
        """
        return self._send(_Calls.concept(concept))

    def ancestors(self, concept: str) -> list[str]:
        """See :meth:`bamboo.sdk.labels.LabelSystem.ancestors`."""
        return self._send(_Calls.ancestors(concept))

    def search(self, text: str, limit: int = 10) -> list[dict[str, Any]]:
        """Concepts whose labels match ``text``, best first, at most ``limit`` of them."""
        return self._send(_Calls.search(text, limit))

    def label_space(self, dataset: str) -> LabelSpace:
        """See :meth:`bamboo.sdk.labels.LabelSystem.label_space`."""
        return self._send(_Calls.label_space(dataset))

    def related(
        self, queries: Sequence[str], space: LabelSpace, *, levels: int | None = None
    ) -> dict[str, npt.NDArray[np.int64]]:
        """See :meth:`bamboo.sdk.labels.LabelSystem.related` (one ``POST /related`` for all queries)."""
        return self._send(_related_call(queries, space, levels)) if queries else {}


class AsyncBambooClient(_ClientCore[httpx.AsyncClient, httpx.AsyncBaseTransport]):
    """Asynchronous twin of :class:`BambooClient` (``async with``; every method is awaited), with the
    same arguments; ``transport`` is an httpx async transport."""

    _http_class = httpx.AsyncClient

    async def __aenter__(self) -> AsyncBambooClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """As :meth:`BambooClient.request`, awaited."""
        for attempt in range(self.retries + 1):
            outcome: httpx.Response | httpx.TransportError
            try:
                outcome = await self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                outcome = exc
            settled = self._settle(method, path, attempt, outcome)
            if isinstance(settled, httpx.Response):
                return settled.json()
            await asyncio.sleep(settled)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(self, call: _Call[_T]) -> _T:
        return call.read(await self.request(call.method, call.path, **call.options))

    async def health(self) -> dict[str, Any]:
        """As :meth:`BambooClient.health`."""
        return await self._send(_Calls.health())

    async def concept(self, concept: str) -> dict[str, Any]:
        """As :meth:`BambooClient.concept`."""
        return await self._send(_Calls.concept(concept))

    async def ancestors(self, concept: str) -> list[str]:
        """As :meth:`BambooClient.ancestors`."""
        return await self._send(_Calls.ancestors(concept))

    async def search(self, text: str, limit: int = 10) -> list[dict[str, Any]]:
        """As :meth:`BambooClient.search`."""
        return await self._send(_Calls.search(text, limit))

    async def label_space(self, dataset: str) -> LabelSpace:
        """As :meth:`BambooClient.label_space`."""
        return await self._send(_Calls.label_space(dataset))

    async def related(
        self, queries: Sequence[str], space: LabelSpace, *, levels: int | None = None
    ) -> dict[str, npt.NDArray[np.int64]]:
        """As :meth:`BambooClient.related`."""
        return await self._send(_related_call(queries, space, levels)) if queries else {}
