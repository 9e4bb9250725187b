"""Every ``>>>`` example in the package's docstrings runs (the house style's ``--doctest-modules``,
done here because the package's source root is the repository root, which pytest's own doctest
collection would import under the folder's name instead of ``bamboo``)."""

from __future__ import annotations

import doctest
import importlib
import importlib.abc
import importlib.util
import pkgutil

import pytest

SUBPACKAGES = ("graph", "loaders", "api", "sdk", "training", "cli")


def _modules() -> list[str]:
    names = ["bamboo.errors", "bamboo.atomic"]
    for sub in SUBPACKAGES:
        package = importlib.import_module(f"bamboo.{sub}")
        names.append(package.__name__)
        names += [m.name for m in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")]
    return sorted(names)


def _has_examples(name: str) -> bool:
    spec = importlib.util.find_spec(name)
    source = (
        spec.loader.get_source(name)
        if spec and isinstance(spec.loader, importlib.abc.InspectLoader)
        else None
    )
    return ">>>" in (source or "")


MODULES = _modules()


def test_the_walk_finds_the_package() -> None:
    assert {"bamboo.graph.store.graph_store", "bamboo.sdk.loop", "bamboo.api.app"} <= set(MODULES)


@pytest.mark.parametrize("name", [m for m in MODULES if _has_examples(m)])
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has '>>>' in its source but no example ran"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
