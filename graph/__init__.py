"""The label system: WordNet backbone, datasets and Wikidata integrated into it, and its queries.

Rooms, one concern each:

- :mod:`bamboo.graph.taxonomy`: the pure taxonomy (the DAG and its queries, related sets, search,
  tag rules, WordNet reading, the snapshot training jobs load); it imports no database driver.
- :mod:`bamboo.graph.store`: the graph store (every Cypher statement, the driver, the embedded
  ArcadeDB server, the build, stats, exports).
- :mod:`bamboo.graph.usercypher`: users' read-only Cypher (the allowlisting guard and the runner).
- :mod:`bamboo.graph.crawl`: crawl queries and detection pairs.
- :mod:`bamboo.graph.mapping`: public datasets' class lists mapped into the label system.
- :mod:`bamboo.graph.link`: linking names that are not synsets (lexicon, head nouns, embeddings).
- :mod:`bamboo.graph.wikidata`: the SPARQL client and the Wikidata sync.
- :mod:`bamboo.graph.tasks`: verification tasks.

Typical use::

    from bamboo.graph import GraphSettings, GraphStore, open_driver
    settings = GraphSettings()                 # embedded ArcadeDB unless BAMBOO_GRAPH_URI is set
    with open_driver(settings) as driver:
        store = GraphStore(driver, settings.database)
        store.ancestors("wn:n02084071")

Names are re-exported lazily: ``from bamboo.graph import Taxonomy`` loads the taxonomy room only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader

if TYPE_CHECKING:
    from bamboo.graph.store.build import BuildReport as BuildReport, build_wordnet as build_wordnet
    from bamboo.graph.store.connection import GraphSettings as GraphSettings, open_driver as open_driver
    from bamboo.graph.store.graph_store import GraphStore as GraphStore
    from bamboo.graph.taxonomy.hierarchy import Taxonomy as Taxonomy
    from bamboo.graph.taxonomy.model import (
        ENTITY_ID as ENTITY_ID,
        Concept as Concept,
        ConceptRef as ConceptRef,
        Page as Page,
    )

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submodules=["crawl", "link", "mapping", "store", "tasks", "taxonomy", "usercypher", "wikidata"],
    submod_attrs={
        "store.build": ["BuildReport", "build_wordnet"],
        "store.connection": ["GraphSettings", "open_driver"],
        "store.graph_store": ["GraphStore"],
        "taxonomy.hierarchy": ["Taxonomy"],
        "taxonomy.model": ["ENTITY_ID", "Concept", "ConceptRef", "Page"],
    },
)
