"""``POST /cypher``: read-only Cypher for power users, with a time limit and a row cap.

The statement runs in a small worker pool and the request waits at most ``cypher_timeout_s``
(then 504). The time limit is also sent as the transaction timeout, which Neo4j enforces; the
embedded ArcadeDB server ignores it and instead aborts any statement after its server-wide
``command_timeout_s``, so a runaway query stops there.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from bamboo.api.deps import Store, get_settings
from bamboo.api.settings import ServiceSettings
from bamboo.errors import QueryTimeout
from bamboo.graph.readonly import check_read_only

router = APIRouter(tags=["cypher"])


class CypherIn(BaseModel):
    query: str = Field(
        min_length=1,
        max_length=20_000,
        examples=["MATCH (c:Concept {id: $id})-[:IS_A]->(p) RETURN p.id AS id, p.name AS name"],
    )
    params: dict[str, Any] = Field(default_factory=dict, examples=[{"id": "wn:n02084071"}])


class CypherOut(BaseModel):
    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool = Field(description="true when more rows existed than the row cap")


@router.post("/cypher", response_model=CypherOut, summary="Run one read-only Cypher statement")
def post_cypher(
    body: CypherIn,
    request: Request,
    store: Store,
    settings: Annotated[ServiceSettings, Depends(get_settings)],
) -> CypherOut:
    check_read_only(body.query)
    pool: ThreadPoolExecutor = request.app.state.cypher_pool
    future = pool.submit(
        store.run_read_only,
        body.query,
        body.params,
        timeout_s=settings.cypher_timeout_s,
        max_rows=settings.cypher_max_rows,
    )
    try:
        columns, rows, truncated = future.result(timeout=settings.cypher_timeout_s)
    except FutureTimeout:
        future.cancel()
        raise QueryTimeout(
            f"the query ran longer than {settings.cypher_timeout_s:g} s and was abandoned"
        ) from None
    return CypherOut(columns=columns, rows=rows, truncated=truncated)
