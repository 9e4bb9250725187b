"""Clients of the Bamboo API (httpx), synchronous and asynchronous, with retries and backoff.

Retried: connection failures and HTTP 429/502/503/504, up to ``retries`` times, waiting the
server's ``Retry-After`` when it gives one, else ``backoff * 2**attempt`` seconds (capped at
``max_wait``). Not retried: other 4xx answers, which map onto the exception tree by the ``error`` kind the API
puts in every error body, whatever the endpoint (an unknown concept -- in a path or among the
queries of ``POST /related`` -- -> :class:`~bamboo.errors.ConceptNotFound`, an unknown dataset ->
:class:`~bamboo.errors.DatasetNotFound`, anything else -> :class:`~bamboo.errors.ServiceError` with
the API's ``detail``).

Both clients implement :class:`~bamboo.sdk.labels.LabelSystem`, like the offline
:class:`~bamboo.sdk.labels.OfflineLabels`. A training job asks for related sets once per distinct
query word (``related`` takes thousands at once), never once per image.
"""

from __future__ import annotations

import ast
import asyncio
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, unquote

import httpx
import numpy as np
import numpy.typing as npt

from bamboo.errors import ConceptNotFound, DatasetNotFound, ServiceError
from bamboo.graph.taxonomy.related import DEFAULT_LEVELS
from bamboo.sdk.labels import LabelSpace

__all__ = ["AsyncBambooClient", "BambooClient"]

RETRY_STATUS = frozenset({429, 502, 503, 504})


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


def _related_body(
    queries: Sequence[str], space: LabelSpace, levels: int
) -> tuple[dict[str, Any], npt.NDArray[np.int64] | None]:
    """The request body, and for an unnamed label space the class index of each position sent."""
    body: dict[str, Any] = {"queries": list(dict.fromkeys(queries)), "levels": levels}
    if space.name:
        body["label_space"] = space.name
        return body, None
    mapped = [i for i, c in enumerate(space.concepts) if c is not None]
    body["label_space"] = [space.concepts[i] for i in mapped]
    return body, np.asarray(mapped, dtype=np.int64)


def _related_out(
    body: dict[str, Any], index_of: npt.NDArray[np.int64] | None
) -> dict[str, npt.NDArray[np.int64]]:
    out = {q: np.asarray(v, dtype=np.int64) for q, v in body["related"].items()}
    return out if index_of is None else {q: index_of[v] for q, v in out.items()}


class _Retrying:
    """The retry policy both clients share."""

    retries: int
    backoff: float
    max_wait: float
    waits: list[float]

    def _settle(
        self, method: str, path: str, attempt: int, response: httpx.Response | None, error: Exception | None
    ) -> float | None:
        """``None`` when ``response`` is final (an error answer raises here), else the seconds to
        wait before the next attempt (recorded in ``waits``)."""
        last = attempt == self.retries
        if error is not None and last:
            raise ServiceError(f"{method} {path}: {error!r} after {attempt + 1} attempts") from error
        if response is not None and (response.status_code not in RETRY_STATUS or last):
            _raise_for(response, path)
            return None
        wait = _wait(response, attempt, self.backoff, self.max_wait)
        self.waits.append(wait)
        return wait


