"""The service's view of the label system: one load of the graph, its file, and its loader.

A :class:`GraphView` holds what requests read (the taxonomy as CSR arrays, packed concept
properties, the IS_A edges' provenance, dataset classes, the search index), read from the store by
:func:`load_view` at one ``graph.version``. :func:`write_view` saves it beside the store, so a
restart at the same version skips the database read (seconds instead of a minute at 300K
concepts); :func:`read_view` loads it back.

The file is one uncompressed ``.npz`` per graph version, in the codec the taxonomy snapshot uses
(:mod:`bamboo.graph.taxonomy.codec`; no pickled objects; the taxonomy's arrays are
:meth:`Taxonomy.arrays <bamboo.graph.taxonomy.hierarchy.Taxonomy.arrays>`). A file is used only when
its recorded format, graph version and database equal the live ones; an unreadable or stale file
is ignored (and replaced), never trusted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bamboo.atomic import atomic_path
from bamboo.graph.crawl.plan import CrawlPlan, DatasetInfo, signals
from bamboo.graph.taxonomy.codec import join_rows, split_rows
from bamboo.graph.taxonomy.hierarchy import SNAPSHOT_FORMAT, Taxonomy
from bamboo.graph.taxonomy.invariants import InvariantReport, check_edges
from bamboo.graph.taxonomy.model import ClassMapping, Dataset
from bamboo.graph.taxonomy.packed import EDGE_COLUMNS, EdgeTable, PackedProps, PropsPacker, jsonable
from bamboo.graph.taxonomy.search import SearchIndex
from bamboo.graph.taxonomy.snapshot import taxonomy_and_edges
from bamboo.graph.taxonomy.tags import QueueOrder, queue_order

if TYPE_CHECKING:  # read through, never imported at run time: the view needs no driver
    from bamboo.graph.store.graph_store import GraphStore

__all__ = ["VIEW_FORMAT", "GraphView", "index_classes", "load_view", "read_view", "write_view"]

log = logging.getLogger(__name__)

#: The saved view's format: 2 is the snapshot's codec (1 had its own separator; such files are ignored).
VIEW_FORMAT = "bamboo-view/2"


@dataclass(frozen=True)
class GraphView:
    """One load of the label system, read by requests until the next ``graph.version``.

    Attributes:
        version: The ``graph.version`` meta value it was loaded at.
        taxonomy: The IS_A hierarchy as CSR arrays.
        search: The name search index.
        props: Concept id -> its property map (packed; decoded on access).
        edge_table: The IS_A edges' ``kind``, ``source``, ``method`` and confidence.
        datasets_of: Concept id -> the dataset classes mapped to it.
        classes_of: Dataset name -> its classes in index order.
        datasets: Every dataset, by name.
        invariants: The graph's invariant check.
        edges: Number of IS_A edges.
        concepts_by_source: Concepts per ``source`` property.
    """

    version: str | None
    taxonomy: Taxonomy
    search: SearchIndex
    props: PackedProps
    edge_table: EdgeTable
    datasets_of: dict[str, list[ClassMapping]]
    classes_of: dict[str, list[ClassMapping]]
    datasets: dict[str, Dataset]
    invariants: InvariantReport
    edges: int
    concepts_by_source: dict[str, int]

    def dataset_classes(self, name: str) -> list[ClassMapping]:
        """The classes of one dataset in class-index order (empty for an unknown name)."""
        return self.classes_of.get(name, [])

    @cached_property
    def crawl(self) -> CrawlPlan:
        """Crawl evidence (visual probabilities, commonness, query words, pairs), once per view."""
        kinds = self.edge_table.kinds_by_child()
        infos = [
            DatasetInfo(
                name=d.name,
                task=str(d.props.get("task") or "classification"),
                classes=d.classes,
                domain=bool(d.props.get("domain")),
                scene=bool(d.props.get("scenes")),
            )
            for d in self.datasets.values()
        ]
        instances = [c for c, k in kinds.items() if k == {"instance"}]
        sig = signals(self.taxonomy, self.props, self.datasets_of, infos, instances)
        return CrawlPlan(sig, self.props, out_of_process=True)

    @cached_property
    def queue_order(self) -> QueueOrder:
        """Every concept ranked for the tag queue, computed once per view (per graph version)."""
        tax = self.taxonomy
        depth = tax.root_depths()
        plan = self.crawl
        return queue_order(
            (str(i) for i in tax.ids),
            prior=plan.visual_p,
            depth=lambda cid: int(depth[tax.index(cid)]),
        )


def index_classes(
    rows: Iterable[ClassMapping],
) -> tuple[dict[str, list[ClassMapping]], dict[str, list[ClassMapping]]]:
    """Dataset classes by concept and by dataset, each list in the order of ``rows``."""
    datasets_of: dict[str, list[ClassMapping]] = defaultdict(list)
    classes_of: dict[str, list[ClassMapping]] = defaultdict(list)
    for row in rows:
        datasets_of[row.concept].append(row)
        classes_of[row.dataset].append(row)
    return dict(datasets_of), dict(classes_of)


def load_view(store: GraphStore, version: str | None) -> GraphView:
    """Read the label system into a :class:`GraphView`, streaming rows into compact columns.

    Concepts and IS_A edges are read concurrently (two sessions); each concept's map is packed as
    it arrives, so no list of every concept's dict is ever held.
    """
    packer = PropsPacker()
    search = SearchIndex()
    names: list[str] = []
    sources: Counter[str] = Counter()

    def concept(props: dict[str, Any]) -> None:
        packer.add(props)
        search.add(props)
        names.append(str(props.get("name") or props["id"]))
        sources[str(props.get("source"))] += 1

    edge_rows, class_rows = store.scan_graph(concept)
    search.seal()
    ids = packer.ids
    columns = {k: [r[i] for r in edge_rows] for i, k in enumerate(EDGE_COLUMNS)}
    del edge_rows
    duplicates = sorted(c for c, n in Counter(ids).items() if n > 1)
    taxonomy, child_pos, parent_pos = taxonomy_and_edges(ids, names, columns["child"], columns["parent"])
    if duplicates:
        invariants = check_edges(sorted(set(ids)), columns["child"], columns["parent"], duplicates)
    else:  # the taxonomy's ids are the distinct ids, and its edge positions serve as they are
        positions = (taxonomy.positions, child_pos, parent_pos)
        invariants = check_edges(
            taxonomy.ids.tolist(), columns["child"], columns["parent"], positions=positions
        )
    edge_table = EdgeTable(taxonomy, columns, positions=(child_pos, parent_pos))
    datasets = {d.name: d for d in store.datasets()}
    parts = (taxonomy, search, packer.finish(taxonomy), edge_table)
    classes = sorted(class_rows, key=lambda r: (r.dataset, r.index))
    return _assemble(version, parts, classes, datasets, invariants, len(columns["child"]), sources)


def _assemble(
    version: str | None,
    parts: tuple[Taxonomy, SearchIndex, PackedProps, EdgeTable],
    classes: list[ClassMapping],
    datasets: dict[str, Dataset],
    invariants: InvariantReport,
    edges: int,
    sources: dict[str, int],
) -> GraphView:
    """A view from its parts, read from the store or from a saved file alike."""
    taxonomy, search, props, edge_table = parts
    datasets_of, classes_of = index_classes(classes)
    return GraphView(
        version=version,
        taxonomy=taxonomy,
        search=search,
        props=props,
        edge_table=edge_table,
        datasets_of=datasets_of,
        classes_of=classes_of,
        datasets=datasets,
        invariants=invariants,
        edges=edges,
        concepts_by_source=dict(sorted(sources.items())),
    )


def _file(folder: Path, database: str) -> Path:
    return folder / f"view-{hashlib.sha256(database.encode()).hexdigest()[:12]}.npz"


def write_view(view: GraphView, folder: Path, database: str) -> Path:
    """Save ``view`` for ``database``; returns the file."""
    tax: Taxonomy = view.taxonomy
    search = view.search.state()
    props = view.props.state()
    edges = view.edge_table.state()
    classes = [c for rows in view.classes_of.values() for c in rows]
    meta = {
        "format": VIEW_FORMAT,
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
        **tax.arrays(),
        "props_blob": np.frombuffer(props["blob"], dtype=np.uint8),
        "props_starts": props["starts"],
        "props_ends": props["ends"],
        "edge_score": edges["score"],
        **{f"edge_{k}": v for k, v in edges["codes"].items()},
        "search_ids": join_rows(search["ids"]),
        "search_names": join_rows(search["names"]),
        "search_choices": join_rows(search["choices"]),
        "search_original": join_rows(search["original"]),
        "search_bounds": search["bounds"],
        "search_lang": search["lang"],
        "search_concept": search["concept"],
        "class_text": join_rows([v for c in classes for v in (c.concept, c.dataset, c.raw_name, c.method)]),
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


def read_view(folder: Path, database: str, version: str | None) -> GraphView | None:
    """The view saved for ``database`` at graph ``version``, or None (no file, stale, unreadable)."""

    path = _file(folder, database)
    if version is None or not path.exists():
        return None
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes())
            if (
                meta.get("format") != VIEW_FORMAT
                or meta.get("version") != version
                or meta.get("database") != database
            ):
                return None
            n = int(meta["concepts"])
            ids, names, _ = Taxonomy.text_columns(data, n)
            tax = Taxonomy(
                ids, names, data["parent_indptr"], data["parent_indices"], meta={"format": SNAPSHOT_FORMAT}
            )
            sizes = meta["search"]
            search = SearchIndex.from_state(
                {
                    "ids": split_rows(data["search_ids"], sizes["ids"]),
                    "names": split_rows(data["search_names"], sizes["ids"]),
                    "lang_names": meta["lang_names"],
                    "choices": split_rows(data["search_choices"], sizes["choices"]),
                    "original": split_rows(data["search_original"], sizes["original"]),
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
            text = split_rows(data["class_text"], 4 * m)
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
    datasets = {d["name"]: Dataset(**d) for d in meta["datasets"]}
    invariants = InvariantReport(**meta["invariants"])
    sources = dict(meta["concepts_by_source"])
    return _assemble(
        version, (tax, search, props, edges), rows, datasets, invariants, int(meta["edges"]), sources
    )
