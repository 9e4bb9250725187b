"""The label system in a graph store: WordNet backbone, queries, invariants, snapshot, exports.

Typical use::

    from bamboo.graph import GraphSettings, GraphStore, open_driver
    settings = GraphSettings()                 # embedded ArcadeDB unless BAMBOO_GRAPH_URI is set
    with open_driver(settings) as driver:
        store = GraphStore(driver, settings.database)
        store.ancestors("wn:n02084071")
"""

from __future__ import annotations

from bamboo.graph.build import BuildReport, build_wordnet
from bamboo.graph.connection import GraphSettings, open_driver
from bamboo.graph.model import ENTITY_ID, Concept, ConceptRef, Page
from bamboo.graph.store import GraphStore
from bamboo.graph.taxonomy import Taxonomy

__all__ = [
    "ENTITY_ID",
    "BuildReport",
    "Concept",
    "ConceptRef",
    "GraphSettings",
    "GraphStore",
    "Page",
    "Taxonomy",
    "build_wordnet",
    "open_driver",
]
