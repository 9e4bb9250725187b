"""Pins the names the packages export (changing them is an API change).

The pinned names live in ``public_api.json`` beside this file, one list per package: an API change
is a reviewed change of that file.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

import bamboo

PINNED: dict[str, list[str]] = json.loads(Path(__file__).with_name("public_api.json").read_text())


@pytest.mark.parametrize("package", sorted(PINNED))
def test_package_exports(package: str) -> None:
    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(PINNED[package])
    for name in module.__all__:
        assert hasattr(module, name)


def test_errors_subclass_builtins() -> None:
    assert issubclass(bamboo.ConceptNotFound, KeyError)
    assert issubclass(bamboo.WordNetNotFound, FileNotFoundError)
    assert issubclass(bamboo.GraphUnavailable, ConnectionError)
    assert all(issubclass(getattr(bamboo, n), bamboo.BambooError) for n in bamboo.__all__ if n[0].isupper())
