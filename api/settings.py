"""``ServiceSettings``: the one settings object of the service, read once at start."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bamboo.graph.store.connection import GraphSettings

__all__ = ["ServiceSettings"]

_PLACEHOLDERS = {"changeme", "change-me", "secret", "password", "apikey", "api-key", "xxx", "test"}


class ServiceSettings(BaseSettings):
    """Settings of the REST service (env prefix ``BAMBOO_``; graph settings under ``BAMBOO_GRAPH_``).

    Attributes:
        graph: Where the label system lives.
        api_key: Key required by write endpoints; unset means write endpoints are disabled.
        cypher_timeout_s: Time limit of a user Cypher query (cancelled in the database after it).
        cypher_max_rows: Row cap of a user Cypher query.
        cypher_max_bytes: Cap on the JSON size of a user Cypher query's rows.
        cypher_max_depth: Deepest nesting of a result value or a parameter of user Cypher.
        cypher_concurrency: User Cypher statements running at once; more get 503 with Retry-After.
        max_body_bytes: Largest request body accepted (413 above).
        tasks_db: The verification task store (SQLite, shared with the active-learning loop);
            unset means the /tasks endpoints and the verification screen are off.
        task_image_roots: The folders task images may be read from (a JSON list in
            ``BAMBOO_TASK_IMAGE_ROOTS``); unset: the task store's folder. A task image elsewhere,
            or a link out of them, is refused (403).
        task_image_max_bytes: The largest task image served.
        view_dir: Where the in-memory view is saved per graph version, so a restart at the same
            version skips the database read. Unset: ``<data_dir>/views`` for the embedded store,
            off for a Neo4j URI. ``"off"`` turns it off.
    """

    model_config = SettingsConfigDict(env_prefix="BAMBOO_", extra="ignore")

    graph: GraphSettings = Field(default_factory=GraphSettings)
    api_key: SecretStr | None = None
    cypher_timeout_s: float = Field(default=10.0, gt=0, le=600)
    cypher_max_rows: int = Field(default=1000, ge=1)
    cypher_max_bytes: int = Field(default=4_000_000, ge=1000)
    cypher_max_depth: int = Field(default=32, ge=1, le=100)
    cypher_concurrency: int = Field(default=2, ge=1, le=64)
    max_body_bytes: int = Field(default=2_000_000, ge=1000)
    tasks_db: Path | None = None
    task_image_roots: list[Path] = Field(default_factory=list)
    task_image_max_bytes: int = Field(default=20 * 2**20, ge=1)
    view_dir: Path | None = None

    def view_folder(self) -> Path | None:
        """The folder of saved views, or None when off (see ``view_dir``)."""
        if self.view_dir is not None:
            return None if str(self.view_dir) == "off" else self.view_dir
        return self.graph.data_dir / "views" if self.graph.embedded else None

    def task_image_folders(self) -> list[Path]:
        """The folders task images may be read from (see ``task_image_roots``)."""
        if self.task_image_roots:
            return list(self.task_image_roots)
        return [self.tasks_db.parent] if self.tasks_db is not None else []

    @field_validator("api_key")
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            secret = value.get_secret_value()
            if secret.lower() in _PLACEHOLDERS or len(secret) < 16:
                raise ValueError(
                    "BAMBOO_API_KEY must be a real secret of at least 16 characters, not a placeholder"
                )
        return value
