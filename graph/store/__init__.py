"""The graph store: the one place that talks to the database.

:class:`GraphStore` (every Cypher statement the project runs lives in :mod:`.cypher`), the
connection settings and driver, the embedded ArcadeDB server, the WordNet build, statistics and
exports.
"""

import lazy_loader

# Re-exported lazily (the names are in __init__.pyi): importing the room loads none of its modules
# until one of its names is used.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
