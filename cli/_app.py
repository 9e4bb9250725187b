"""The typer application and the connection options every command shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from bamboo import paths
from bamboo.graph.store.connection import GraphSettings

__all__ = ["State", "Wn31Map", "app", "cache_dir", "state"]

app = typer.Typer(
    rich_markup_mode=None,
    name="bamboo",
    help="Bamboo label system: build it, query it, serve it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


#: ``--wn31-map``, shared by the commands that take ``--wikidata``.
Wn31Map = Annotated[
    Path | None,
    typer.Option(help="With --wikidata: wn31<TAB>wn30 offsets (e.g. from the ILI) for items' P8814 ids."),
]


def cache_dir() -> Path:
    """The folder for caches the commands hand to the library (synset vectors, a prepared WordNet):
    :func:`bamboo.paths.cache_dir`, read here at the command line so that library code takes the
    folder as an argument."""
    return paths.cache_dir()


@dataclass
class State:
    """What the root callback parsed, shared by every command.

    Attributes:
        overrides: Connection flags given on the command line (``None`` when not given).
    """

    overrides: dict[str, Any] = field(default_factory=dict)

    def settings(self) -> GraphSettings:
        """The graph settings: the environment, overridden by the flags given."""
        return GraphSettings(**{k: v for k, v in self.overrides.items() if v is not None})


def state(ctx: typer.Context) -> State:
    """The :class:`State` of the running command."""
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


@app.callback()
def _options(
    ctx: typer.Context,
    uri: Annotated[
        str | None,
        typer.Option(help="Bolt URI of a Neo4j server [env BAMBOO_GRAPH_URI]; omit for the embedded store."),
    ] = None,
    user: Annotated[str | None, typer.Option(help="User for --uri [env BAMBOO_GRAPH_USER].")] = None,
    password: Annotated[
        str | None, typer.Option(help="Password for --uri [env BAMBOO_GRAPH_PASSWORD].")
    ] = None,
    database: Annotated[str | None, typer.Option(help="Database name [env BAMBOO_GRAPH_DATABASE].")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Embedded store folder [env BAMBOO_GRAPH_DATA_DIR].")
    ] = None,
    bolt_port: Annotated[
        int | None, typer.Option(help="Embedded Bolt port [env BAMBOO_GRAPH_BOLT_PORT].")
    ] = None,
    http_port: Annotated[
        int | None, typer.Option(help="Embedded HTTP port [env BAMBOO_GRAPH_HTTP_PORT].")
    ] = None,
) -> None:
    ctx.obj = State(
        overrides={
            "uri": uri,
            "user": user,
            "password": password,
            "database": database,
            "data_dir": data_dir,
            "bolt_port": bolt_port,
            "http_port": http_port,
        }
    )
