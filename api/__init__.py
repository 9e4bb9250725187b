"""The Bamboo REST service (FastAPI): ``create_app`` builds it, ``bamboo serve`` runs it."""

from __future__ import annotations

from bamboo.api.app import create_app
from bamboo.api.settings import ServiceSettings

__all__ = ["ServiceSettings", "create_app"]
