"""Connection settings for the graph store, identical for Neo4j and the embedded default.

``GraphSettings`` is read once by the CLI or the service (flags override the ``BAMBOO_GRAPH_*``
environment). With no ``uri`` the embedded ArcadeDB server under ``data_dir`` is used; with a
``uri`` (e.g. ``neo4j://db:7687``) that server is used and nothing is started.
"""

from __future__ import annotations

from pathlib import Path

import neo4j
from neo4j.exceptions import AuthError, ServiceUnavailable
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bamboo import paths
from bamboo.errors import ConfigurationError, GraphUnavailable
from bamboo.graph.store.embedded import EmbeddedServer, server_status, start_server

__all__ = ["GraphSettings", "default_data_dir", "open_driver", "reader_credentials"]


def default_data_dir() -> Path:
    """The embedded store's default folder, ``$XDG_DATA_HOME/bamboo`` (``~/.local/share/bamboo``).

    Read when :class:`GraphSettings` is built, not when this module is imported.
    """
    return paths.data_dir()


class GraphSettings(BaseSettings):
    """Where the label system lives.

    Attributes:
        uri: Bolt URI of a Neo4j (or compatible) server; empty means the embedded default.
        user: User name for ``uri``.
        password: Password for ``uri``.
        database: Database name (Neo4j's default is ``neo4j``; the embedded one is ``bamboo``).
        data_dir: Folder of the embedded server (databases, log, state).
        bolt_port: Bolt port of the embedded server.
        http_port: ArcadeDB HTTP port of the embedded server.
        heap: Java heap of the embedded server.
        command_timeout_s: Longest a single statement may run on the embedded server.
        reader_user: A database user that can only read (user Cypher runs as it). The embedded
            store creates its own; for Neo4j, create one with the ``reader`` role.
        reader_password: That user's password.
        reader_timeout_s: Per-statement limit the embedded server enforces for its reader.
    """

    model_config = SettingsConfigDict(env_prefix="BAMBOO_GRAPH_", extra="ignore")

    uri: str | None = None
    user: str = "neo4j"
    password: SecretStr | None = None
    database: str = "bamboo"
    data_dir: Path = Field(default_factory=default_data_dir)
    bolt_port: int = 7687
    http_port: int = 2480
    heap: str = "2g"
    command_timeout_s: float = 60.0
    reader_user: str | None = None
    reader_password: SecretStr | None = None
    reader_timeout_s: float = 10.0

    @property
    def embedded(self) -> bool:
        """Whether the embedded store is used (no ``uri``)."""
        return not self.uri

    def embedded_server(self) -> EmbeddedServer:
        """The embedded ArcadeDB server these settings describe (not started)."""
        return EmbeddedServer(
            data_dir=self.data_dir,
            bolt_port=self.bolt_port,
            http_port=self.http_port,
            database=self.database,
            heap=self.heap,
            command_timeout_s=self.command_timeout_s,
            reader_timeout_s=self.reader_timeout_s,
        )


def open_driver(settings: GraphSettings, *, start: bool = True) -> neo4j.Driver:
    """Open (and verify) a driver for ``settings``.

    For the embedded default the server is started when ``start`` is true and it is not running.

    Raises:
        GraphUnavailable: nothing answers, or the credentials are refused.
    """
    if settings.embedded:
        info = server_status(settings.data_dir.expanduser().resolve())
        if info is None:
            if not start:
                raise GraphUnavailable(
                    f"no embedded graph server runs for {settings.data_dir}; start it with `bamboo db start`"
                )
            info = start_server(settings.embedded_server())
        uri, auth = info.uri, (info.user, info.password)
    else:
        assert settings.uri is not None
        if settings.password is None:
            raise ConfigurationError("BAMBOO_GRAPH_PASSWORD (or --password) is required with a graph URI")
        uri, auth = settings.uri, (settings.user, settings.password.get_secret_value())
    driver = neo4j.GraphDatabase.driver(uri, auth=auth, connection_timeout=10, max_connection_pool_size=64)
    try:
        driver.verify_connectivity()
    except (ServiceUnavailable, AuthError, OSError) as exc:
        driver.close()
        raise GraphUnavailable(f"cannot reach the graph database at {uri}: {exc}") from exc
    return driver


def reader_credentials(settings: GraphSettings) -> tuple[str, tuple[str, str]] | None:
    """``(uri, (user, password))`` of the read-only user, or None when there is none.

    The embedded server's reader is the one ``bamboo db start`` created (in its state file); for a
    server given by URI it is ``reader_user`` / ``reader_password``. Never the admin credential.
    """
    if settings.embedded:
        info = server_status(settings.data_dir.expanduser().resolve())
        if info is None or not info.reader_password:
            return None
        return info.uri, (info.reader_user, info.reader_password)
    if settings.reader_user and settings.reader_password and settings.reader_password.get_secret_value():
        assert settings.uri is not None
        return settings.uri, (settings.reader_user, settings.reader_password.get_secret_value())
    return None
