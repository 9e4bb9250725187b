"""Run a user's read-only Cypher statement within limits: time, rows, bytes, nesting.

:class:`UserCypher` is handed a driver that logs in as a *read-only* database user (never the
admin credential) and a statement already re-written by :func:`bamboo.graph.readonly.check_read_only`.
At the time limit the statement is *terminated in the database*: closing the connection is not
enough (ArcadeDB's Bolt executor runs a statement to its end and ignores the transaction timeout
Neo4j honours), so :meth:`UserCypher.terminate` finds the reader's own transaction running that
statement (``SHOW TRANSACTIONS``, which shows a user only its own) and ends it with ``TERMINATE
TRANSACTIONS``, as the reader: no admin credential is involved. It then checks that it is gone.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, LiteralString, cast

import neo4j
import neo4j.graph
from neo4j.exceptions import AuthError, DriverError, Neo4jError, ServiceUnavailable, SessionExpired

from bamboo.errors import GraphUnavailable, QueryError, QueryTimeout

__all__ = ["CypherLimits", "CypherResult", "RunningStatement", "UserCypher"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CypherLimits:
    """Bounds of one user statement.

    Attributes:
        timeout_s: Wall-clock limit; the statement is cancelled in the database after it.
        max_rows: Rows returned at most (``truncated`` is set when more existed).
        max_bytes: JSON size of the returned rows at most (``truncated`` too).
        max_depth: Deepest nesting of a parameter or a result value (400 above it).
    """

    timeout_s: float = 10.0
    max_rows: int = 1000
    max_bytes: int = 4_000_000
    max_depth: int = 32


@dataclass(frozen=True)
class CypherResult:
    """A user statement's columns and rows, and whether (and by which cap) they were cut short."""

    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool
    truncated_by: str | None  # "rows" or "bytes"


class _TooDeep(Exception):
    pass


def _plain(value: Any, depth: int, limit: int) -> Any:
    """Graph values (nodes, relationships, paths, temporals) as plain JSON-able data."""
    if depth > limit:
        raise _TooDeep
    if isinstance(value, neo4j.graph.Node):
        return {
            "labels": sorted(value.labels),
            "properties": {k: _plain(v, depth + 2, limit) for k, v in value.items()},
        }
    if isinstance(value, neo4j.graph.Relationship):
        return {"type": value.type, "properties": {k: _plain(v, depth + 2, limit) for k, v in value.items()}}
    if isinstance(value, neo4j.graph.Path):
        return {
            "nodes": [_plain(n, depth + 2, limit) for n in value.nodes],
            "relationships": [_plain(r, depth + 2, limit) for r in value.relationships],
        }
    if isinstance(value, list):
        return [_plain(v, depth + 1, limit) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1, limit) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN / Infinity are not JSON
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def _depth(value: Any, limit: int, depth: int = 0) -> int:
    if depth > limit:
        return depth
    if isinstance(value, dict):
        return max((_depth(v, limit, depth + 1) for v in value.values()), default=depth + 1)
    if isinstance(value, list):
        return max((_depth(v, limit, depth + 1) for v in value), default=depth + 1)
    return depth


class RunningStatement:
    """A statement in flight on its own connection; ``cancelled`` is set when its time ran out."""

    def __init__(self, driver: neo4j.Driver) -> None:
        self._driver = driver
        self.cancelled = False

    def close(self) -> None:
        """Close the statement's connection."""
        self._driver.close()


