"""``bamboo datasets``: the dataset loaders and, after a build, what each dataset's classes map to."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Column, Table

from bamboo.cli._app import app
from bamboo.cli.graph import open_store
from bamboo.loaders import create_loader, list_loaders

console = Console(soft_wrap=True)


@app.command()
def datasets(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List dataset loaders with counts: classes, by id, by name (lemma or sense), linked, pending."""
    with open_store(ctx) as store:
        counts = store.dataset_method_counts()
    rows = []
    for name in list_loaders():
        loader = create_loader(name)
        by = counts.get(name, {})
        rows.append(
            {
                "dataset": name,
                "task": loader.task,
                "imported": name in counts,
                "classes": sum(by.values()),
                "by_id": by.get("wnid", 0) + by.get("synset", 0) + by.get("mid", 0),
                "by_lemma": by.get("lemma", 0) + by.get("sense", 0),
                "linked": sum(v for k, v in by.items() if k.startswith("link")),
                "pending": by.get("pending", 0),
            }
        )
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(
        Column("dataset", no_wrap=True, min_width=18),
        Column("task", no_wrap=True, min_width=14),
        *(Column(h, justify="right") for h in ("classes", "by id", "by lemma", "linked", "pending")),
    )
    for r in rows:
        table.add_row(
            r["dataset"],
            r["task"],
            *(
                str(r[k]) if r["imported"] else "-"
                for k in ("classes", "by_id", "by_lemma", "linked", "pending")
            ),
        )
    (console if console.is_terminal else Console(width=110)).print(table)
