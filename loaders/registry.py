"""Registry of dataset loaders: ``@register_loader``, ``list_loaders()``, ``create_loader(name)``."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from pathlib import Path

from bamboo.errors import ConfigurationError
from bamboo.loaders.base import LabelSet, Loader

__all__ = [
    "create_loader",
    "find_available",
    "list_loaders",
    "package_folders",
    "read_label_sets",
    "register_loader",
]

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


def package_folders() -> list[Path]:
    """Folders of installed packages that ship official class lists (timm's ImageNet lists)."""
    spec = importlib.util.find_spec("timm")  # locates the package without importing torch
    if spec is None or not spec.submodule_search_locations:
        return []
    folders = [Path(p) / "data" / "_info" for p in spec.submodule_search_locations]
    return [f for f in folders if f.is_dir()]


def find_available(folders: Sequence[Path], names: Sequence[str] | None = None) -> dict[str, Path]:
    """Datasets (all, or ``names``) whose class list is found in ``folders``, with its path."""
    found = {}
    for name in names if names is not None else list_loaders():
        path = create_loader(name).find(folders)
        if path is not None:
            found[name] = path
    return found


def read_label_sets(names: Sequence[str] | None, folder: Path | None = None) -> list[LabelSet]:
    """Parse the class lists of ``names`` (every dataset found when None) from ``folder`` and the
    installed packages that ship lists (timm's).

    Raises:
        ConfigurationError: an unknown name, or a wanted list found nowhere (says where to get it).
    """
    folders = [*([folder] if folder else []), *package_folders()]
    for name in names or []:
        create_loader(name)  # unknown names fail here, before anything is read
    found = find_available(folders, names)
    missing = [n for n in names or [] if n not in found]
    if missing:
        loader = create_loader(missing[0])
        where = ", ".join(map(str, folders)) or "nowhere (give --datasets-dir)"
        raise ConfigurationError(
            f"{missing[0]}: no {loader.filename} in {where} (download it from {loader.urls[0]})"
        )
    return [create_loader(name).load(path) for name, path in found.items()]
