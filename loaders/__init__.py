"""Loaders for public datasets' label systems, one module per dataset family, in a registry.

``list_loaders()`` names them, ``create_loader(name).load(path)`` reads a dataset's official file
into a :class:`LabelSet`. Importing this package registers every loader.
"""

from __future__ import annotations

# Importing each family module registers its loaders.
from bamboo.loaders import (
    coco as _coco,  # noqa: F401
    finegrained as _finegrained,  # noqa: F401
    imagenet as _imagenet,  # noqa: F401
    names as _names,  # noqa: F401
    openimages as _openimages,  # noqa: F401
    registry as _registry,
    scenes as _scenes,  # noqa: F401
)
from bamboo.loaders.base import LabelSet, Loader, MalformedFile, RawClass
from bamboo.loaders.registry import (  # re-exported ("x as x"): __all__ takes the registry's list
    create_loader as create_loader,
    find_available as find_available,
    list_loaders as list_loaders,
    package_folders as package_folders,
    read_label_sets as read_label_sets,
    register_loader as register_loader,
)

__all__ = ["LabelSet", "Loader", "MalformedFile", "RawClass"]
__all__ += _registry.__all__  # every registry function is public here
