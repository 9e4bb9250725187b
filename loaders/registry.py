"""Registry of dataset loaders: ``@register_loader``, ``list_loaders()``, ``create_loader(name)``."""

from __future__ import annotations

from collections.abc import Callable

from bamboo.errors import ConfigurationError
from bamboo.loaders.base import Loader

__all__ = ["create_loader", "list_loaders", "register_loader"]

_REGISTRY: dict[str, Callable[[], Loader]] = {}


def register_loader(name: str) -> Callable[[Callable[[], Loader]], Callable[[], Loader]]:
    """Register a loader factory (a class or a function returning a :class:`Loader`) under ``name``."""

    def deco(factory: Callable[[], Loader]) -> Callable[[], Loader]:
        if name in _REGISTRY:
            raise ConfigurationError(f"a loader named {name!r} is already registered")
        _REGISTRY[name] = factory
        return factory

    return deco


def list_loaders() -> list[str]:
    """Names of every registered loader, sorted."""
    return sorted(_REGISTRY)


def create_loader(name: str) -> Loader:
    """A new loader for ``name``; raises :class:`ConfigurationError` for an unknown one."""
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise ConfigurationError(f"unknown dataset {name!r}; known: {', '.join(list_loaders())}") from None
