"""Users' Cypher: the read-only guard and the isolated runner.

:func:`check_read_only` parses a statement and allowlists what it may do (never pattern matching);
:mod:`.runner` runs what passed as a least-privilege user with time, row and byte limits.
"""

import lazy_loader

# Re-exported lazily (the names are in __init__.pyi): importing the room loads none of its modules
# until one of its names is used.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
