"""``bamboo study al`` / ``openset``: the paper's active-annotation study (Fig. 6a) on real images, offline,
and the same on an open-set protocol."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markdown import Markdown

from bamboo.cli._app import app
from bamboo.cli.train import SHARED_IMAGES

__all__ = ["console", "study_al", "study_app", "study_openset"]

console = Console(soft_wrap=True, stderr=False)
study_app = typer.Typer(rich_markup_mode=None, help="Reproducible studies.", no_args_is_help=True)
app.add_typer(study_app, name="study")


@study_app.command("al")
def study_al(
    overrides: Annotated[
        list[str] | None,
        typer.Argument(
            help="key=value settings of bamboo.training.study.StudyConfig, e.g. seeds=0,1,2 "
            "budget=100 rounds=5 pool=6000 ood_share=0.4 samplers=random,margin out=results/study-al."
        ),
    ] = None,
    data_dir: Annotated[Path, typer.Option(help="Folder of the CIFAR-10 .npz files.")] = SHARED_IMAGES,
) -> None:
    """Random, entropy, margin, CoreSet and ClusterMargin, each with and without OOD rectification,
    on a pool of real images with 40 % out-of-distribution images; table + Fig. 6-style PNG."""
    from bamboo.training.study import config_from, run_study

    cfg = config_from(overrides or [])
    _run(run_study, cfg, data_dir, "fig6.png")


@study_app.command("openset")
def study_openset(
    overrides: Annotated[
        list[str] | None,
        typer.Argument(
            help="key=value settings of bamboo.training.study.openset.OpenSetConfig, e.g. "
            "ratios=0.2,0.4,0.6,0.8 seeds=0,1,2 learners=frozen,finetune samplers=random,margin "
            "out=results/study-openset."
        ),
    ] = None,
    data_dir: Annotated[Path, typer.Option(help="Folder of the CIFAR-10 .npz files.")] = SHARED_IMAGES,
) -> None:
    """The study on an open-set protocol: a crawl whose pool carries task queries and a mismatch ratio
    of non-task images; every sampler with and without per-query ImageNet rectification; table with
    95 % intervals, figure (accuracy vs mismatch ratio) and a verdict computed from the numbers."""
    from bamboo.training.study.openset import openset_config_from, run_openset

    cfg = openset_config_from(overrides or [])
    _run(run_openset, cfg, data_dir, "openset.png")


def _run(run: Callable[..., dict[str, Any]], cfg: Any, data_dir: Path, figure: str) -> None:
    """Run a study with timed progress on stderr, then print its table and what it saved."""
    started = time.perf_counter()
    err = Console(stderr=True)
    body = run(
        cfg, progress=lambda m: err.print(f"[{time.perf_counter() - started:6.0f} s] {m}"), data_dir=data_dir
    )
    table = (Path(cfg.out) / "table.md").read_text()
    if console.is_terminal:
        console.print(Markdown(table))
    else:
        print(table)
    print(f"{body['seconds']:.0f} s; saved {cfg.out}/results.json, table.md, {figure}")
