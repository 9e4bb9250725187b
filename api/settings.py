"""``ServiceSettings``: the one settings object of the service, read once at start."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bamboo.graph.connection import GraphSettings

__all__ = ["ServiceSettings"]

_PLACEHOLDERS = {"changeme", "change-me", "secret", "password", "apikey", "api-key", "xxx", "test"}


class ServiceSettings(BaseSettings):
    """Settings of the REST service (env prefix ``BAMBOO_``; graph settings under ``BAMBOO_GRAPH_``).

    Attributes:
        graph: Where the label system lives.
        api_key: Key required by write endpoints; unset means write endpoints are disabled.
        cypher_timeout_s: Time limit of a user Cypher query.
        cypher_max_rows: Row cap of a user Cypher query.
        tasks_db: The verification task store (SQLite, shared with the active-learning loop);
            unset means the /tasks endpoints and the verification screen are off.
    """

    model_config = SettingsConfigDict(env_prefix="BAMBOO_", extra="ignore")

    graph: GraphSettings = Field(default_factory=GraphSettings)
    api_key: SecretStr | None = None
    cypher_timeout_s: float = 10.0
    cypher_max_rows: int = 1000
    tasks_db: Path | None = None

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
