"""MkDocs hook: lets mkdocstrings read the ``bamboo`` package from source.

The import package ``bamboo`` is the repository root (setuptools ``package-dir``), so no folder on any
path is named ``bamboo`` and griffe, looking for one, would take the ``bamboo`` console script instead.
A temporary folder holding a ``bamboo`` link to the root is put first on the Python handler's paths.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority

ROOT = Path(__file__).resolve().parents[2]


@event_priority(100)  # before mkdocstrings reads its handlers' options
def on_config(config: Any) -> Any:
    folder = Path(tempfile.mkdtemp(prefix="bamboo-docs-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    (folder / "bamboo").symlink_to(ROOT, target_is_directory=True)
    python = config["plugins"]["mkdocstrings"].config["handlers"].setdefault("python", {})
    python["paths"] = [str(folder), *python.get("paths", [])]
    return config
