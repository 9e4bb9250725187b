"""The cache and data folders are decided in one place, honouring the XDG variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from bamboo import paths
from bamboo.graph.store.connection import GraphSettings


def test_cache_folder_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BAMBOO_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert paths.cache_dir() == tmp_path / "home" / ".cache" / "bamboo"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert paths.cache_dir("features") == tmp_path / "xdg" / "bamboo" / "features"
    monkeypatch.setenv("BAMBOO_CACHE_DIR", str(tmp_path / "mine"))
    assert paths.cache_dir() == tmp_path / "mine"


def test_data_folder_follows_xdg_and_the_settings_use_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("BAMBOO_GRAPH_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert paths.data_dir() == tmp_path / "data" / "bamboo"
    assert GraphSettings().data_dir == tmp_path / "data" / "bamboo"
