"""Compact in-memory columns of the label system, read by the service at 300K concepts and beyond.

A Python dict per concept and per IS_A edge costs about 2 KB each; at the paper's 304K concepts
that alone is most of a gigabyte. Here each concept's property map is one compact JSON record in a
single bytes blob (decoded when a request reads it), and the IS_A edges' attributes are small
integer codes and floats aligned with the taxonomy's parent CSR arrays. Both are built while the
rows stream from the database, so no list of 300K dicts is ever held.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from bamboo.graph.taxonomy.hierarchy import Taxonomy

__all__ = ["EDGE_COLUMNS", "EdgeTable", "PackedProps", "PropsPacker", "cyclic_gc_paused", "jsonable"]

#: The columns of an IS_A edge row, as :meth:`GraphStore.is_a_rows` gives them.
EDGE_COLUMNS = ("child", "parent", "kind", "source", "method", "score")


_gc_lock = threading.Lock()
_gc_state = {"pausers": 0, "was_enabled": False}


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a whole-graph read allocates millions of
    objects that all stay alive (every full collection would walk them all again: a quarter of a
    300K-concept load). Reference counting still frees what dies. Nestable, across threads too;
    the collector is left as the first pauser found it."""
    with _gc_lock:
        if _gc_state["pausers"] == 0:
            _gc_state["was_enabled"] = gc.isenabled()
            gc.disable()
        _gc_state["pausers"] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_state["pausers"] -= 1
            if _gc_state["pausers"] == 0 and _gc_state["was_enabled"]:
                gc.enable()


def jsonable(value: Any) -> Any:
    """A JSON-encodable stand-in for a database value that JSON lacks (temporal types: ISO text)."""
    iso = getattr(value, "iso_format", None) or getattr(value, "isoformat", None)
    if iso is not None:
        return iso()
    raise TypeError(f"cannot store a {type(value).__name__} property")


class PropsPacker:
    """Collects property maps one at a time (see :meth:`add`), then :meth:`finish` packs them."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._blocks: list[bytes] = []
        self._ends: list[int] = []
        self._ids: list[str] = []
        self._size = 0

    def add(self, props: Mapping[str, Any]) -> None:
        """Append one concept's property map (it must have an ``id``)."""
        data = orjson.dumps(props, default=jsonable)
        self._chunks.append(data)
        self._size += len(data)
        self._ends.append(self._size)
        self._ids.append(str(props["id"]))
        if len(self._chunks) >= 4096:  # join as we go: a few large bytes, not 300K small ones
            self._blocks.append(b"".join(self._chunks))
            self._chunks = []

    @property
    def ids(self) -> list[str]:
        """The ids added so far, in the order added."""
        return self._ids

    def finish(self, taxonomy: Taxonomy) -> PackedProps:
        """The packed maps, addressed through ``taxonomy``'s positions (its ids must be the ids added)."""
        blob = b"".join([*self._blocks, *self._chunks])
        ends = np.asarray(self._ends, dtype=np.int64)
        starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
        rows = taxonomy.indices(self._ids)  # arrival row -> taxonomy position
        order = np.empty(len(rows), dtype=np.int64)
        order[rows] = np.arange(len(rows))
        self._chunks, self._blocks, self._ends, self._ids = [], [], [], []
        return PackedProps(taxonomy, blob, starts[order], ends[order])


