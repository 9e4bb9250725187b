"""The one exception tree of Bamboo.

Every error the library raises on purpose derives from :class:`BambooError`; subclasses also
derive from the built-in that fits, so ``except KeyError`` still catches an unknown concept::

    BambooError
    ├── ConfigurationError (ValueError)      bad settings, placeholder secrets, bad flags
    ├── WordNetNotFound (FileNotFoundError)  no WordNet 3.0 dict folder where we looked
    ├── GraphUnavailable (ConnectionError)   the graph database cannot be reached or started
    │   └── GraphBusy                        no slot for user Cypher, or a write kept meeting others; retry
    │       └── PlanPending                  a crawl pair plan is being built; retry after Retry-After
    ├── QueryError                           the graph database rejected a statement
    │   ├── QueryTimeout (TimeoutError)      a statement ran past its time limit
    │   └── UnreadableValue                  a result value the driver cannot carry (a date out of range)
    ├── ConceptNotFound (KeyError)           an id that is not in the label system
    ├── DatasetNotFound (KeyError)           a dataset name that is not in the label system
    ├── VoteRejected                         a tag vote that the rules do not allow
    ├── InvariantViolation (ValueError)      the graph would break acyclicity / rootedness / uniqueness
    ├── SnapshotError (ValueError)           a snapshot file is missing, truncated or of another version
    ├── MalformedFile (ValueError)           a dataset or gold file breaks its format (file and line named)
    ├── FileRefused (PermissionError)        a local file Bamboo will not serve (outside its folders, no file)
    ├── WikidataError (ConnectionError)      the Wikidata endpoint failed in a way waiting does not fix
    └── ServiceError                         the Bamboo API refused a request or stayed unreachable (SDK)

HTTP status codes are chosen from these only in ``bamboo.api``. Text that came from a file or a
user goes into a message through :func:`printable`, so no message can carry a terminal escape.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable

__all__ = [
    "BambooError",
    "ConceptNotFound",
    "ConfigurationError",
    "DatasetNotFound",
    "FileRefused",
    "GraphBusy",
    "GraphUnavailable",
    "InvariantViolation",
    "MalformedFile",
    "PlanPending",
    "QueryError",
    "QueryTimeout",
    "ServiceError",
    "SnapshotError",
    "TaskNotFound",
    "UnreadableValue",
    "VoteRejected",
    "WikidataError",
    "WordNetNotFound",
    "closest_name",
    "printable",
]


def printable(text: str, limit: int | None = None) -> str:
    """``text`` safe to print on a terminal: control, formatting (bidi overrides, zero-width) and
    other invisible characters escaped as Python writes them (``\\x1b``, ``\\u202e``); cut to
    ``limit`` characters with ``...`` when longer.

    >>> printable("red\\x1b[31m \\u202eevil"), printable("abcdef", 3)
    ('red\\\\x1b[31m \\\\u202eevil', 'abc...')
    """
    cut = text if limit is None else text[:limit]
    if not cut.isprintable():
        cut = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in cut)
    return cut + ("..." if limit is not None and len(text) > limit else "")


class BambooError(Exception):
    """Base class of every error Bamboo raises on purpose."""


class ConfigurationError(BambooError, ValueError):
    """A setting or flag is missing, malformed or a placeholder."""


class WordNetNotFound(BambooError, FileNotFoundError):
    """No WordNet 3.0 dictionary folder could be found."""


class GraphUnavailable(BambooError, ConnectionError):
    """The graph database cannot be reached, authenticated against, or started."""


class GraphBusy(GraphUnavailable):
    """Every slot for user Cypher statements is taken, or a rule-checked write kept meeting
    concurrent writes of the same key; nothing was written and the request may be retried shortly."""


class PlanPending(GraphBusy):
    """A crawl pair plan is being built in the background; ``retry_after`` seconds is a fair wait."""

    def __init__(self, message: str, *, retry_after: int = 10) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QueryError(BambooError):
    """The graph database rejected a statement (syntax, constraint, or a forbidden clause)."""


class QueryTimeout(QueryError, TimeoutError):
    """A statement ran past its time limit."""


class UnreadableValue(QueryError):
    """A statement's result holds a value the driver cannot read (a date outside its range)."""


