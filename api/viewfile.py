"""The service's in-memory view saved beside the store, so a restart at the same graph version
skips the database read (seconds instead of a minute at 300K concepts).

One uncompressed ``.npz`` per graph version (no pickled objects): numeric arrays as they are,
string lists as one UTF-8 text joined by a separator, and small parts as JSON. A file is used only
when its recorded graph version and database equal the live ones; any unreadable or stale file is
ignored (and replaced), never trusted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bamboo.atomic import atomic_path
from bamboo.graph.taxonomy.hierarchy import Taxonomy
from bamboo.graph.taxonomy.invariants import InvariantReport
from bamboo.graph.taxonomy.model import ClassMapping, Dataset
from bamboo.graph.taxonomy.packed import EdgeTable, PackedProps, jsonable
from bamboo.graph.taxonomy.search import SearchIndex
from bamboo.graph.taxonomy.snapshot import SNAPSHOT_FORMAT

__all__ = ["FORMAT", "read_view", "write_view"]

log = logging.getLogger(__name__)

FORMAT = "bamboo-view/1"
_SEP = "\x1f"  # between strings
_NONE = "\x00"  # a None in a string list


def _file(folder: Path, database: str) -> Path:
    return folder / f"view-{hashlib.sha256(database.encode()).hexdigest()[:12]}.npz"


def _strings(values: list[str | None]) -> npt.NDArray[np.uint8]:
    if any(v is not None and (_SEP in v or v == _NONE) for v in values):
        raise ValueError("a string holds the separator")
    text = _SEP.join(_NONE if v is None else v for v in values)
    return np.frombuffer(text.encode(), dtype=np.uint8)


def _unstrings(array: npt.NDArray[np.uint8], n: int) -> list[str | None]:
    if n == 0:
        return []
    out: list[str | None] = [None if v == _NONE else v for v in array.tobytes().decode().split(_SEP)]
    if len(out) != n:
        raise ValueError(f"{len(out)} strings where {n} were written")
    return out


def write_view(view: Any, folder: Path, database: str) -> Path:
    """Save ``view`` (an :class:`~bamboo.api.cache.GraphView`) for ``database``; returns the file."""
    tax: Taxonomy = view.taxonomy
    search = view.search.state()
    props = view.props.state()
    edges = view.edge_table.state()
    classes = [c for rows in view.classes_of.values() for c in rows]
    meta = {
        "format": FORMAT,
        "version": view.version,
        "database": database,
        "concepts": len(tax),
        "search": {k: len(search[k]) for k in ("ids", "choices", "original")},
        "lang_names": search["lang_names"],
        "classes": len(classes),
        "vocab": edges["vocab"],
        "datasets": [dataclasses.asdict(d) for d in view.datasets.values()],
        "invariants": dataclasses.asdict(view.invariants),
        "edges": view.edges,
        "concepts_by_source": view.concepts_by_source,
    }
    arrays: dict[str, Any] = {
        "meta": np.frombuffer(json.dumps(meta, default=jsonable).encode(), dtype=np.uint8),
        "ids": _strings([str(i) for i in tax.ids]),
        "names": _strings([str(n) for n in tax.names]),
        "parent_indptr": tax.parent_indptr,
        "parent_indices": tax.parent_indices,
        "props_blob": np.frombuffer(props["blob"], dtype=np.uint8),
        "props_starts": props["starts"],
        "props_ends": props["ends"],
        "edge_score": edges["score"],
        **{f"edge_{k}": v for k, v in edges["codes"].items()},
        "search_ids": _strings(search["ids"]),
        "search_names": _strings(search["names"]),
        "search_choices": _strings(search["choices"]),
        "search_original": _strings(search["original"]),
        "search_bounds": search["bounds"],
        "search_lang": search["lang"],
        "search_concept": search["concept"],
        "class_text": _strings([v for c in classes for v in (c.concept, c.dataset, c.raw_name, c.method)]),
        "class_index": np.array([c.index for c in classes], dtype=np.int64),
        "class_confidence": np.array(
            [np.nan if c.confidence is None else c.confidence for c in classes], dtype=np.float64
        ),
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = _file(folder, database)
    with atomic_path(path, ".tmp.npz") as tmp:
        np.savez(tmp, **arrays)
    return path


def read_view(folder: Path, database: str, version: str | None) -> Any | None:
    """The view saved for ``database`` at graph ``version``, or None (no file, stale, unreadable)."""
    from bamboo.api.cache import GraphView, index_classes

    path = _file(folder, database)
    if version is None or not path.exists():
        return None
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes())
            if (
                meta.get("format") != FORMAT
                or meta.get("version") != version
                or meta.get("database") != database
            ):
                return None
            n = int(meta["concepts"])
            ids = np.empty(n, dtype=object)
            ids[:] = _unstrings(data["ids"], n)
            names = np.empty(n, dtype=object)
            names[:] = _unstrings(data["names"], n)
            tax = Taxonomy(
                ids, names, data["parent_indptr"], data["parent_indices"], meta={"format": SNAPSHOT_FORMAT}
            )
            sizes = meta["search"]
            search = SearchIndex.from_state(
                {
                    "ids": _unstrings(data["search_ids"], sizes["ids"]),
                    "names": _unstrings(data["search_names"], sizes["ids"]),
                    "lang_names": meta["lang_names"],
                    "choices": _unstrings(data["search_choices"], sizes["choices"]),
                    "original": _unstrings(data["search_original"], sizes["original"]),
                    "bounds": data["search_bounds"],
                    "lang": data["search_lang"],
                    "concept": data["search_concept"],
                }
            )
            props = PackedProps.from_state(
                tax, {"blob": data["props_blob"], "starts": data["props_starts"], "ends": data["props_ends"]}
            )
            vocab = meta["vocab"]
            edges = EdgeTable.from_state(
                tax,
                {"vocab": vocab, "codes": {k: data[f"edge_{k}"] for k in vocab}, "score": data["edge_score"]},
            )
            m = int(meta["classes"])
            text = _unstrings(data["class_text"], 4 * m)
            index, confidence = data["class_index"].tolist(), data["class_confidence"].tolist()
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        log.warning("ignoring the saved view %s: %s", path, exc)
        return None
    rows = [
        ClassMapping(
            concept=str(text[4 * i]),
            dataset=str(text[4 * i + 1]),
            index=int(index[i]),
            raw_name=text[4 * i + 2],
            method=text[4 * i + 3],
            confidence=None if np.isnan(confidence[i]) else float(confidence[i]),
        )
        for i in range(m)
    ]
    datasets_of, classes_of = index_classes(rows)
    return GraphView(
        version=version,
        taxonomy=tax,
        search=search,
        props=props,
        edge_table=edges,
        datasets_of=datasets_of,
        classes_of=classes_of,
        datasets={d["name"]: Dataset(**d) for d in meta["datasets"]},
        invariants=InvariantReport(**meta["invariants"]),
        edges=int(meta["edges"]),
        concepts_by_source=dict(meta["concepts_by_source"]),
    )
