"""``bamboo train cls`` and ``bamboo probe``."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bamboo.cli._app import app

console = Console(soft_wrap=True)
train_app = typer.Typer(help="Train models on the label system.", no_args_is_help=True)
app.add_typer(train_app, name="train")


@train_app.command("cls")
def train_cls(
    overrides: Annotated[list[str] | None, typer.Argument(help="key=value settings, after --config.")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML file of settings.")] = None,
) -> None:
    """Classification pre-training (timm; one process here, `torchrun -m bamboo.training.cls` for DDP)."""
    from bamboo.training.cls import train
    from bamboo.training.config import load_config

    console.print(json.dumps(train(load_config(config, overrides or []))), highlight=False, markup=False)


@app.command()
def probe(
    datasets: Annotated[
        str, typer.Option(help="Comma-separated: cifar10, digits, mnist.")
    ] = "cifar10,digits,mnist",
    n_train: Annotated[int, typer.Option(min=20, help="Training images per dataset.")] = 2000,
    n_test: Annotated[int, typer.Option(min=10, help="Test images per dataset.")] = 1000,
    out: Annotated[Path, typer.Option(help="Where to save the JSON results.")] = Path("results/probe.json"),
) -> None:
    """Linear probe of EfficientNet-Lite0 (ImageNet-1K weights) features on downstream sets."""
    from bamboo.sdk.models import efficientnet_lite0
    from bamboo.training.probe import probe as run_probe

    model = efficientnet_lite0()
    results = [
        run_probe(model, d.strip(), n_train=n_train, n_test=n_test) for d in datasets.split(",") if d.strip()
    ]
    table = Table("model", *(r.dataset for r in results), title="linear probe top-1 (%)")
    table.add_row("EfficientNet-Lite0 (IN-1K)", *(f"{100 * r.test_accuracy:.1f}" for r in results))
    (console if console.is_terminal else Console(width=110)).print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([dataclasses.asdict(r) for r in results], indent=2))
    console.print(f"saved {out}", highlight=False)