class ConceptNotFound(BambooError, KeyError):
    """A concept id that is not in the label system."""

    def __init__(self, concept_id: str, *, suggestion: str | None = None) -> None:
        super().__init__(concept_id)
        self.concept_id = concept_id
        self.suggestion = suggestion

    def __str__(self) -> str:
        hint = f"; did you mean {self.suggestion!r}?" if self.suggestion else ""
        return f"unknown concept id {printable(self.concept_id, 200)!r}{hint}"


class InvariantViolation(BambooError, ValueError):
    """The graph violates one of its invariants (acyclic, rooted at entity, unique ids)."""


class SnapshotError(BambooError, ValueError):
    """A taxonomy snapshot is missing, malformed, or written by an incompatible version."""


class MalformedFile(BambooError, ValueError):
    """A dataset file that does not follow its official format; the message names the file and line.

    Args:
        path: The file.
        line: The 1-based line of the problem, or ``None`` when it concerns the whole file.
        problem: What is wrong, said so the user can fix it.
    """

    def __init__(self, path: str | os.PathLike[str], line: int | None, problem: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(printable(f"{where}: {problem}"))
        self.path = str(path)
        self.line = line


class FileRefused(BambooError, PermissionError):
    """A local file Bamboo will not read or serve: it resolves outside the allowed folders, is not a
    regular file (a folder, a FIFO, a device), or is larger than the limit."""


class WikidataError(BambooError, ConnectionError):
    """The Wikidata endpoint failed in a way waiting does not fix (bad query, too many retries)."""


class DatasetNotFound(BambooError, KeyError):
    """A dataset name that is not in the label system (``known``: the names there are, to suggest
    the one meant: ``cifar10`` -> ``cifar-10``)."""

    def __init__(self, name: str, *, known: Iterable[str] = ()) -> None:
        super().__init__(name)
        self.name = name
        self.suggestion = closest_name(name, known)

    def __str__(self) -> str:
        hint = f"; did you mean {self.suggestion!r}?" if self.suggestion else ""
        return f"unknown dataset {printable(self.name, 200)!r}{hint}"


def closest_name(name: str, known: Iterable[str]) -> str | None:
    """The known name ``name`` means: the same letters and digits (``cifar10``, ``CIFAR_10``), else a
    close spelling; None when none is close.

    >>> closest_name("cifar10", ["cifar-10", "cifar-100"]), closest_name("imagenet1k", ["imagenet-1k"])
    ('cifar-10', 'imagenet-1k')
    >>> closest_name("places", ["coco"]) is None
    True
    """
    names = list(known)

    def squeeze(text: str) -> str:
        return "".join(ch for ch in text.lower() if ch.isalnum())

    same = [k for k in names if squeeze(k) == squeeze(name)]
    if same:
        return same[0]
    close = difflib.get_close_matches(squeeze(name), [squeeze(k) for k in names], n=1, cutoff=0.85)
    return next((k for k in names if close and squeeze(k) == close[0]), None)


class TaskNotFound(BambooError, KeyError):
    """No verification task with this id in the task store."""

    def __init__(self, task_id: int) -> None:
        super().__init__(task_id)
        self.task_id = task_id

    def __str__(self) -> str:
        return f"no verification task {self.task_id}"


class VoteRejected(BambooError):
    """A tag vote the rules do not allow (a sixth annotator, *common* before *visual*)."""


class ServiceError(BambooError):
    """The Bamboo API answered a request with an error, or could not be reached after retries.

    ``status`` is the HTTP status (``None`` when no answer came) and ``detail`` the API's message.
    """

    def __init__(self, message: str, *, status: int | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail
