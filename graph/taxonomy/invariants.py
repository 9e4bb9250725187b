"""Checks that every build must pass, and the content hash that proves two builds identical.

Invariants: the IS_A graph is acyclic, every concept reaches ``wn:n00001740`` (entity), and no
two concept nodes share an id. They are computed in Python (scipy) over one read of the
graph, which is both faster than doing it in Cypher and the same on every backend;
:func:`check_placements` checks a write before it happens, reading only what it could break.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import csgraph

from bamboo.graph.taxonomy.model import ENTITY_ID

if TYPE_CHECKING:  # the store is only read through; this room imports no driver
    from bamboo.graph.store.graph_store import GraphStore

__all__ = [
    "GraphContents",
    "InvariantReport",
    "check_edges",
    "check_invariants",
    "check_placements",
    "concept_line",
    "content_hash",
    "edge_line",
    "hash_lines",
    "placement_cycle",
    "read_contents",
]


@dataclass(frozen=True)
class GraphContents:
    """One consistent read of all concepts and IS_A edges."""

    concepts: list[dict[str, Any]]
    edges: list[dict[str, Any]]


@dataclass(frozen=True)
class InvariantReport:
    """Outcome of :func:`check_invariants`; ``ok`` only when all three hold."""

    acyclic: bool
    rooted: bool
    unique_ids: bool
    cycle: list[str] = field(default_factory=list)
    unrooted: list[str] = field(default_factory=list)
    unrooted_count: int = 0
    duplicate_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the graph is acyclic, rooted and free of duplicate ids."""
        return self.acyclic and self.rooted and self.unique_ids

    def describe(self) -> str:
        """The violated invariants, one phrase each, or ``"all invariants hold"``."""
        problems = []
        if not self.acyclic:
            problems.append(f"IS_A cycle through {' -> '.join(self.cycle)}")
        if not self.rooted:
            problems.append(
                f"{self.unrooted_count} concepts do not reach {ENTITY_ID}, e.g. {self.unrooted[:5]}"
            )
        if not self.unique_ids:
            problems.append(f"duplicate concept ids: {self.duplicate_ids[:5]}")
        return "; ".join(problems) or "all invariants hold"


def read_contents(store: GraphStore) -> GraphContents:
    """Read every concept and IS_A edge from ``store`` for :func:`check_invariants`."""
    return GraphContents(concepts=store.all_concepts(), edges=store.all_is_a())


def check_invariants(contents: GraphContents) -> InvariantReport:
    """Check acyclicity, rootedness at entity, and id uniqueness of one read of the graph."""
    counts = Counter(c["id"] for c in contents.concepts)
    dups = sorted(i for i, n in counts.items() if n > 1)
    return check_edges(
        list(counts), [e["child"] for e in contents.edges], [e["parent"] for e in contents.edges], dups
    )


