"""``POST /cypher``: one read-only Cypher statement, as the read-only database user, within limits.

The statement is parsed and allowlisted (:mod:`bamboo.graph.usercypher.guard`) and the re-written text is
what runs. At most ``cypher_concurrency`` statements are checked or run at once, in their own
thread pool (more get 503 with ``Retry-After``), so the rest of the service never waits behind
them: parsing is off the event loop and under the same limit as execution. At the time limit the
statement is terminated in the database (as the reader user) and the answer is 504; its slot is
held until the database has let go of it, so statements the database is slow to stop cannot
stack up behind the 504s.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from bamboo.api.deps import get_settings
from bamboo.api.settings import ServiceSettings
from bamboo.errors import GraphBusy, GraphUnavailable, QueryTimeout
from bamboo.graph.usercypher.guard import check_read_only
from bamboo.graph.usercypher.runner import CypherResult, UserCypher

router = APIRouter(tags=["cypher"])


class CypherIn(BaseModel):
    """A read-only Cypher statement and its parameters."""

    query: str = Field(
        min_length=1,
        max_length=20_000,
        examples=["MATCH (c:Concept {id: $id})-[:IS_A]->(p) RETURN p.id AS id, p.name AS name"],
    )
    params: dict[str, Any] = Field(default_factory=dict, examples=[{"id": "wn:n02084071"}])


class CypherOut(BaseModel):
    """The statement's columns and rows, and whether a cap cut them short."""

    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool = Field(description="true when more rows existed than the row or byte cap")
    truncated_by: str | None = Field(default=None, description="rows or bytes: the cap that cut the result")


class CypherGate:
    """The user-Cypher runner with its own pool and concurrency slots (one per app)."""

    def __init__(self, runner: UserCypher | None, concurrency: int, *, why_off: str = "") -> None:
        self.runner = runner
        self.why_off = why_off
        self.slots = threading.BoundedSemaphore(concurrency)
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="bamboo-cypher")

    def close(self) -> None:
        """Shut the pool down without waiting; queued statements are cancelled."""
        self.pool.shutdown(wait=False, cancel_futures=True)


@router.post(
    "/cypher",
    response_model=CypherOut,
    summary="Run one read-only Cypher statement",
    responses={
        400: {"description": "refused by the read-only allowlist, or rejected by the database"},
        413: {"description": "request body too large"},
        503: {"description": "all user-Cypher slots busy (Retry-After), or no read-only credential"},
        504: {"description": "time limit passed; the statement was cancelled in the database"},
    },
)
async def post_cypher(
    body: CypherIn, request: Request, settings: Annotated[ServiceSettings, Depends(get_settings)]
) -> CypherOut:
    """Run one read-only Cypher statement and answer its columns and rows.

    The statement must pass the read-only allowlist (400 otherwise) and runs as the read-only
    database user; rows are capped by count and size (``truncated`` says when). 503 when all
    statement slots are busy (retry after ``Retry-After``) or user Cypher is off; 504 when the
    time limit passes and the statement is cancelled in the database.
    """
    gate: CypherGate = request.app.state.cypher
    if gate.runner is None:
        raise GraphUnavailable(f"user Cypher is off: {gate.why_off}")
    if not gate.slots.acquire(blocking=False):
        raise GraphBusy(
            f"{settings.cypher_concurrency} user Cypher statements are already running; retry shortly"
        )
    runner = gate.runner
    # The slot is given back by whichever ends last: the worker, and this request's own hold, which
    # after a time-out passes to a watch that waits for the database to let go of the statement.
    holders = [2]
    holders_lock = threading.Lock()

    def let_go() -> None:
        with holders_lock:
            holders[0] -= 1
            done = holders[0] == 0
        if done:
            gate.slots.release()

    # A tag of our own makes the text unique, so that a cancel (which finds the statement by its
    # text) ends this statement and not another user's identical one.
    tag = f"\n/* bamboo statement {uuid.uuid4().hex} */"
    sent: list[str] = []
    handle = None

    def work() -> CypherResult:
        nonlocal handle
        try:
            query = check_read_only(body.query) + tag
            sent.append(query)
            handle = runner.open()
            try:
                return runner.run(handle, query, body.params)
            finally:
                handle.close()
        finally:
            let_go()

    try:
        future = asyncio.get_running_loop().run_in_executor(gate.pool, work)
    except RuntimeError:  # the pool is shut down: the service is stopping
        let_go()
        let_go()
        raise GraphUnavailable("the service is stopping") from None
    watching = False
    future.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved even after a 504
    try:
        result = await asyncio.wait_for(asyncio.shield(future), timeout=settings.cypher_timeout_s)
    except TimeoutError:
        if handle is not None:
            handle.cancelled = True
        watching = True

        def stop() -> None:
            try:
                if sent:
                    runner.terminate(sent[0], older_than_s=settings.cypher_timeout_s * 0.5)
                if handle is not None:
                    handle.close()
            finally:
                # this request's hold on the slot passes to a watch that ends when the database
                # has let go of the statement
                def watch() -> None:
                    try:
                        if sent:
                            runner.wait_gone(sent[0])
                    finally:
                        let_go()

                threading.Thread(target=watch, name="bamboo-cypher-watch", daemon=True).start()

        await asyncio.get_running_loop().run_in_executor(None, stop)
        raise QueryTimeout(
            f"the query ran longer than {settings.cypher_timeout_s:g} s and was cancelled"
        ) from None
    finally:
        if not watching:
            let_go()
    return CypherOut(
        columns=result.columns, rows=result.rows, truncated=result.truncated, truncated_by=result.truncated_by
    )
