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
- :mod:`bamboo.graph.view`: the service's view of the graph (one load, its saved file, its loader).

Typical use::

    from bamboo.graph import GraphSettings, GraphStore, open_driver
    settings = GraphSettings()                 # embedded ArcadeDB unless BAMBOO_GRAPH_URI is set
    with open_driver(settings) as driver:
        store = GraphStore(driver, settings.database)
        store.ancestors("wn:n02084071")

Names are re-exported lazily: ``from bamboo.graph import Taxonomy`` loads the taxonomy room only.
"""

import lazy_loader

# Re-exported lazily (the names and rooms are in __init__.pyi).
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