def check_edges(
    ids: Sequence[str],
    child: Sequence[str],
    parent: Sequence[str],
    duplicate_ids: Sequence[str] = (),
    *,
    positions: tuple[Mapping[str, int], npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None,
) -> InvariantReport:
    """:func:`check_invariants` over distinct ``ids`` and IS_A edges given as two id columns, or as
    ``positions``: (id -> position in ``ids``, child positions, parent positions), when the caller
    has them (then ``child`` and ``parent`` are not read).

    Strongly connected components (scipy, over a sparse matrix) decide acyclicity and a
    breadth-first search from entity decides rootedness, so 300K concepts take well under a second.
    """
    if positions is None:
        pos: Mapping[str, int] = {cid: i for i, cid in enumerate(ids)}
        rows = np.fromiter((pos[c] for c in child), dtype=np.int64, count=len(child))
        cols = np.fromiter((pos[p] for p in parent), dtype=np.int64, count=len(parent))
    else:
        pos, rows, cols = positions
    n = len(ids)
    up = sparse.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    cycle = _find_cycle(ids, up, rows, cols)
    if ENTITY_ID in pos:
        reached = csgraph.breadth_first_order(up.T.tocsr(), pos[ENTITY_ID], directed=True)[0]
        mask = np.ones(n, dtype=bool)
        mask[reached] = False
        unrooted = sorted(ids[i] for i in np.flatnonzero(mask).tolist())
    else:
        unrooted = sorted(ids)
    return InvariantReport(
        acyclic=not cycle,
        rooted=not unrooted,
        unique_ids=not duplicate_ids,
        cycle=cycle[:20],
        unrooted=unrooted[:20],
        unrooted_count=len(unrooted),
        duplicate_ids=sorted(duplicate_ids)[:20],
    )


def _find_cycle(
    ids: Sequence[str], up: sparse.csr_matrix, rows: npt.NDArray[np.int64], cols: npt.NDArray[np.int64]
) -> list[str]:
    """One cycle of the edges ``rows[i] -> cols[i]`` (``up`` as a matrix), as ids, else ``[]``.

    Strongly connected components (scipy) decide in linear time; inside a component every node has
    an edge to another node of it, so following such edges from any node meets a node twice
    within the component's size: that stretch is a cycle."""
    n_comp, comp = csgraph.connected_components(up, directed=True, connection="strong")
    if n_comp == len(ids) and not np.any(rows == cols):
        return []
    sizes = np.bincount(comp)
    looped = np.flatnonzero(sizes[comp] > 1)
    node = int(looped[0]) if len(looped) else int(rows[rows == cols][0])
    at: dict[int, int] = {}
    path: list[int] = []
    while node not in at:
        at[node] = len(path)
        path.append(node)
        out = up.indices[up.indptr[node] : up.indptr[node + 1]]
        node = int(out[comp[out] == comp[node]][0])
    return [ids[i] for i in path[at[node] :]]


def check_placements(
    store: GraphStore, placements: Sequence[Mapping[str, Any]], new: Sequence[str] = ()
) -> InvariantReport:
    """Whether the graph stays acyclic, rooted and free of duplicate ids once ``placements``
    (``{id, parent}`` rows, each replacing its concept's parents) are written and the concepts
    ``new`` created, given that it holds now; run before the write.

    A placement ``c -> p`` closes a cycle only if ``p`` lies under ``c`` once written, so only the
    placed concepts' current descendants are read (a level of the hierarchy per query; a new
    concept has none), never the whole graph: the cost is linear in the placements plus the part
    of the graph under them.

    Returns:
        The report; ``cycle`` lists the concept ids of one cycle, ``unrooted`` concepts left
        without a parent (a parent that does not exist, a new concept never placed), and
        ``duplicate_ids`` ids created or placed twice.
    """
    parent_of: dict[str, str] = {}
    duplicates = sorted({cid for cid, n in Counter(new).items() if n > 1})
    for row in placements:
        if row["id"] in parent_of:
            duplicates.append(row["id"])
        parent_of[row["id"]] = row["parent"]
    created = set(new)
    # Rooted: every parent exists or is created here; a created concept not placed keeps a parent.
    missing = set(store.missing_concepts(sorted({*parent_of.values(), *parent_of} - created)))
    unrooted = {c for c, p in parent_of.items() if p in missing or c in missing}
    unplaced = sorted(created - set(parent_of))
    if unplaced:
        found = store.placements(unplaced)
        unrooted |= {c for c in unplaced if (found.get(c) or {}).get("parent") is None}
    cycle = placement_cycle(parent_of, store.is_a_children)
    return InvariantReport(
        acyclic=not cycle,
        rooted=not unrooted,
        unique_ids=not duplicates,
        cycle=cycle,
        unrooted=sorted(unrooted)[:20],
        unrooted_count=len(unrooted),
        duplicate_ids=sorted(set(duplicates))[:20],
    )


def placement_cycle(
    parent_of: Mapping[str, str], children: Callable[[Sequence[str]], Iterable[tuple[str, str]]]
) -> list[str]:
    """One IS_A cycle, as ids, once each concept of ``parent_of`` has only its new parent there, or
    ``[]``; ``children(ids)`` gives the ``(child, parent)`` edges into ``ids`` now, and the graph
    is acyclic now.

    A cycle must use a new edge ``c -> p`` and come back from ``p`` to ``c``, so it lies within the
    placed concepts and their descendants: those are read a level at a time, and nothing else.
    """
    edges = list(parent_of.items())
    seen, level = set(parent_of), sorted(parent_of)
    while level:
        below: list[str] = []
        for child, parent in children(level):
            if child not in parent_of:  # a placed concept's old parents go
                edges.append((child, parent))
            if child not in seen:
                seen.add(child)
                below.append(child)
        level = below
    ids = sorted(seen | set(parent_of.values()))
    pos = {cid: i for i, cid in enumerate(ids)}
    rows = np.fromiter((pos[c] for c, _ in edges), dtype=np.int64, count=len(edges))
    cols = np.fromiter((pos[p] for _, p in edges), dtype=np.int64, count=len(edges))
    up = sparse.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(len(ids), len(ids)))
    return _find_cycle(ids, up, rows, cols)


def content_hash(contents: GraphContents) -> str:
    """SHA-256 over every concept's properties and every IS_A edge, independent of read order."""
    return hash_lines(
        [(str(p["id"]), concept_line(p)) for p in contents.concepts],
        [((e["child"], e["parent"], e["kind"] or ""), edge_line(e)) for e in contents.edges],
    )


def concept_line(props: dict[str, Any]) -> bytes:
    """What :func:`content_hash` hashes of one concept."""
    return json.dumps(props, sort_keys=True, default=str).encode()


def edge_line(edge: dict[str, Any]) -> bytes:
    """What :func:`content_hash` hashes of one IS_A edge (``child``, ``parent``, ``kind`` ...)."""
    return json.dumps(edge, sort_keys=True).encode()


def hash_lines(concepts: list[tuple[str, bytes]], edges: list[tuple[tuple[str, str, str], bytes]]) -> str:
    """:func:`content_hash` from ``(sort key, line)`` pairs, so a streaming reader need not keep the
    rows themselves (the lists are sorted in place)."""
    digest = hashlib.sha256()
    concepts.sort(key=lambda kv: kv[0])
    for _, line in concepts:
        digest.update(line)
        digest.update(b"\n")
    digest.update(b"--edges--\n")
    edges.sort(key=lambda kv: kv[0])
    for _, line in edges:
        digest.update(line)
        digest.update(b"\n")
    return digest.hexdigest()
