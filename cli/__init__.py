"""The ``bamboo`` command line (typer). ``main`` is the console-script entry point."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape

from bamboo.cli._app import app
from bamboo.errors import BambooError, printable

# Command groups register themselves on import.
from bamboo.cli import datasets as _datasets  # noqa: F401,E402  isort: skip
from bamboo.cli import db as _db  # noqa: F401,E402  isort: skip
from bamboo.cli import graph as _graph  # noqa: F401,E402  isort: skip
from bamboo.cli import growth as _growth  # noqa: F401,E402  isort: skip
from bamboo.cli import sdk as _sdk  # noqa: F401,E402  isort: skip
from bamboo.cli import serve as _serve  # noqa: F401,E402  isort: skip
from bamboo.cli import study as _study  # noqa: F401,E402  isort: skip
from bamboo.cli import train as _train  # noqa: F401,E402  isort: skip
from bamboo.cli import wikidata as _wikidata  # noqa: F401,E402  isort: skip

__all__ = ["app", "main"]


def main() -> None:
    """Run the CLI; Bamboo's own errors print one clear line and exit with status 2."""
    try:
        code = app(standalone_mode=False)
    except BambooError as exc:
        # printable: a message may quote a file's bytes; no terminal escape reaches the terminal.
        message = escape(printable(str(exc)))
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {message}", highlight=False)
        sys.exit(2)
    except SystemExit:
        raise
    except Exception as exc:  # click's usage errors come through here in non-standalone mode
        # typer may vendor click (typer._click), so recognise its exceptions by shape, not class.
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            sys.exit(exit_code)
        if type(exc).__name__ == "Abort":
            sys.exit(130)
        raise
    sys.exit(code if isinstance(code, int) else 0)
