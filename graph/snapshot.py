"""``write_snapshot``: the compact, versioned offline copy of the taxonomy that the SDK loads."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import numpy as np

from bamboo.atomic import atomic_path
from bamboo.graph.invariants import GraphContents, content_hash, read_contents
from bamboo.graph.store import GraphStore
from bamboo.graph.taxonomy import SNAPSHOT_FORMAT, Taxonomy

__all__ = ["taxonomy_from_contents", "write_snapshot"]


def taxonomy_from_contents(contents: GraphContents) -> Taxonomy:
    """Build a :class:`Taxonomy` from one read of the graph (ids sorted, parents sorted)."""
    concepts = sorted(contents.concepts, key=lambda p: p["id"])
    ids = np.array([c["id"] for c in concepts], dtype=np.str_)
    pos = {c["id"]: i for i, c in enumerate(concepts)}
    parents: list[list[int]] = [[] for _ in concepts]
    for edge in contents.edges:
        parents[pos[edge["child"]]].append(pos[edge["parent"]])
    indptr = np.zeros(len(concepts) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(p) for p in parents])
    indices = np.fromiter((q for p in parents for q in sorted(p)), dtype=np.int32, count=int(indptr[-1]))
    return Taxonomy(
        ids,
        np.array([c.get("name") or c["id"] for c in concepts], dtype=np.str_),
        indptr,
        indices,
        lemmas=[tuple(c.get("lemmas") or ()) for c in concepts],
        meta={"format": SNAPSHOT_FORMAT},
    )


def write_snapshot(store: GraphStore, path: str | os.PathLike[str]) -> dict[str, object]:
    """Write the snapshot of ``store`` to ``path`` (``.npz``) atomically; returns its metadata."""
    contents = read_contents(store)
    tax = taxonomy_from_contents(contents)
    spaces: dict[str, list[tuple[int, str]]] = {}
    for row in store.all_dataset_classes():
        spaces.setdefault(row.dataset, []).append((int(row.index), row.concept))
    names = sorted(spaces)
    rows = [sorted(spaces[n]) for n in names]
    meta = {
        "format": SNAPSHOT_FORMAT,
        "content_hash": content_hash(contents),
        "concepts": len(tax),
        "is_a_edges": int(tax.parent_indptr[-1]),
        "datasets": len(names),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz") if path.suffix else path.with_suffix(".npz")
    with atomic_path(path, ".tmp.npz") as tmp:
        _savez(tmp, tax, names, rows, meta)
    meta["path"] = str(path)
    return meta


def _savez(
    tmp: Path, tax: Taxonomy, names: list[str], rows: list[list[tuple[int, str]]], meta: dict[str, object]
) -> None:
    np.savez_compressed(
        tmp,
        ids=tax.ids,
        names=tax.names,
        lemmas=np.array(["\x1f".join(lm) for lm in (tax.lemmas or [])], dtype=np.str_),
        parent_indptr=tax.parent_indptr,
        parent_indices=tax.parent_indices,
        ds_names=np.array(names, dtype=np.str_),
        ds_indptr=np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64),
        ds_index=np.array([i for r in rows for i, _ in r], dtype=np.int32),
        ds_concept=np.array([c for r in rows for _, c in r], dtype=np.str_),
        meta=np.array(json.dumps(meta)),
    )
