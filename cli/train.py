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
from bamboo.errors import ConfigurationError

__all__ = ["console", "probe", "train_app", "train_cls", "train_det_cmd"]

console = Console(soft_wrap=True)
#: Where CIFAR-10 (``cifar10_*.npz``) is looked for unless ``--data-dir`` says otherwise.
SHARED_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "data" / "images"
train_app = typer.Typer(rich_markup_mode=None, help="Train models on the label system.", no_args_is_help=True)
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


@train_app.command("det")
def train_det_cmd(
    ctx: typer.Context,
    pool: Annotated[Path, typer.Argument(help="Labelled detection pool: JSON lines of image + boxes.")],
    out: Annotated[Path, typer.Option(help="Work folder: COCO export, config.py, checkpoints.")] = Path(
        "runs/det"
    ),
    images: Annotated[Path | None, typer.Option(help="Folder relative image paths start from.")] = None,
    all_concepts: Annotated[
        bool,
        typer.Option(
            "--all-concepts",
            help="Use every concept with boxes (default: only concepts tagged common in the graph).",
        ),
    ] = False,
    min_boxes: Annotated[int, typer.Option(min=1, help="Boxes a concept needs to become a class.")] = 1,
    batch_size: Annotated[int, typer.Option(min=1, help="Images per GPU/process.")] = 2,
    epochs: Annotated[int, typer.Option(min=1)] = 26,
    max_iters: Annotated[int | None, typer.Option(min=1, help="Iteration-based smoke run instead.")] = None,
    img_scale: Annotated[str, typer.Option(help="Resize target W,H.")] = "1333,800",
    pretrained_backbone: Annotated[bool, typer.Option(help="ImageNet ResNet-50 from torchvision.")] = True,
    dry_run: Annotated[bool, typer.Option(help="Write the export and config.py only.")] = False,
) -> None:
    """Faster R-CNN R50-FPN (mmdet 3.x) on the common-concept label space, the paper's schedule."""
    from bamboo.training.det import (
        det_label_space,
        faster_rcnn_config,
        read_det_pool,
        require_mmdet,
        to_det_images,
        train_det,
        write_coco,
    )

    # before anything is written: a dry run writes the export and the config (mmengine), no ops
    require_mmdet(ops=not dry_run)
    root = images or pool.parent
    try:
        w, h = (int(v) for v in img_scale.split(","))
    except ValueError:
        raise typer.BadParameter(f"{img_scale!r} is not W,H", param_hint="--img-scale") from None
    pooled = read_det_pool(pool, root)
    concepts = sorted({b.concept for im in pooled for b in im.boxes})
    if all_concepts:
        names: dict[str, str] = {}
        keep = None
    else:
        from bamboo.cli.graph import open_store

        with open_store(ctx) as store:
            known = store.concepts(concepts)
        names = {c: k.name for c, k in known.items()}
        keep = lambda c: c in known and known[c].common is True  # noqa: E731
    classes = det_label_space(pooled, names=names, keep=keep, min_boxes=min_boxes)
    if not classes:
        raise ConfigurationError(
            f"none of the pool's {len(concepts)} concepts is in the label space"
            + ("" if all_concepts else " (none is tagged common; tag them or pass --all-concepts)")
        )
    ann = write_coco(out / "train.json", to_det_images(pooled, classes), classes)
    import torch

    cfg = faster_rcnn_config(
        train_json=str(ann.resolve()),
        image_root=str(root.resolve()) + "/",
        classes=[name for _, name in classes],
        work_dir=str(out.resolve()),
        batch_size=batch_size,
        epochs=epochs,
        max_iters=max_iters,
        img_scale=(w, h),
        pretrained_backbone=pretrained_backbone,
        dist_backend="nccl" if torch.cuda.is_available() else "gloo",
    )
    result = train_det(cfg, run=not dry_run)
    result["classes"] = len(classes)
    console.print(json.dumps(result), highlight=False, markup=False)


@app.command()
def probe(
    datasets: Annotated[
        str, typer.Option(help="Comma-separated: cifar10, digits, mnist.")
    ] = "cifar10,digits,mnist",
    n_train: Annotated[int, typer.Option(min=20, help="Training images per dataset.")] = 2000,
    n_test: Annotated[int, typer.Option(min=10, help="Test images per dataset.")] = 1000,
    out: Annotated[Path, typer.Option(help="Where to save the JSON results.")] = Path("results/probe.json"),
    data_dir: Annotated[Path, typer.Option(help="Folder of the CIFAR-10 .npz files.")] = SHARED_IMAGES,
) -> None:
    """Linear probe of EfficientNet-Lite0 (ImageNet-1K weights) features on downstream sets."""
    from bamboo.sdk.models import efficientnet_lite0
    from bamboo.training.probe import probe as run_probe

    model = efficientnet_lite0()
    results = [
        run_probe(model, d.strip(), n_train=n_train, n_test=n_test, data_dir=data_dir)
        for d in datasets.split(",")
        if d.strip()
    ]
    table = Table("model", *(r.dataset for r in results), title="linear probe top-1 (%)")
    table.add_row("EfficientNet-Lite0 (IN-1K)", *(f"{100 * r.test_accuracy:.1f}" for r in results))
    (console if console.is_terminal else Console(width=110)).print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([dataclasses.asdict(r) for r in results], indent=2))
    console.print(f"saved {out}", highlight=False)
