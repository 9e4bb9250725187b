"""``Taxonomy``: the label system in memory as CSR arrays, loaded from a snapshot file.

A snapshot is one compressed ``.npz`` written by :func:`bamboo.graph.taxonomy.snapshot.write_snapshot`:
sorted concept ids, names, lemmas, and the parent lists as CSR (``parent_indptr``,
``parent_indices``). Loading it needs numpy only, so training jobs answer taxonomy questions
without a database or one HTTP call per image.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from bamboo.errors import ConceptNotFound, SnapshotError
from bamboo.graph.taxonomy.codec import LEMMA_SEP, join_rows, split_rows

__all__ = ["READABLE_FORMATS", "SNAPSHOT_FORMAT", "Taxonomy"]

SNAPSHOT_FORMAT = "bamboo-taxonomy/2"
#: Formats :meth:`Taxonomy.load` reads: 1 kept ids, names and lemmas as fixed-width text arrays
#: (as wide as the longest name: slow to write and load at 300K concepts); 2 keeps each as one UTF-8
#: text, rows separated by ``\x1e`` (lemmas of a row by ``\x1f``).
READABLE_FORMATS = ("bamboo-taxonomy/1", SNAPSHOT_FORMAT)
_ARRAYS = {
    "bamboo-taxonomy/1": ("ids", "names", "lemmas", "parent_indptr", "parent_indices", "meta"),
    SNAPSHOT_FORMAT: ("ids_text", "names_text", "lemmas_text", "parent_indptr", "parent_indices", "meta"),
}


class Taxonomy:
    """An immutable DAG of concepts with index-based and id-based lookups.

    Args:
        ids: Concept ids, sorted.
        names: Display name per concept.
        parent_indptr: CSR row pointers of the parent lists (``len(ids) + 1``).
        parent_indices: Parent positions, concatenated.
        lemmas: Lemmas per concept (optional).
        meta: Snapshot metadata (format, content hash, counts).
        label_spaces: Per dataset, its classes as ``(class index, concept id)`` in index order
            (optional; snapshots carry them so the SDK can answer label-space questions offline).
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
        label_spaces: dict[str, list[tuple[int, str]]] | None = None,
        positions: dict[str, int] | None = None,
    ) -> None:
        """``positions`` (id -> position in ``ids``) may be given by a caller that has it already."""
        if len(parent_indptr) != len(ids) + 1 or len(names) != len(ids):
            raise SnapshotError(
                "inconsistent taxonomy arrays: ids, names and parent_indptr disagree in length"
            )
        self.ids = ids
        self.names = names
        self.parent_indptr = parent_indptr
        self.parent_indices = parent_indices
        self.lemmas = lemmas
        self.meta = meta or {}
        self.label_spaces = label_spaces or {}
        self._pos = positions if positions is not None else {str(cid): i for i, cid in enumerate(ids)}
        # Children CSR, derived once: sort the (parent, child) pairs by parent.
        child_of = np.repeat(np.arange(len(ids), dtype=np.int32), np.diff(parent_indptr))
        order = np.argsort(parent_indices, kind="stable")
        self.child_indices = child_of[order]
        counts = np.bincount(parent_indices, minlength=len(ids))
        self.child_indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._root_depths: npt.NDArray[np.int32] | None = None
        self._lists_cache: _Lists | None = None

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
                meta = json.loads(str(data["meta"])) if "meta" in data.files else {}
                if meta.get("format") not in READABLE_FORMATS:
                    if "meta" not in data.files or not meta.get("format"):
                        raise SnapshotError(f"{path} is not a Bamboo taxonomy snapshot (no format metadata)")
                    raise SnapshotError(
                        f"{path} has snapshot format {meta.get('format')!r}; "
                        f"this version reads {', '.join(repr(f) for f in READABLE_FORMATS)}"
                    )
                missing = [k for k in _ARRAYS[meta["format"]] if k not in data.files]
                if missing:
                    raise SnapshotError(f"{path} is not a Bamboo taxonomy snapshot (missing {missing})")
                if meta["format"] == SNAPSHOT_FORMAT:
                    ids, names, lemma_rows = cls.text_columns(data, len(data["parent_indptr"]) - 1)
                else:
                    ids, names = data["ids"], data["names"]
                    lemma_rows = data["lemmas"].tolist()
                lemmas = [tuple(x.split(LEMMA_SEP)) if x else () for x in lemma_rows]
                spaces: dict[str, list[tuple[int, str]]] = {}
                if "ds_names" in data.files:  # optional: snapshots before label spaces lack them
                    bounds, index, concept = data["ds_indptr"], data["ds_index"], data["ds_concept"]
                    for i, name in enumerate(data["ds_names"].tolist()):
                        lo, hi = int(bounds[i]), int(bounds[i + 1])
                        spaces[name] = list(zip(index[lo:hi].tolist(), concept[lo:hi].tolist(), strict=True))
                return cls(
                    ids,
                    names,
                    data["parent_indptr"],
                    data["parent_indices"],
                    lemmas=lemmas,
                    meta=meta,
                    label_spaces=spaces,
                )
        except FileNotFoundError as exc:
            raise SnapshotError(
                f"snapshot {path} does not exist; write one with `bamboo snapshot {path}`"
            ) from exc
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            if isinstance(exc, SnapshotError):
                raise
            raise SnapshotError(f"snapshot {path} is unreadable or truncated: {exc}") from exc

    @staticmethod
    def text_columns(data: Mapping[str, Any], n: int) -> tuple[Any, Any, list[str | None]]:
        """The ids, names (object arrays) and lemma rows of ``n`` concepts from :meth:`arrays`."""
        ids = np.empty(n, dtype=object)
        ids[:] = split_rows(data["ids_text"], n)
        names = np.empty(n, dtype=object)
        names[:] = split_rows(data["names_text"], n)
        return ids, names, split_rows(data["lemmas_text"], n)

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """The taxonomy as the arrays a snapshot (format 2) and the service's saved view hold; read
        back with :meth:`text_columns` and the CSR arrays."""
        lemmas = self.lemmas or [()] * len(self)
        if any(LEMMA_SEP in lemma for row in lemmas for lemma in row):
            raise ValueError("a lemma holds a control separator")
        return {
            "ids_text": join_rows(str(i) for i in self.ids),
            "names_text": join_rows(str(n) for n in self.names),
            "lemmas_text": join_rows(LEMMA_SEP.join(row) for row in lemmas),
            "parent_indptr": self.parent_indptr,
            "parent_indices": self.parent_indices,
        }

    # --- lookups ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, concept_id: object) -> bool:
        return concept_id in self._pos

    @property
    def positions(self) -> Mapping[str, int]:
        """Concept id -> position (read only)."""
        return self._pos

    def index(self, concept_id: str) -> int:
        """Position of ``concept_id``; raises :class:`ConceptNotFound`."""
        try:
            return self._pos[concept_id]
        except KeyError:
            raise ConceptNotFound(concept_id, suggestion=self._suggest(concept_id)) from None

    def _suggest(self, concept_id: str) -> str | None:
        """The id meant by a WordNet offset written without its prefix (``n02084071``, ``02084071``)."""
        bare = concept_id.strip().lower().removeprefix("wn:")
        for candidate in (f"wn:{bare}", f"wn:n{bare}"):
            if candidate in self._pos:
                return candidate
        return None

    def indices(self, concept_ids: Iterable[str]) -> npt.NDArray[np.int64]:
        """Positions of ``concept_ids``; raises :class:`ConceptNotFound` for an unknown one."""
        return np.fromiter((self.index(c) for c in concept_ids), dtype=np.int64)

    def name(self, concept_id: str) -> str:
        """Name of ``concept_id``."""
        return str(self.names[self.index(concept_id)])

    def parent_positions(self, pos: int) -> npt.NDArray[np.int32]:
        """Positions of the direct parents of the concept at ``pos``."""
        return self.parent_indices[self.parent_indptr[pos] : self.parent_indptr[pos + 1]]

    def child_positions(self, pos: int) -> npt.NDArray[np.int32]:
        """Positions of the direct children of the concept at ``pos``."""
        return self.child_indices[self.child_indptr[pos] : self.child_indptr[pos + 1]]

    def parents(self, concept_id: str) -> list[str]:
        """Ids of the direct parents of ``concept_id``."""
        return [str(self.ids[p]) for p in self.parent_positions(self.index(concept_id))]

    def children(self, concept_id: str) -> list[str]:
        """Ids of the direct children of ``concept_id``."""
        return [str(self.ids[c]) for c in self.child_positions(self.index(concept_id))]

    def _lists(self) -> _Lists:
        """The walks' lists, built on the first walk (a racing second build is harmless: the
        same lists, assigned in one step)."""
        lists = self._lists_cache
        if lists is None:
            lists = self._lists_cache = _Lists.of(self)
        return lists

    def _reach(self, start: int, up: bool) -> set[int]:
        """Positions above (``up``) or below ``start``, not itself."""
        indptr, indices = self._lists().up if up else self._lists().down
        seen: set[int] = set()
        stack = indices[indptr[start] : indptr[start + 1]]
        while stack:
            pos = stack.pop()
            if pos not in seen:
                seen.add(pos)
                stack += indices[indptr[pos] : indptr[pos + 1]]
        seen.discard(start)  # only a cyclic input reaches it
        return seen

    def _depths(self, start: int, up: bool) -> dict[int, int]:
        """Position -> shortest number of edges from ``start``, of everything above (``up``) or
        below it, not itself; in breadth-first order."""
        indptr, indices = self._lists().up if up else self._lists().down
        depth = {start: 0}
        frontier = [start]
        level = 0
        while frontier:
            level += 1
            below: list[int] = []
            for pos in frontier:
                for nxt in indices[indptr[pos] : indptr[pos + 1]]:
                    if nxt not in depth:
                        depth[nxt] = level
                        below.append(nxt)
            frontier = below
        del depth[start]
        return depth

    def ancestor_depths(self, concept_id: str) -> dict[str, int]:
        """Ancestor id → shortest number of IS_A edges up to it."""
        ids = self._lists().ids
        return {ids[p]: d for p, d in self._depths(self.index(concept_id), up=True).items()}

    def ancestors(self, concept_id: str) -> set[str]:
        """Ids of everything above ``concept_id`` (not itself)."""
        return set(map(self._lists().ids.__getitem__, self._reach(self.index(concept_id), up=True)))

    def descendants(self, concept_id: str) -> set[str]:
        """Ids of everything below ``concept_id`` (not itself)."""
        return set(map(self._lists().ids.__getitem__, self._reach(self.index(concept_id), up=False)))

    # --- hierarchy queries over the whole DAG -------------------------------------------------

    def root_depths(self) -> npt.NDArray[np.int32]:
        """Shortest number of IS_A edges from each concept up to a root (-1: unreachable)."""
        if self._root_depths is None:
            depth = np.full(len(self), -1, dtype=np.int32)
            roots = np.flatnonzero(np.diff(self.parent_indptr) == 0)
            depth[roots] = 0
            frontier = roots
            level = 0
            while len(frontier):
                level += 1
                starts, ends = self.child_indptr[frontier], self.child_indptr[frontier + 1]
                kids = np.concatenate([self.child_indices[s:e] for s, e in zip(starts, ends, strict=True)])
                kids = np.unique(kids[depth[kids] < 0]) if len(kids) else kids
                depth[kids] = level
                frontier = kids
            self._root_depths = depth
        return self._root_depths

    def _common_ancestors(self, concept_ids: Iterable[str]) -> dict[int, int]:
        """Position -> summed shortest distance from the inputs, of every concept that is an
        ancestor-or-self of all of ``concept_ids``."""
        ids = list(concept_ids)
        if not ids:
            raise ValueError("lowest_common_ancestor needs at least one concept id")
        common: dict[int, int] | None = None
        for cid in dict.fromkeys(ids):
            pos = self.index(cid)
            up = self._depths(pos, up=True) | {pos: 0}
            common = up if common is None else {p: common[p] + d for p, d in up.items() if p in common}
        assert common is not None
        return common

    def lowest_common_ancestors(self, concept_ids: Iterable[str]) -> list[str]:
        """Every *lowest* common ancestor: the common ancestors-or-self of all ids that have no
        descendant which is also one (networkx's definition on a DAG). Ordered as
        :meth:`lowest_common_ancestor` chooses: the first is the answer.

        On a tree this is one concept; on a DAG (WordNet: *dog* is a *canine* and a *domestic
        animal*) it can be several. ``x`` alone, or ``x`` with any of its descendants, gives ``[x]``.
        """
        common = self._common_ancestors(concept_ids)
        # a common ancestor with a common descendant has a common *child* (every node on the path
        # between them is an ancestor of that descendant, hence common): so the lowest ones are
        # those that are no common ancestor's parent
        (indptr, indices), ids = self._lists().up, self._lists().ids
        above = {p for c in common for p in indices[indptr[c] : indptr[c + 1]]}
        lowest = [c for c in common if c not in above]
        depth = self.root_depths()
        lowest.sort(key=lambda p: (common[p], -int(depth[p]), ids[p]))
        return [ids[p] for p in lowest]

    def lowest_common_ancestor(self, concept_ids: Iterable[str]) -> str | None:
        """One lowest common ancestor of the ids (None if they share none), deterministically.

        Among :meth:`lowest_common_ancestors` (no other common ancestor lies below it) the one
        closest to the inputs (smallest summed IS_A distance), then the deepest (distance from the
        root), then the smallest id. So ``lca(x, x) == x`` and ``lca(a, x) == a`` for an ancestor
        ``a`` of ``x``. (Ranking every common ancestor by its depth, as before, is wrong on a DAG:
        *dog*'s shortest way to the root is through *domestic animal*, shorter than *canine*'s, so
        ``lca(dog, dog)`` came out *canine*.)
        """
        lowest = self.lowest_common_ancestors(concept_ids)
        return lowest[0] if lowest else None

    def path(self, source: str, target: str) -> list[str]:
        """Concepts from ``source`` up to their lowest common ancestor and down to ``target``:
        shortest on each side, and never through a concept twice (a concept on both sides other
        than the LCA would be a lower common ancestor).

        Raises:
            ConceptNotFound: an unknown id.
            ValueError: the two concepts share no ancestor.
        """
        lca = self.lowest_common_ancestor([source, target])
        if lca is None:
            raise ValueError(f"{source} and {target} share no ancestor")
        up = self._shortest_up(self.index(source), self.index(lca))
        down = self._shortest_up(self.index(target), self.index(lca))
        return [str(self.ids[p]) for p in up] + [str(self.ids[p]) for p in reversed(down[:-1])]

    def _shortest_up(self, start: int, goal: int) -> list[int]:
        indptr, indices = self._lists().up
        prev = {start: -1}
        queue = deque([start])
        while queue:
            pos = queue.popleft()
            if pos == goal:
                break
            for nxt in indices[indptr[pos] : indptr[pos + 1]]:
                if nxt not in prev:
                    prev[nxt] = pos
                    queue.append(nxt)
        out = [goal]
        while prev[out[-1]] != -1:
            out.append(prev[out[-1]])
        return out[::-1]


