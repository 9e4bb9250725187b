"""Where Bamboo keeps files outside the checkout: decided here, and nowhere else.

- :func:`cache_dir`: caches that can be rebuilt (synset vectors, a prepared WordNet copy, image
  features, built wheels): ``$BAMBOO_CACHE_DIR``, else ``$XDG_CACHE_HOME/bamboo``, else
  ``~/.cache/bamboo``.
- :func:`data_dir`: the embedded store's databases: ``$XDG_DATA_HOME/bamboo``, else
  ``~/.local/share/bamboo`` (``BAMBOO_GRAPH_DATA_DIR`` overrides it through the graph settings).

Both read the environment when called, never at import.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir", "data_dir"]


def cache_dir(*parts: str) -> Path:
    """The cache folder, or ``parts`` inside it (not created)."""
    if os.environ.get("BAMBOO_CACHE_DIR"):
        root = Path(os.environ["BAMBOO_CACHE_DIR"])
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bamboo"
    return root.joinpath(*parts)


def data_dir() -> Path:
    """The embedded store's default folder (not created)."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "bamboo"
