"""The ``bamboo`` command line (typer). ``main`` is the console-script entry point."""

from __future__ import annotations

import sys

from rich.console import Console

from bamboo.cli._app import app
from bamboo.errors import BambooError

# Command groups register themselves on import.
from bamboo.cli import datasets as _datasets  # noqa: F401,E402  isort: skip
from bamboo.cli import db as _db  # noqa: F401,E402  isort: skip
from bamboo.cli import graph as _graph  # noqa: F401,E402  isort: skip
from bamboo.cli import serve as _serve  # noqa: F401,E402  isort: skip
from bamboo.cli import wikidata as _wikidata  # noqa: F401,E402  isort: skip

__all__ = ["app", "main"]


def main() -> None:
    """Run the CLI; Bamboo's own errors print one clear line and exit with status 2."""
    try:
        code = app(standalone_mode=False)
    except BambooError as exc:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    except SystemExit:
        raise
    except Exception as exc:  # click's usage errors come through here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(130)
        raise
    sys.exit(code if isinstance(code, int) else 0)