class _Lists(NamedTuple):
    """The CSR arrays as Python lists (``up``: the parents', ``down``: the children's) and the ids as
    ``str``: what the walks index.

    A list indexes several times faster than a numpy array and gives back an ``int``, not a numpy
    scalar to convert. The ints are shared (one object per value, not one per entry) and the id
    strings are the position map's own: about 6 MiB for WordNet's 82K nouns, 75 bytes a concept
    (``benchmarks/hierarchy.py`` prints it). Built on the first walk, never grown after.
    """

    ids: list[str]
    up: tuple[list[int], list[int]]
    down: tuple[list[int], list[int]]

    @classmethod
    def of(cls, tax: Taxonomy) -> _Lists:
        n = len(tax)
        ints = list(range(max(n, len(tax.parent_indices)) + 1))

        def shared(array: npt.NDArray[Any]) -> list[int]:
            return list(map(ints.__getitem__, array.tolist()))

        ids: list[str] = [""] * n
        for cid, pos in tax.positions.items():
            ids[pos] = cid
        if len(tax.positions) != n:  # a caller's position map that is not one entry per concept
            ids = [str(i) for i in tax.ids]
        return cls(
            ids,
            (shared(tax.parent_indptr), shared(tax.parent_indices)),
            (shared(tax.child_indptr), shared(tax.child_indices)),
        )
