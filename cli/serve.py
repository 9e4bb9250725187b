"""``bamboo serve``: run the REST API with uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bamboo.cli._app import app, state

__all__ = ["serve"]


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    tasks_db: Annotated[
        Path | None,
        typer.Option(envvar="BAMBOO_TASKS_DB", help="Verification task store (SQLite): /tasks, /ui/verify."),
    ] = None,
    access_log: Annotated[
        bool,
        typer.Option(
            envvar="BAMBOO_ACCESS_LOG",
            help="Log every request (turn off where a proxy in front logs them: at 300K concepts "
            "a concept page then serves about 15 % more requests/s).",
        ),
    ] = True,
) -> None:
    """Serve the API and the web UI at /ui (starts the embedded store first when no --uri is given)."""
    import uvicorn

    from bamboo.api.app import create_app
    from bamboo.api.malloc import limit_malloc_arenas
    from bamboo.api.settings import ServiceSettings

    limit_malloc_arenas()  # before the first worker thread exists
    graph = state(ctx).settings()
    settings = ServiceSettings(graph=graph, tasks_db=tasks_db)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", access_log=access_log)