class PackedProps(Mapping[str, dict[str, Any]]):
    """Concept id -> its property map, decoded from the packed blob on each access.

    Every ``[]`` returns a fresh dict, so callers may change it. Iteration is in id order.
    """

    def __init__(
        self, taxonomy: Taxonomy, blob: bytes, starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64]
    ) -> None:
        self._tax = taxonomy
        self._blob = blob
        self._starts = starts
        self._ends = ends

    def at(self, pos: int) -> dict[str, Any]:
        """The property map of the concept at taxonomy position ``pos``."""
        out: dict[str, Any] = orjson.loads(self._blob[self._starts[pos] : self._ends[pos]])
        return out

    def __getitem__(self, concept_id: str) -> dict[str, Any]:
        if concept_id not in self._tax:
            raise KeyError(concept_id)
        return self.at(self._tax.index(concept_id))

    def __contains__(self, concept_id: object) -> bool:
        return concept_id in self._tax

    def __iter__(self) -> Iterator[str]:
        return (str(i) for i in self._tax.ids)

    def __len__(self) -> int:
        return len(self._tax)

    def state(self) -> dict[str, Any]:
        """The blob and offsets (see :meth:`from_state`)."""
        return {"blob": self._blob, "starts": self._starts, "ends": self._ends}

    @classmethod
    def from_state(cls, taxonomy: Taxonomy, state: Mapping[str, Any]) -> PackedProps:
        """The maps :meth:`state` described, addressed through ``taxonomy``."""
        return cls(taxonomy, bytes(state["blob"]), np.asarray(state["starts"]), np.asarray(state["ends"]))

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every property map, in id order (decodes each; for background work, not requests)."""
        return (self.at(i) for i in range(len(self)))

    @property
    def nbytes(self) -> int:
        """Bytes held: the blob and its offsets."""
        return len(self._blob) + self._starts.nbytes + self._ends.nbytes


class EdgeTable:
    """The IS_A edges' ``kind``, ``source``, ``method`` and ``score``, one slot per taxonomy edge.

    Slot ``j`` is the edge from the child at row ``c`` to ``taxonomy.parent_indices[j]`` for
    ``parent_indptr[c] <= j < parent_indptr[c + 1]``. Text attributes are codes into small tables.
    """

    _COLUMNS = ("kind", "source", "method")

    def __init__(
        self,
        taxonomy: Taxonomy,
        rows: Mapping[str, list[Any]],
        *,
        positions: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None,
    ) -> None:
        """Build from edge columns ``child``, ``parent``, ``kind``, ``source``, ``method``, ``score``
        (equal-length lists in any order; every child and parent must be in ``taxonomy``), or from
        the other columns and the child and parent ``positions`` when the caller has them."""
        self._tax = taxonomy
        if positions is None:
            child, parent = taxonomy.indices(rows["child"]), taxonomy.indices(rows["parent"])
        else:
            child, parent = positions
        slot = self._slots(child, parent)
        n = len(taxonomy.parent_indices)
        self.vocab: dict[str, list[str | None]] = {}
        self.codes: dict[str, npt.NDArray[np.uint16]] = {}
        for col in self._COLUMNS:
            values = rows[col]
            table: dict[str | None, int] = {None: 0}
            codes = np.zeros(n, dtype=np.uint16)
            codes[slot] = [table.setdefault(v, len(table)) for v in values]
            self.vocab[col] = list(table)
            self.codes[col] = codes
        self.score = np.full(n, np.nan, dtype=np.float32)
        self.score[slot] = [np.nan if s is None else float(s) for s in rows["score"]]

    def state(self) -> dict[str, Any]:
        """Codes, their tables and scores (see :meth:`from_state`)."""
        return {"vocab": self.vocab, "codes": self.codes, "score": self.score}

    @classmethod
    def from_state(cls, taxonomy: Taxonomy, state: Mapping[str, Any]) -> EdgeTable:
        """The table :meth:`state` described, over ``taxonomy``."""
        table = cls.__new__(cls)
        table._tax = taxonomy
        table.vocab = {k: list(v) for k, v in state["vocab"].items()}
        table.codes = {k: np.asarray(v, dtype=np.uint16) for k, v in state["codes"].items()}
        table.score = np.asarray(state["score"], dtype=np.float32)
        return table

    def _slots(self, child: npt.NDArray[np.int64], parent: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        tax = self._tax
        # Parents are sorted within each child's CSR row, so (child, parent) keys of the slots are
        # sorted as a whole and one searchsorted finds every edge's slot.
        width = len(tax) + 1
        flat_child = np.repeat(np.arange(len(tax), dtype=np.int64), np.diff(tax.parent_indptr))
        flat = flat_child * width + tax.parent_indices
        key = child.astype(np.int64) * width + parent
        slot = np.searchsorted(flat, key)
        if len(slot) and np.any(flat[np.minimum(slot, len(flat) - 1)] != key):
            raise ValueError("an edge is not in the taxonomy")
        return slot.astype(np.int64)

    def _slot(self, child: str, parent: str) -> int | None:
        tax = self._tax
        if child not in tax or parent not in tax:
            return None
        c, p = tax.index(child), tax.index(parent)
        lo, hi = int(tax.parent_indptr[c]), int(tax.parent_indptr[c + 1])
        j = lo + int(np.searchsorted(tax.parent_indices[lo:hi], p))
        return j if j < hi and int(tax.parent_indices[j]) == p else None

    def kind(self, child: str, parent: str) -> str | None:
        """The edge's ``kind`` (None when there is no such edge)."""
        j = self._slot(child, parent)
        return None if j is None else self.vocab["kind"][self.codes["kind"][j]]

    def info(self, child: str, parent: str) -> dict[str, Any]:
        """The edge's ``source``, ``method`` and ``confidence`` (empty when there is no such edge)."""
        j = self._slot(child, parent)
        if j is None:
            return {}
        score = float(self.score[j])
        return {
            "source": self.vocab["source"][self.codes["source"][j]],
            "method": self.vocab["method"][self.codes["method"][j]],
            # float32 keeps about 7 digits: 0.7 is stored as 0.699999988...; give back what was meant
            "confidence": None if np.isnan(score) else float(f"{score:.6g}"),
        }

    def kinds_by_child(self) -> dict[str, set[str]]:
        """Child id -> the kinds of its IS_A edges (children with at least one edge)."""
        tax = self._tax
        out: dict[str, set[str]] = {}
        flat_child = np.repeat(np.arange(len(tax)), np.diff(tax.parent_indptr))
        vocab = self.vocab["kind"]
        for c, code in zip(flat_child.tolist(), self.codes["kind"].tolist(), strict=True):
            out.setdefault(str(tax.ids[c]), set()).add(str(vocab[code]))
        return out

    def counts(self, column: str) -> dict[str, int]:
        """Edges per value of a text column (``"None"`` for missing), sorted by value."""
        vocab = self.vocab[column]
        counts = np.bincount(self.codes[column], minlength=len(vocab))
        return dict(sorted((str(vocab[i]), int(n)) for i, n in enumerate(counts) if n))

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays."""
        return self.score.nbytes + sum(c.nbytes for c in self.codes.values())
