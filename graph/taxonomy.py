"""``Taxonomy``: the label system in memory as CSR arrays, loaded from a snapshot file.

A snapshot is one compressed ``.npz`` written by :func:`bamboo.graph.snapshot.write_snapshot`:
sorted concept ids, names, lemmas, and the parent lists as CSR (``parent_indptr``,
``parent_indices``). Loading it needs numpy only, so training jobs answer taxonomy questions
without a database or one HTTP call per image.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bamboo.errors import ConceptNotFound, SnapshotError

__all__ = ["SNAPSHOT_FORMAT", "Taxonomy"]

SNAPSHOT_FORMAT = "bamboo-taxonomy/1"
_ARRAYS = ("ids", "names", "lemmas", "parent_indptr", "parent_indices", "meta")


class Taxonomy:
    """An immutable DAG of concepts with index-based and id-based lookups.

    Args:
        ids: Concept ids, sorted.
        names: Display name per concept.
        parent_indptr: CSR row pointers of the parent lists (``len(ids) + 1``).
        parent_indices: Parent positions, concatenated.
        lemmas: Lemmas per concept (optional).
        meta: Snapshot metadata (format, content hash, counts).
    """

    def __init__(
        self,
        ids: npt.NDArray[np.str_],
        names: npt.NDArray[np.str_],
        parent_indptr: npt.NDArray[np.int64],
        parent_indices: npt.NDArray[np.int32],
        *,
        lemmas: list[tuple[str, ...]] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        if len(parent_indptr) != len(ids) + 1 or len(names) != len(ids):
            raise SnapshotError("inconsistent taxonomy arrays: ids, names and parent_indptr disagree in length")
        self.ids = ids
        self.names = names
        self.parent_indptr = parent_indptr
        self.parent_indices = parent_indices
        self.lemmas = lemmas
        self.meta = meta or {}
        self._pos = {str(cid): i for i, cid in enumerate(ids)}
        # Children CSR, derived once: sort the (parent, child) pairs by parent.
        child_of = np.repeat(np.arange(len(ids), dtype=np.int32), np.diff(parent_indptr))
        order = np.argsort(parent_indices, kind="stable")
        self.child_indices = child_of[order]
        counts = np.bincount(parent_indices, minlength=len(ids))
        self.child_indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    # --- loading ----------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Taxonomy:
        """Load a snapshot written by ``bamboo snapshot``.

        Raises:
            SnapshotError: missing, truncated, or of another format version.
        """
        path = Path(path)
        try:
            # Open the file ourselves: np.load leaks its handle when the zip is truncated.
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as data:
                missing = [k for k in _ARRAYS if k not in data.files]
                if missing:
                    raise SnapshotError(f"{path} is not a Bamboo taxonomy snapshot (missing {missing})")
                meta = json.loads(str(data["meta"]))
                if meta.get("format") != SNAPSHOT_FORMAT:
                    raise SnapshotError(
                        f"{path} has snapshot format {meta.get('format')!r}; this version reads {SNAPSHOT_FORMAT!r}"
                    )
                lemmas = [tuple(x.split("\x1f")) if x else () for x in data["lemmas"].tolist()]
                return cls(
                    data["ids"],
                    data["names"],
                    data["parent_indptr"],
                    data["parent_indices"],
                    lemmas=lemmas,
                    meta=meta,
                )
        except FileNotFoundError as exc:
            raise SnapshotError(f"snapshot {path} does not exist; write one with `bamboo snapshot {path}`") from exc
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            if isinstance(exc, SnapshotError):
                raise
            raise SnapshotError(f"snapshot {path} is unreadable or truncated: {exc}") from exc

    # --- lookups ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, concept_id: object) -> bool:
        return concept_id in self._pos

    def index(self, concept_id: str) -> int:
        """Position of ``concept_id``; raises :class:`ConceptNotFound`."""
        try:
            return self._pos[concept_id]
        except KeyError:
            raise ConceptNotFound(concept_id) from None

    def indices(self, concept_ids: Iterable[str]) -> npt.NDArray[np.int64]:
        return np.fromiter((self.index(c) for c in concept_ids), dtype=np.int64)

    def name(self, concept_id: str) -> str:
        return str(self.names[self.index(concept_id)])

    def parent_positions(self, pos: int) -> npt.NDArray[np.int32]:
        return self.parent_indices[self.parent_indptr[pos] : self.parent_indptr[pos + 1]]

    def child_positions(self, pos: int) -> npt.NDArray[np.int32]:
        return self.child_indices[self.child_indptr[pos] : self.child_indptr[pos + 1]]

    def parents(self, concept_id: str) -> list[str]:
        return [str(self.ids[p]) for p in self.parent_positions(self.index(concept_id))]

    def children(self, concept_id: str) -> list[str]:
        return [str(self.ids[c]) for c in self.child_positions(self.index(concept_id))]

    def _bfs(self, start: int, up: bool) -> Iterator[tuple[int, int]]:
        step = self.parent_positions if up else self.child_positions
        seen = {start}
        queue = deque([(start, 0)])
        while queue:
            pos, depth = queue.popleft()
            for nxt in step(pos):
                nxt = int(nxt)
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append((nxt, depth + 1))
                    yield nxt, depth + 1

    def ancestor_depths(self, concept_id: str) -> dict[str, int]:
        """Ancestor id → shortest number of IS_A edges up to it."""
        return {str(self.ids[p]): d for p, d in self._bfs(self.index(concept_id), up=True)}

    def ancestors(self, concept_id: str) -> set[str]:
        return set(self.ancestor_depths(concept_id))

    def descendants(self, concept_id: str) -> set[str]:
        return {str(self.ids[p]) for p, _ in self._bfs(self.index(concept_id), up=False)}
