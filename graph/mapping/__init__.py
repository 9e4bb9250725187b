"""Dataset mapping: public datasets' class lists integrated into the label system (one concept
per meaning, each decision with provenance and confidence), sense choice, taxa, and the
mapping's evaluation on gold data.
"""

import lazy_loader

# Re-exported lazily (the names are in __init__.pyi): importing the room loads none of its modules
# until one of its names is used.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
