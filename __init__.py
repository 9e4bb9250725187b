"""Bamboo: a knowledge-graph label system for building vision datasets continually.

Subpackages: ``bamboo.graph`` (the label system in a graph store), ``bamboo.loaders`` (public
datasets' class lists), ``bamboo.api`` (the FastAPI service), ``bamboo.sdk`` (what training jobs
use), ``bamboo.training`` (timm / mmdet training). ``bamboo.cli`` is the ``bamboo`` command.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from bamboo.errors import (
    BambooError,
    ConceptNotFound,
    ConfigurationError,
    DatasetNotFound,
    GraphUnavailable,
    InvariantViolation,
    QueryError,
    QueryTimeout,
    ServiceError,
    SnapshotError,
    TaskNotFound,
    VoteRejected,
    WordNetNotFound,
)

try:
    __version__ = version("bamboo-labels")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "BambooError",
    "ConceptNotFound",
    "ConfigurationError",
    "DatasetNotFound",
    "GraphUnavailable",
    "InvariantViolation",
    "QueryError",
    "QueryTimeout",
    "ServiceError",
    "SnapshotError",
    "TaskNotFound",
    "VoteRejected",
    "WordNetNotFound",
    "__version__",
]