class UserCypher:
    """Runs validated user statements as the reader user, one connection per statement.

    Args:
        uri: Bolt URI of the graph server.
        auth: The read-only user's credentials.
        database: The database to read.
        limits: Bounds of each statement.
    """

    def __init__(self, uri: str, auth: tuple[str, str], database: str, limits: CypherLimits) -> None:
        self._uri = uri
        self._auth = auth
        self._database = database
        self.limits = limits

    def open(self) -> RunningStatement:
        """A connection for one statement (run it with :meth:`run`; cancel it from elsewhere)."""
        driver = neo4j.GraphDatabase.driver(
            self._uri, auth=self._auth, max_connection_pool_size=1, connection_timeout=5
        )
        return RunningStatement(driver)

    def terminate(self, query: str, *, older_than_s: float) -> int:
        """End the reader's transactions running ``query`` for at least ``older_than_s`` seconds.

        Returns how many were still running a second later (0 when the cancel took).
        """
        driver = neo4j.GraphDatabase.driver(self._uri, auth=self._auth, max_connection_pool_size=1)
        try:
            with driver.session(database=self._database) as s:
                ids = self._running(s, query, older_than_s)
                if not ids:
                    return 0
                s.run("TERMINATE TRANSACTIONS $ids", ids=ids).consume()
                time.sleep(1.0)
                left = [i for i in self._running(s, query, older_than_s) if i in ids]
            if left:
                log.error("user Cypher statement still runs after TERMINATE TRANSACTIONS: %s", left)
            return len(left)
        except (Neo4jError, ServiceUnavailable, SessionExpired, OSError) as exc:
            log.error("could not terminate a timed-out user Cypher statement: %s", exc)
            return -1
        finally:
            driver.close()

    @staticmethod
    def _running(session: neo4j.Session, query: str, older_than_s: float) -> list[str]:
        ids = []
        for row in session.run("SHOW TRANSACTIONS"):
            elapsed = row.get("elapsedTime")
            seconds = elapsed.seconds + elapsed.nanoseconds / 1e9 if hasattr(elapsed, "seconds") else 0.0
            if row.get("currentQuery") == query and seconds >= older_than_s:
                ids.append(row["transactionId"])
        return ids

    def run(self, handle: RunningStatement, query: str, params: dict[str, Any]) -> CypherResult:
        """Run ``query`` (already re-written by ``check_read_only``) on ``handle``'s connection.

        Raises:
            QueryError: the database refused the statement, a parameter or a result is nested
                too deeply, or a parameter cannot be sent.
            QueryTimeout: the time limit passed (the statement was cancelled).
            GraphUnavailable: the database cannot be reached.
        """
        limits = self.limits
        if _depth(params, limits.max_depth) > limits.max_depth:
            raise QueryError(f"parameters are nested more than {limits.max_depth} levels deep")
        deadline = time.monotonic() + limits.timeout_s
        rows: list[dict[str, Any]] = []
        size = 0
        truncated_by: str | None = None
        try:
            with (
                handle._driver.session(database=self._database, default_access_mode=neo4j.READ_ACCESS) as s,
                s.begin_transaction(timeout=limits.timeout_s) as tx,
            ):
                result = tx.run(cast(LiteralString, query), params)
                for record in result:
                    if time.monotonic() > deadline:
                        raise QueryTimeout(
                            f"the query ran longer than {limits.timeout_s:g} s and was cancelled"
                        )
                    if len(rows) >= limits.max_rows:
                        truncated_by = "rows"
                        break
                    row = {k: _plain(v, 1, limits.max_depth) for k, v in record.items()}
                    size += len(json.dumps(row, ensure_ascii=False, default=str)) + 1
                    if size > limits.max_bytes:
                        truncated_by = "bytes"
                        break
                    rows.append(row)
                columns = list(result.keys())
                tx.rollback()
        except _TooDeep:
            raise QueryError(f"a result value is nested more than {limits.max_depth} levels deep") from None
        except (Neo4jError, DriverError, OSError) as exc:
            # cancelled by the service, or an error at or past the time limit: the database's own
            # limit fires then too, and its error is not always coded as a timeout (it raced the
            # service's 504 once under load and came back as a 400)
            if handle.cancelled or time.monotonic() >= deadline:
                raise QueryTimeout(
                    f"the query ran longer than {limits.timeout_s:g} s and was cancelled"
                ) from None
            if isinstance(exc, AuthError):
                raise GraphUnavailable(f"the database refused the read-only user: {exc.message}") from None
            # the database's own limit: ...TransactionTimedOut (ArcadeDB), ...Timeout... (Neo4j)
            if isinstance(exc, Neo4jError) and exc.code and ("Timeout" in exc.code or "TimedOut" in exc.code):
                raise QueryTimeout(
                    f"the query ran longer than {limits.timeout_s:g} s and was cancelled"
                ) from None
            if isinstance(exc, Neo4jError):
                raise QueryError(f"{exc.code}: {exc.message}") from None
            raise GraphUnavailable(f"graph database unavailable: {exc}") from None
        except (OverflowError, TypeError, ValueError, RecursionError) as exc:  # a parameter Bolt cannot carry
            raise QueryError(f"parameters cannot be sent to the database: {exc}") from None
        return CypherResult(
            columns=columns, rows=rows, truncated=truncated_by is not None, truncated_by=truncated_by
        )
