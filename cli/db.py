"""``bamboo db start|stop|status``: the embedded ArcadeDB server's lifecycle."""

from __future__ import annotations

import typer
from rich.console import Console

from bamboo.cli._app import app, state
from bamboo.errors import ConfigurationError
from bamboo.graph.store.embedded import server_status, start_server, stop_server

__all__ = ["console", "db_app", "start", "status", "stop"]

db_app = typer.Typer(
    rich_markup_mode=None, help="Start, stop and inspect the embedded graph store.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
console = Console(soft_wrap=True)


def _embedded_settings(ctx: typer.Context):  # type: ignore[no-untyped-def]
    settings = state(ctx).settings()
    if not settings.embedded:
        raise ConfigurationError(
            "`bamboo db` manages the embedded store only; a --uri server is managed elsewhere"
        )
    return settings


@db_app.command("start")
def start(ctx: typer.Context) -> None:
    """Start the embedded server (or reuse the running one)."""
    settings = _embedded_settings(ctx)
    info = start_server(settings.embedded_server())
    console.print(
        f"embedded graph store running: pid {info.pid}, {info.uri}, database {info.database!r}, "
        f"data in {info.data_dir}"
    )


@db_app.command("stop")
def stop(ctx: typer.Context) -> None:
    """Stop the embedded server."""
    settings = _embedded_settings(ctx)
    stopped = stop_server(settings.data_dir)
    console.print("stopped" if stopped else "not running")


@db_app.command("status")
def status(ctx: typer.Context) -> None:
    """Say whether the embedded server runs (exit status 1 when it does not)."""
    settings = _embedded_settings(ctx)
    info = server_status(settings.data_dir.expanduser().resolve())
    if info is None:
        console.print(f"not running (data dir {settings.data_dir})")
        raise typer.Exit(1)
    console.print(f"running: pid {info.pid}, {info.uri}, database {info.database!r}, data in {info.data_dir}")
