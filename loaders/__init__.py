"""Loaders for public datasets' label systems, one module per dataset family, in a registry.

``list_loaders()`` names them, ``create_loader(name).load(path)`` reads a dataset's official file
into a :class:`LabelSet`. Importing this package registers every loader.
"""

from __future__ import annotations

from bamboo.loaders import imagenet as _imagenet  # noqa: F401  (registers the ImageNet family)
from bamboo.loaders.base import LabelSet, Loader, MalformedFile, RawClass
from bamboo.loaders.registry import create_loader, list_loaders, register_loader

__all__ = [
    "LabelSet",
    "Loader",
    "MalformedFile",
    "RawClass",
    "create_loader",
    "list_loaders",
    "register_loader",
]
