"""``write_snapshot``: the compact, versioned offline copy of the taxonomy that the SDK loads."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from bamboo.atomic import atomic_path
from bamboo.graph.taxonomy.hierarchy import SNAPSHOT_FORMAT, Taxonomy
from bamboo.graph.taxonomy.invariants import GraphContents, concept_line, edge_line, hash_lines
from bamboo.graph.taxonomy.packed import EDGE_COLUMNS, cyclic_gc_paused

if TYPE_CHECKING:  # the store is only read through; this room imports no driver
    from bamboo.graph.store.graph_store import GraphStore

__all__ = ["taxonomy_and_edges", "taxonomy_from_contents", "taxonomy_from_edges", "write_snapshot"]


def taxonomy_from_contents(contents: GraphContents) -> Taxonomy:
    """Build a :class:`Taxonomy` from one read of the graph (ids sorted, parents sorted)."""
    concepts = contents.concepts
    tax = taxonomy_from_edges(
        [c["id"] for c in concepts],
        [c.get("name") or c["id"] for c in concepts],
        [e["child"] for e in contents.edges],
        [e["parent"] for e in contents.edges],
        lemmas=[tuple(c.get("lemmas") or ()) for c in concepts],
    )
    return Taxonomy(
        tax.ids.astype(np.str_),
        tax.names.astype(np.str_),
        tax.parent_indptr,
        tax.parent_indices,
        lemmas=tax.lemmas,
        meta=tax.meta,
    )


def taxonomy_from_edges(
    ids: Sequence[str],
    names: Sequence[str],
    child: Sequence[str],
    parent: Sequence[str],
    *,
    lemmas: Sequence[tuple[str, ...]] | None = None,
) -> Taxonomy:
    """Build a :class:`Taxonomy` from concept columns (any order) and IS_A edges as two id columns.

    Ids and names are kept as object arrays (a pointer per concept, not a fixed-width text cell as
    wide as the longest name); parents are sorted within each row.
    """
    return taxonomy_and_edges(ids, names, child, parent, lemmas=lemmas)[0]


def taxonomy_and_edges(
    ids: Sequence[str],
    names: Sequence[str],
    child: Sequence[str],
    parent: Sequence[str],
    *,
    lemmas: Sequence[tuple[str, ...]] | None = None,
) -> tuple[Taxonomy, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """:func:`taxonomy_from_edges`, plus each edge's child and parent position in it (in the order
    given), so that later passes over the edges need no id lookups of their own."""
    order = sorted(range(len(ids)), key=ids.__getitem__)
    sorted_ids = np.empty(len(ids), dtype=object)
    sorted_ids[:] = [ids[i] for i in order]
    sorted_names = np.empty(len(ids), dtype=object)
    sorted_names[:] = [names[i] for i in order]
    pos = {cid: i for i, cid in enumerate(sorted_ids.tolist())}
    rows = np.fromiter((pos[c] for c in child), dtype=np.int64, count=len(child))
    cols = np.fromiter((pos[p] for p in parent), dtype=np.int64, count=len(parent))
    by_row = np.lexsort((cols, rows))
    indptr = np.zeros(len(ids) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(np.bincount(rows, minlength=len(ids)))
    tax = Taxonomy(
        sorted_ids,
        sorted_names,
        indptr,
        cols[by_row].astype(np.int32),
        lemmas=None if lemmas is None else [lemmas[i] for i in order],
        meta={"format": SNAPSHOT_FORMAT},
        positions=pos,
    )
    return tax, rows, cols


def write_snapshot(store: GraphStore, path: str | os.PathLike[str]) -> dict[str, object]:
    """Write the snapshot of ``store`` to ``path`` (``.npz``) atomically; returns its metadata.

    Concepts and edges stream from the store (edges and dataset classes concurrently); of each
    concept only its id, name, lemmas and content-hash line are kept.
    """
    with cyclic_gc_paused():
        return _write_snapshot(store, path)


def _write_snapshot(store: GraphStore, path: str | os.PathLike[str]) -> dict[str, object]:
    ids: list[str] = []
    names: list[str] = []
    lemmas: list[tuple[str, ...]] = []
    concept_lines: list[tuple[str, bytes]] = []

    def concept(props: dict[str, Any]) -> None:
        ids.append(str(props["id"]))
        names.append(str(props.get("name") or props["id"]))
        lemmas.append(tuple(props.get("lemmas") or ()))
        concept_lines.append((ids[-1], concept_line(props)))

    edge_rows, class_rows = store.scan_graph(concept)
    edges = [dict(zip(EDGE_COLUMNS, row, strict=True)) for row in edge_rows]
    del edge_rows
    tax = taxonomy_from_edges(
        ids, names, [e["child"] for e in edges], [e["parent"] for e in edges], lemmas=lemmas
    )
    digest = hash_lines(
        concept_lines, [((e["child"], e["parent"], e["kind"] or ""), edge_line(e)) for e in edges]
    )
    spaces: dict[str, list[tuple[int, str]]] = {}
    for row in class_rows:
        spaces.setdefault(row.dataset, []).append((int(row.index), row.concept))
    ds_names = sorted(spaces)
    rows = [sorted(spaces[n]) for n in ds_names]
    meta = {
        "format": SNAPSHOT_FORMAT,
        "content_hash": digest,
        "concepts": len(tax),
        "is_a_edges": int(tax.parent_indptr[-1]),
        "datasets": len(ds_names),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz") if path.suffix else path.with_suffix(".npz")
    with atomic_path(path, ".tmp.npz") as tmp:
        _savez(tmp, tax, ds_names, rows, meta)
    meta["path"] = str(path)
    return meta


def _savez(
    tmp: Path, tax: Taxonomy, names: list[str], rows: list[list[tuple[int, str]]], meta: dict[str, object]
) -> None:
    np.savez_compressed(
        tmp,
        **tax.arrays(),
        ds_names=np.array(names, dtype=np.str_),
        ds_indptr=np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64),
        ds_index=np.array([i for r in rows for i, _ in r], dtype=np.int32),
        ds_concept=np.array([c for r in rows for _, c in r], dtype=np.str_),
        meta=np.array(json.dumps(meta)),
    )
