"""Wikidata: the SPARQL client and the sync that brings Wikidata concepts into the label system.

Placing names uses the strategies in :mod:`bamboo.graph.link`.
"""

import lazy_loader

# Re-exported lazily (the names are in __init__.pyi): importing the room loads none of its modules
# until one of its names is used.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
