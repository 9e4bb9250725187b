"""The command line of the benchmarks that take only ``--name value`` options."""

from __future__ import annotations

import argparse


def options(doc: str, **defaults: int | float | str) -> argparse.Namespace:
    """Parse ``--name value`` for each keyword (``per_class`` is ``--per-class``), typed as its default.

    Args:
        doc: The benchmark's module docstring; its first line is the ``--help`` description.
        **defaults: Each option's default value.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, default in defaults.items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(default), default=default)
    return parser.parse_args()
