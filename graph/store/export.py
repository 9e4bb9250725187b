"""Exports of the label system: Bamboo-style JSON, SKOS Turtle (rdflib) and Parquet (pyarrow).

* ``bamboo-json``: one JSON object with ``father2child``, ``child2father``, ``id2name`` and
  ``id2desc``, the layout of the Bamboo authors' released label-system file.
* ``skos``: a ``skos:ConceptScheme`` whose concepts carry ``skos:prefLabel``, ``skos:altLabel``,
  ``skos:definition`` and ``skos:broader``.
* ``parquet``: a folder with ``concepts.parquet`` and ``is_a.parquet``.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq
from rdflib import RDF, SKOS, Graph, Literal as RdfLiteral, Namespace, URIRef

from bamboo.atomic import atomic_path, write_text_atomic
from bamboo.errors import ConfigurationError
from bamboo.graph.taxonomy.invariants import GraphContents

__all__ = ["BAMBOO_NS", "ExportFormat", "export"]

ExportFormat = Literal["bamboo-json", "skos", "parquet"]
BAMBOO_NS = Namespace("https://bamboo-labels.org/concept/")


def _bamboo_json(contents: GraphContents, path: Path) -> None:
    father2child: dict[str, list[str]] = defaultdict(list)
    child2father: dict[str, list[str]] = defaultdict(list)
    for edge in sorted(contents.edges, key=lambda e: (e["child"], e["parent"])):
        father2child[edge["parent"]].append(edge["child"])
        child2father[edge["child"]].append(edge["parent"])
    concepts = sorted(contents.concepts, key=lambda p: p["id"])
    doc = {
        "father2child": {k: sorted(v) for k, v in sorted(father2child.items())},
        "child2father": dict(sorted(child2father.items())),
        "id2name": {c["id"]: c.get("name") for c in concepts},
        "id2desc": {c["id"]: c.get("gloss") or "" for c in concepts},
    }
    write_text_atomic(path, json.dumps(doc, ensure_ascii=False))


def _uri(concept_id: str) -> URIRef:
    return BAMBOO_NS[concept_id.replace(":", "/")]


def _skos(contents: GraphContents, path: Path) -> None:
    g = Graph()
    g.bind("skos", SKOS)
    g.bind("bamboo", BAMBOO_NS)
    scheme = BAMBOO_NS["scheme"]
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    for c in contents.concepts:
        node = _uri(c["id"])
        g.add((node, RDF.type, SKOS.Concept))
        g.add((node, SKOS.inScheme, scheme))
        g.add((node, SKOS.notation, RdfLiteral(c["id"])))
        g.add((node, SKOS.prefLabel, RdfLiteral(c.get("name") or c["id"], lang="en")))
        for lemma in (c.get("lemmas") or [])[1:]:
            g.add((node, SKOS.altLabel, RdfLiteral(lemma, lang="en")))
        if c.get("gloss"):
            g.add((node, SKOS.definition, RdfLiteral(c["gloss"], lang="en")))
    for e in contents.edges:
        g.add((_uri(e["child"]), SKOS.broader, _uri(e["parent"])))
    write_text_atomic(path, g.serialize(format="turtle"))


def _parquet(contents: GraphContents, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.mkdir(parents=True)
        _parquet_files(contents, tmp)


def _parquet_files(contents: GraphContents, tmp: Path) -> None:
    concepts = sorted(contents.concepts, key=lambda p: p["id"])
    table = pa.table(
        {
            "id": [c["id"] for c in concepts],
            "name": [c.get("name") for c in concepts],
            "lemmas": [list(c.get("lemmas") or []) for c in concepts],
            "gloss": [c.get("gloss") for c in concepts],
            "lexname": [c.get("lexname") for c in concepts],
            "source": [c.get("source") for c in concepts],
            "visual": pa.array([c.get("visual") for c in concepts], type=pa.bool_()),
            "common": pa.array([c.get("common") for c in concepts], type=pa.bool_()),
        }
    )
    pq.write_table(table, tmp / "concepts.parquet")
    edges = sorted(contents.edges, key=lambda e: (e["child"], e["parent"]))
    pq.write_table(
        pa.table({k: [e.get(k) for e in edges] for k in ("child", "parent", "kind", "source")}),
        tmp / "is_a.parquet",
    )


def export(contents: GraphContents, fmt: str, path: str | os.PathLike[str]) -> Path:
    """Write ``contents`` to ``path`` in ``fmt``; the target appears whole or not at all.

    Raises:
        ConfigurationError: an unknown format.
    """
    writers = {"bamboo-json": _bamboo_json, "skos": _skos, "parquet": _parquet}
    if fmt not in writers:
        raise ConfigurationError(f"unknown export format {fmt!r}; choose one of {', '.join(writers)}")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    writers[fmt](contents, out)
    return out
