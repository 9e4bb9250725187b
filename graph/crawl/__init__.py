"""Crawl queries (paper §4.1.1): the query strings to crawl for each concept, and the
concept pairs for detection crawls.
"""

import lazy_loader

# Re-exported lazily (the names are in __init__.pyi): importing the room loads none of its modules
# until one of its names is used.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
