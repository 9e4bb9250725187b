"""``bamboo serve``: run the REST API with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from bamboo.cli._app import app, state


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
) -> None:
    """Serve the API (starts the embedded store first when no --uri is given)."""
    import uvicorn

    from bamboo.api.app import create_app
    from bamboo.api.settings import ServiceSettings

    graph = state(ctx).settings()
    uvicorn.run(create_app(ServiceSettings(graph=graph)), host=host, port=port, log_level="info")
