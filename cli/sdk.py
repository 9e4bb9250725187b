"""``bamboo dedup``: the SDK's DHash de-duplication from the command line."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bamboo.cli._app import app

__all__ = ["console", "dedup"]

console = Console(soft_wrap=True)


@app.command()
def dedup(
    pool: Annotated[Path, typer.Argument(help="Pool meta file: '[image path or url] [class_index]' lines.")],
    downstream: Annotated[
        list[Path], typer.Option(help="Test-set image folder, meta file or list (repeatable).")
    ],
    out: Annotated[Path, typer.Option(help="Where to write the filtered meta file.")],
    max_distance: Annotated[
        int, typer.Option(min=0, max=63, help="Hamming distance that counts as a copy.")
    ] = 4,
    workers: Annotated[int, typer.Option(min=1, help="Threads reading and fetching images.")] = 8,
) -> None:
    """Drop pool images within --max-distance (DHash, Hamming) of any downstream image."""
    from bamboo.sdk.dedup import dedup_meta

    report = dedup_meta(pool, downstream, out, max_distance=max_distance, workers=workers)
    for failure in report.failures[:20]:
        console.print(f"unreadable: {failure.item.location}: {failure.reason}", highlight=False, markup=False)
    if len(report.failures) > 20:
        console.print(f"... and {len(report.failures) - 20} more unreadable images", highlight=False)
    summary = dataclasses.asdict(report) | {"failures": len(report.failures), "out": str(out)}
    console.print(json.dumps(summary), highlight=False, markup=False)