class BambooClient(_Retrying):
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

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        retries: int = 5,
        backoff: float = 0.5,
        max_wait: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"User-Agent": "bamboo-sdk"} | ({"X-API-Key": api_key} if api_key else {})
        self._http = httpx.Client(base_url=base_url, timeout=timeout, headers=headers, transport=transport)
        self.retries, self.backoff, self.max_wait = retries, backoff, max_wait
        self.waits: list[float] = []  # seconds waited before each retry (for logs and tests)

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
            try:
                response, error = self._http.request(method, path, **kwargs), None
            except httpx.TransportError as exc:
                response, error = None, exc
            wait = self._settle(method, path, attempt, response, error)
            if wait is None:
                assert response is not None
                return response.json()
            time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def health(self) -> dict[str, Any]:
        """The service's ``GET /health`` answer."""
        return dict(self.request("GET", "/health"))

    def concept(self, concept: str) -> dict[str, Any]:
        """One concept's record (``GET /concepts/{id}``).

        Raises:
            ConceptNotFound: No such concept.
        """
        return dict(self.request("GET", f"/concepts/{quote(concept, safe=':')}"))

    def ancestors(self, concept: str) -> list[str]:
        """See :meth:`bamboo.sdk.labels.LabelSystem.ancestors`."""
        rows = self.request("GET", f"/concepts/{quote(concept, safe=':')}/ancestors")
        return [r["id"] for r in rows]

    def search(self, text: str, limit: int = 10) -> list[dict[str, Any]]:
        """Concepts whose labels match ``text``, best first, at most ``limit`` of them."""
        return list(self.request("GET", "/search", params={"q": text, "limit": limit}))

    def label_space(self, dataset: str) -> LabelSpace:
        """See :meth:`bamboo.sdk.labels.LabelSystem.label_space`."""
        rows = self.request("GET", f"/datasets/{quote(dataset)}/classes")
        return LabelSpace.from_classes([(r["index"], r["concept"]) for r in rows], dataset)

    def related(
        self, queries: Sequence[str], space: LabelSpace, *, levels: int = DEFAULT_LEVELS
    ) -> dict[str, npt.NDArray[np.int64]]:
        """See :meth:`bamboo.sdk.labels.LabelSystem.related` (one ``POST /related`` for all queries)."""
        if not queries:
            return {}
        body, index_of = _related_body(queries, space, levels)
        return _related_out(self.request("POST", "/related", json=body), index_of)


class AsyncBambooClient(_Retrying):
    """Asynchronous twin of :class:`BambooClient` (``async with``; every method is awaited).

    Args:
        base_url: Where the API listens.
        api_key: Sent as ``X-API-Key`` (needed only for writes).
        timeout: Seconds per request.
        retries: Further attempts after a connection failure or a 429/502/503/504 answer.
        backoff: First wait between attempts, doubled each time (unless ``Retry-After`` says).
        max_wait: Longest single wait.
        transport: An httpx async transport to use instead of the network.
    """

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        retries: int = 5,
        backoff: float = 0.5,
        max_wait: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"User-Agent": "bamboo-sdk"} | ({"X-API-Key": api_key} if api_key else {})
        self._http = httpx.AsyncClient(
            base_url=base_url, timeout=timeout, headers=headers, transport=transport
        )
        self.retries, self.backoff, self.max_wait = retries, backoff, max_wait
        self.waits: list[float] = []

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
            try:
                response, error = await self._http.request(method, path, **kwargs), None
            except httpx.TransportError as exc:
                response, error = None, exc
            wait = self._settle(method, path, attempt, response, error)
            if wait is None:
                assert response is not None
                return response.json()
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def health(self) -> dict[str, Any]:
        """As :meth:`BambooClient.health`."""
        return dict(await self.request("GET", "/health"))

    async def concept(self, concept: str) -> dict[str, Any]:
        """As :meth:`BambooClient.concept`."""
        return dict(await self.request("GET", f"/concepts/{quote(concept, safe=':')}"))

    async def ancestors(self, concept: str) -> list[str]:
        """As :meth:`BambooClient.ancestors`."""
        rows = await self.request("GET", f"/concepts/{quote(concept, safe=':')}/ancestors")
        return [r["id"] for r in rows]

    async def search(self, text: str, limit: int = 10) -> list[dict[str, Any]]:
        """As :meth:`BambooClient.search`."""
        return list(await self.request("GET", "/search", params={"q": text, "limit": limit}))

    async def label_space(self, dataset: str) -> LabelSpace:
        """As :meth:`BambooClient.label_space`."""
        rows = await self.request("GET", f"/datasets/{quote(dataset)}/classes")
        return LabelSpace.from_classes([(r["index"], r["concept"]) for r in rows], dataset)

    async def related(
        self, queries: Sequence[str], space: LabelSpace, *, levels: int = DEFAULT_LEVELS
    ) -> dict[str, npt.NDArray[np.int64]]:
        """As :meth:`BambooClient.related`."""
        if not queries:
            return {}
        body, index_of = _related_body(queries, space, levels)
        return _related_out(await self.request("POST", "/related", json=body), index_of)
