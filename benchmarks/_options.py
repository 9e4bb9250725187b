"""The command line of the benchmarks that take ``--name value`` options (and paths)."""

from __future__ import annotations

import argparse
from pathlib import Path


def options(doc: str, *folders: str, **defaults: int | float | str) -> argparse.Namespace:
    """Parse ``--name value`` for each keyword (``per_class`` is ``--per-class``), typed as its default.

    Args:
        doc: The benchmark's module docstring; its first line is the ``--help`` description.
        *folders: Names of positional arguments, each a path.
        **defaults: Each option's default value.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name in folders:
        parser.add_argument(name, type=Path)
    for name, default in defaults.items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(default), default=default)
    return parser.parse_args()
