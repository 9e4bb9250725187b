"""The wheel must ship every subpackage: the explicit package list in pyproject.toml must be complete."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUBPACKAGES = ("graph", "api", "sdk", "training", "loaders", "cli")


def test_every_package_folder_is_listed() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"bamboo"}
    for top in SUBPACKAGES:
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT)
            if "__pycache__" not in rel.parts:
                found.add("bamboo." + ".".join(rel.parts))
    assert found == listed
