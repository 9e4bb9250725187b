"""Run a user's read-only Cypher statement within limits: time, rows, bytes, nesting.

:class:`UserCypher` is handed a driver that logs in as a *read-only* database user (never the
admin credential) and a statement already re-written by :func:`bamboo.graph.usercypher.guard.check_read_only`.
At the time limit the statement is *terminated in the database*: closing the connection is not
enough (ArcadeDB's Bolt executor runs a statement to its end and ignores the transaction timeout
Neo4j honours), so :meth:`UserCypher.terminate` finds the reader's own transaction running that
statement (``SHOW TRANSACTIONS``, which shows a user only its own) and ends it with ``TERMINATE
TRANSACTIONS``, as the reader: no admin credential is involved. It then checks that it is gone,
and :meth:`UserCypher.wait_gone` waits until the database has let go of it (the service keeps
the statement's slot until then, so statements the database does not stop cannot pile up).

Results are bounded while they arrive, not after: a plain ``bolt://`` connection goes through
:class:`ByteCap`, a loopback relay that cuts the connection once the database has sent more than
a budget of bytes, so a single huge value (a string doubled in a loop) never reaches this
process's memory whole. The rows that arrived before the cut are answered, ``truncated_by``
"bytes". (Over TLS the relay cannot stand in the middle; there the cap is checked per row.)
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import selectors
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, LiteralString, cast

import neo4j
import neo4j.graph
from neo4j._codec.hydration import BrokenHydrationObject
from neo4j.exceptions import (
    AuthError,
    BrokenRecordError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)

from bamboo.errors import GraphUnavailable, QueryError, QueryTimeout, UnreadableValue

__all__ = ["ByteCap", "CypherLimits", "CypherResult", "RunningStatement", "UserCypher"]

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


class _Broken(Exception):
    def __init__(self, value: BrokenHydrationObject) -> None:
        super().__init__(str(value.error))
        self.value = value


def _unreadable(column: str, error: BaseException | None) -> UnreadableValue:
    why = str(error) if error is not None else "not a value the driver knows"
    why = why.encode("ascii", "backslashreplace").decode("ascii")[:300]
    return UnreadableValue(
        f"a value in column {column!r} cannot be carried to the client (the database sent a value "
        f"outside the range the driver reads: {why})"
    )


def _plain(value: Any, depth: int, limit: int) -> Any:
    """Graph values (nodes, relationships, paths, temporals) as plain JSON-able data."""
    if depth > limit:
        raise _TooDeep
    if isinstance(value, BrokenHydrationObject):
        raise _Broken(value)
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


class ByteCap:
    """A loopback relay for one Bolt connection that cuts it after ``budget`` bytes from the server.

    The driver connects to :attr:`address`; the relay connects on to ``upstream`` and copies bytes
    both ways in one thread, counting what the server sends. Past the budget it closes both ends
    (the driver then fails mid-result and :attr:`cut` is true), so no reply larger than the budget
    is ever buffered whole in this process.
    """

    def __init__(self, upstream: tuple[str, int], budget: int) -> None:
        self.upstream = upstream
        self.budget = budget
        self.received = 0
        self.cut = False
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(10)
        self.address = self._listener.getsockname()[:2]
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._relay, name="bamboo-cypher-relay", daemon=True)
        self._thread.start()

    def _relay(self) -> None:
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        finally:
            self._listener.close()
        try:
            server = socket.create_connection(self.upstream, timeout=10)
        except OSError:
            client.close()
            return
        with client, server, selectors.DefaultSelector() as sel:
            sel.register(client, selectors.EVENT_READ, server)
            sel.register(server, selectors.EVENT_READ, client)
            while not self._closed.is_set():
                for key, _ in sel.select(timeout=0.5):
                    src = key.fileobj
                    assert isinstance(src, socket.socket)
                    try:
                        data = src.recv(65536)
                    except OSError:
                        return
                    if not data:
                        return
                    if src is server:
                        self.received += len(data)
                        if self.received > self.budget:
                            self.cut = True
                            return
                    try:
                        key.data.sendall(data)
                    except OSError:
                        return

    def close(self) -> None:
        """Stop relaying (both ends close within half a second)."""
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.close()


class RunningStatement:
    """A statement in flight on its own connection; ``cancelled`` is set when its time ran out."""

    def __init__(self, driver: neo4j.Driver, relay: ByteCap | None = None) -> None:
        self._driver = driver
        self.relay = relay
        self.cancelled = False

    def close(self) -> None:
        """Close the statement's connection."""
        self._driver.close()
        if self.relay is not None:
            self.relay.close()


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

    def _direct(self) -> tuple[str, int] | None:
        """The server's address when the URI is plain Bolt (no TLS): the relay can stand between."""
        scheme, _, rest = self._uri.partition("://")
        if scheme not in ("bolt", "neo4j"):
            return None
        netloc = rest.split("/", 1)[0].rsplit("@", 1)[-1]
        host, _, port = netloc.rpartition(":")
        if not host or not port.isdigit():
            return (netloc.strip("[]"), 7687)
        return (host.strip("[]"), int(port))

    def open(self) -> RunningStatement:
        """A connection for one statement (run it with :meth:`run`; cancel it from elsewhere)."""
        upstream = self._direct()
        relay = None
        uri = self._uri
        if upstream is not None:
            # Bolt carries rows more compactly than JSON, at worst about as large: twice the JSON cap
            # plus room for the handshake and metadata bounds what a capped answer needs.
            relay = ByteCap(upstream, 2 * self.limits.max_bytes + 1_000_000)
            uri = f"bolt://{relay.address[0]}:{relay.address[1]}"
        driver = neo4j.GraphDatabase.driver(
            uri, auth=self._auth, max_connection_pool_size=1, connection_timeout=5
        )
        return RunningStatement(driver, relay)

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

    def wait_gone(self, query: str, *, poll_s: float = 1.0, give_up_s: float = 3600.0) -> bool:
        """Block until no transaction of the reader runs ``query`` (True), or ``give_up_s`` passed.

        Each poll terminates what still runs. The service holds a statement's slot until this
        returns, so a statement the database does not stop at once still counts against the
        concurrency limit while it runs.
        """
        end = time.monotonic() + give_up_s
        driver = neo4j.GraphDatabase.driver(self._uri, auth=self._auth, max_connection_pool_size=1)
        try:
            with driver.session(database=self._database) as s:
                while time.monotonic() < end:
                    ids = self._running(s, query, 0.0)
                    if not ids:
                        return True
                    s.run("TERMINATE TRANSACTIONS $ids", ids=ids).consume()
                    time.sleep(poll_s)
        except (Neo4jError, ServiceUnavailable, SessionExpired, OSError) as exc:
            log.error("could not watch a timed-out user Cypher statement: %s", exc)
            return False
        finally:
            driver.close()
        log.error("user Cypher statement still runs after %.0f s; releasing its slot", give_up_s)
        return False

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
        columns: list[str] = []
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
                columns = list(result.keys())
                for record in result:
                    if time.monotonic() > deadline:
                        raise QueryTimeout(
                            f"the query ran longer than {limits.timeout_s:g} s and was cancelled"
                        )
                    if len(rows) >= limits.max_rows:
                        truncated_by = "rows"
                        break
                    row = {}
                    for column, value in zip(columns, tuple.__iter__(record), strict=True):
                        try:
                            row[column] = _plain(value, 1, limits.max_depth)
                        except _Broken as broken:
                            raise _unreadable(column, broken.value.error) from None
                    size += len(json.dumps(row, ensure_ascii=False, default=str)) + 1
                    if size > limits.max_bytes:
                        truncated_by = "bytes"
                        break
                    rows.append(row)
                tx.rollback()
        except _TooDeep:
            raise QueryError(f"a result value is nested more than {limits.max_depth} levels deep") from None
        except BrokenRecordError as exc:
            raise _unreadable("?", exc.__cause__) from None
        except (Neo4jError, DriverError, OSError) as exc:
            if handle.relay is not None and handle.relay.cut:
                # the answer passed the byte budget on the wire: what arrived before is the answer
                return CypherResult(columns=columns, rows=rows, truncated=True, truncated_by="bytes")
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
