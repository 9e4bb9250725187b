"""The pure taxonomy: the label system as data, with no database in reach.

The DAG and its queries (:class:`Taxonomy`: ancestors, descendants, depth, lowest common
ancestors, paths), related-category sets, name search, tag-vote rules, WordNet reading, the packed
arrays and the snapshot file training jobs load. Nothing here imports the store or a driver: the SDK
and the snapshot path load only this room.
"""

import lazy_loader

# Re-exported lazily (the names are in __init__.pyi): importing the room loads none of its modules
# until one of its names is used.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
