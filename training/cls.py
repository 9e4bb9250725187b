"""Classification pre-training with timm: AdamW, linear warm-up then cosine decay, AMP (bf16 on
GPU), channels-last, DDP under ``torchrun`` (gloo on CPU, NCCL on GPU), a checkpoint every epoch
(``last.pt``, written atomically) and exact resume, a metrics line per epoch (``metrics.jsonl``),
every step's loss (``steps.jsonl``) and the resolved config (``config.yaml``).

Exactness: the sampler's order depends on (seed, epoch) only, augmentation is seeded per (seed,
epoch, image) and the global generator per (seed, step), so a resumed run repeats the steps of an
uninterrupted one, and N processes with batch B/N each take the same global batches as one process
with batch B (for models without batch statistics; BatchNorm sees only its process's share).

Run: ``bamboo train cls --config cfg.yaml key=value ...`` or, on N GPUs/CPUs,
``torchrun --nproc_per_node N -m bamboo.training.cls --config cfg.yaml key=value ...``.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

from bamboo.atomic import atomic_path, write_text_atomic
from bamboo.errors import ConfigurationError
from bamboo.training.config import TrainConfig, load_config
from bamboo.training.data import ImageList, read_entries
from bamboo.training.hierarchy import SemanticSoftmaxLoss, semantic_tree

__all__ = ["image_transforms", "lr_at", "main", "train"]


def lr_at(cfg: TrainConfig, step: int, steps_per_epoch: int, world_size: int) -> float:
    """Linear warm-up from ``warmup_lr`` over ``warmup_epochs``, then cosine decay to ``min_lr``.

    Args:
        cfg: The recipe (``lr`` scaled by the global batch, warm-up, ``epochs``).
        step: Global step, from 0.
        steps_per_epoch: Optimiser steps per epoch.
        world_size: Number of training processes.

    Returns:
        The learning rate of ``step``.

    >>> cfg = TrainConfig(epochs=10, warmup_epochs=1, batch_size=256)
    >>> lr_at(cfg, 0, 100, 1) == cfg.warmup_lr, lr_at(cfg, 100, 100, 1) == cfg.lr
    (True, True)
    """
    peak = cfg.scaled_lr(world_size)
    warm = int(cfg.warmup_epochs * steps_per_epoch)
    total = max(cfg.epochs * steps_per_epoch, 1)
    if step < warm:
        return cfg.warmup_lr + (peak - cfg.warmup_lr) * step / warm
    progress = (step - warm) / max(total - warm, 1)
    return cfg.min_lr + 0.5 * (peak - cfg.min_lr) * (1 + math.cos(math.pi * min(progress, 1.0)))


def image_transforms(cfg: TrainConfig, training: bool) -> Any:
    """timm's train or eval transform at ``cfg.img_size`` (bicubic), as :func:`train` uses it."""
    from timm.data import create_transform

    return create_transform(cfg.img_size, is_training=training, interpolation="bicubic")


def _write_json_lines(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(row) + "\n" for row in rows))
        fh.flush()
        os.fsync(fh.fileno())


def _keep_before(path: Path, key: str, limit: int) -> None:
    """Drop the lines of a JSONL log at or after ``limit`` (an interrupted epoch's steps)."""
    if path.exists():
        rows = [line for line in path.read_text().splitlines() if line and json.loads(line)[key] < limit]
        write_text_atomic(path, "".join(r + "\n" for r in rows))


def _evaluate(model: torch.nn.Module, loader: DataLoader[Any], device: torch.device) -> float:
    model.eval()
    right = seen = 0
    with torch.inference_mode():
        for x, y in loader:
            right += int((model(x.to(device)).argmax(1).cpu() == y).sum())
            seen += len(y)
    model.train()
    return right / max(seen, 1)


def _taxonomy(cfg: TrainConfig) -> Any:
    from bamboo.graph.taxonomy.hierarchy import Taxonomy

    try:
        return Taxonomy.load(cfg.snapshot)
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigurationError(f"cannot read snapshot {cfg.snapshot}: {exc}") from None


def _criterion(cfg: TrainConfig, classes: list[str], taxonomy: Any) -> torch.nn.Module:
    if cfg.loss == "ce":
        return torch.nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    unknown = [c for c in classes if c not in taxonomy]
    if unknown:
        raise ConfigurationError(
            f"loss=semantic: {len(unknown)} class name(s) are not concept ids of {cfg.snapshot} "
            f"(first: {', '.join(unknown[:3])}); name class folders by concept id"
        )
    return SemanticSoftmaxLoss(semantic_tree(classes, taxonomy.ancestors), cfg.label_smoothing)


def _write_classes(path: Path, classes: list[str], taxonomy: Any) -> None:
    """``classes.json``: the label space, index -> class name (a concept id where the data name one),
    with the concept's name when a snapshot is given."""
    rows = [
        {"index": i, "class": c, "name": taxonomy.name(c) if taxonomy is not None and c in taxonomy else None}
        for i, c in enumerate(classes)
    ]
    write_text_atomic(path, json.dumps(rows, indent=1))


@dataclass
class _Process:
    """This process's place in the run: one of ``world`` under ``torchrun``, else the only one."""

    world: int
    rank: int
    cuda: bool
    device: torch.device

    @classmethod
    def join(cls) -> _Process:
        """Read the place from ``torchrun``'s environment and join its process group."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        cuda = torch.cuda.is_available()
        device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}" if cuda else "cpu")
        if world > 1 and not dist.is_initialized():
            dist.init_process_group("nccl" if cuda else "gloo")
        return cls(world, int(os.environ.get("RANK", "0")), cuda, device)


@dataclass
class _Trainer:
    """What one training step needs."""

    cfg: TrainConfig
    proc: _Process
    model: torch.nn.Module
    net: torch.nn.Module  # the model, wrapped for DDP when there are several processes
    opt: torch.optim.Optimizer
    criterion: torch.nn.Module
    loader: DataLoader[Any]
    autocast: Any

    def epoch(self, epoch: int, step: int, advance: Any) -> tuple[list[dict[str, Any]], float]:
        """Train one epoch from global step ``step``; returns each step's row and the summed loss."""
        cfg, proc = self.cfg, self.proc
        steps_per_epoch = len(self.loader)
        total_loss = 0.0
        step_rows: list[dict[str, Any]] = []
        for x, y in self.loader:
            lr = lr_at(cfg, step, steps_per_epoch, proc.world)
            for group in self.opt.param_groups:
                group["lr"] = lr
            torch.manual_seed(cfg.seed * 1_000_003 + step)  # dropout / drop-path draws
            x = x.to(proc.device, non_blocking=True)
            if cfg.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with self.autocast:
                loss = self.criterion(self.net(x), y.to(proc.device))
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
            self.opt.step()
            shown = loss.detach().float()
            if proc.world > 1:
                dist.all_reduce(shown)
                shown /= proc.world
            total_loss += float(shown)
            step_rows.append({"epoch": epoch, "step": step, "loss": float(shown), "lr": lr})
            step += 1
            advance()
        return step_rows, total_loss


def train(cfg: TrainConfig, *, stop_after_epochs: int | None = None) -> dict[str, Any]:
    """Train (or resume from ``out/last.pt``) per ``cfg``; under ``torchrun`` one process of a DDP run.

    Args:
        cfg: The run's settings.
        stop_after_epochs: End the run early (as a crash would) after that many epochs in this call.

    Returns:
        A summary of the run (rank 0's view).

    Raises:
        ConfigurationError: On bad data or settings, before anything is written.
    """
    proc = _Process.join()
    entries, classes = read_entries(cfg.train)  # bad data fails before anything is written
    taxonomy = _taxonomy(cfg) if cfg.snapshot else None  # read once: loss and classes.json
    criterion = _criterion(cfg, classes, taxonomy)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    if proc.rank == 0:
        cfg.save(out / "config.yaml")
        _write_classes(out / "classes.json", classes, taxonomy)
    data = ImageList(entries, image_transforms(cfg, True), cfg.seed)
    sampler: DistributedSampler[tuple[torch.Tensor, int]] = DistributedSampler(
        data, num_replicas=proc.world, rank=proc.rank, shuffle=True, seed=cfg.seed, drop_last=True
    )
    loader = DataLoader(
        data, batch_size=cfg.batch_size, sampler=sampler, num_workers=cfg.workers, drop_last=True
    )
    steps_per_epoch = len(loader)
    if steps_per_epoch == 0:
        raise ValueError(f"{len(data)} images are fewer than one batch of {cfg.batch_size} x {proc.world}")
    trainer, start_epoch, step = _trainer(cfg, proc, cfg.num_classes or len(classes), criterion, loader, out)
    val_loader = None
    if cfg.val:
        val_entries, _ = read_entries(cfg.val)
        val_loader = DataLoader(
            ImageList(val_entries, image_transforms(cfg, False)), batch_size=cfg.batch_size
        )

    from rich.progress import Progress

    summary: dict[str, Any] = {
        "start_epoch": start_epoch,
        "world_size": proc.world,
        "steps_per_epoch": steps_per_epoch,
    }
    ran = 0
    with Progress(disable=proc.rank != 0 or not sys.stderr.isatty()) as bar:
        task = bar.add_task("train", total=(cfg.epochs - start_epoch) * steps_per_epoch)
        for epoch in range(start_epoch, cfg.epochs):
            if stop_after_epochs is not None and ran >= stop_after_epochs:
                break
            sampler.set_epoch(epoch)
            data.set_epoch(epoch)
            started = time.perf_counter()
            step_rows, total_loss = trainer.epoch(epoch, step, lambda: bar.advance(task))
            step += len(step_rows)
            row = _epoch_row(cfg, proc, epoch, step, steps_per_epoch, total_loss, started)
            if val_loader is not None and proc.rank == 0:
                row["val_top1"] = _evaluate(trainer.model, val_loader, proc.device)
            if proc.rank == 0:  # steps are written once per epoch (a crash redoes the epoch)
                _save_epoch(trainer, out, step_rows, row, epoch, step, classes)
            if proc.world > 1:
                dist.barrier()
            summary["last_epoch"] = row
            ran += 1
    summary["steps"] = step
    return summary


def _trainer(
    cfg: TrainConfig,
    proc: _Process,
    num_classes: int,
    criterion: torch.nn.Module,
    loader: DataLoader[Any],
    out: Path,
) -> tuple[_Trainer, int, int]:
    """The model (seeded by ``cfg.seed``) and its optimizer on this process's device, resumed from
    ``out/last.pt`` when ``cfg.resume`` and wrapped for DDP; also the epoch and global step to start at."""
    import timm

    torch.manual_seed(cfg.seed)
    model = timm.create_model(cfg.model, pretrained=cfg.pretrained, num_classes=num_classes, **cfg.extra)
    model.to(proc.device)
    criterion.to(proc.device)
    if cfg.channels_last:
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.scaled_lr(proc.world), weight_decay=cfg.weight_decay)
    start_epoch, step = _resume(model, opt, out, proc.rank) if cfg.resume else (0, 0)
    net: torch.nn.Module = DistributedDataParallel(model) if proc.world > 1 else model
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if (proc.cuda and cfg.amp) else nullcontext()
    return _Trainer(cfg, proc, model, net, opt, criterion, loader, autocast), start_epoch, step


def _resume(model: torch.nn.Module, opt: torch.optim.Optimizer, out: Path, rank: int) -> tuple[int, int]:
    """Load ``out/last.pt`` when there is one (rank 0 drops the log lines after it); returns the
    epoch and global step to go on from."""
    last = out / "last.pt"
    if not last.exists():
        return 0, 0
    state = torch.load(last, map_location="cpu", weights_only=False)
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    start_epoch, step = int(state["epoch"]), int(state["step"])
    if rank == 0:
        _keep_before(out / "steps.jsonl", "step", step)
        _keep_before(out / "metrics.jsonl", "epoch", start_epoch)
    return start_epoch, step


def _epoch_row(
    cfg: TrainConfig,
    proc: _Process,
    epoch: int,
    step: int,
    steps_per_epoch: int,
    total_loss: float,
    started: float,
) -> dict[str, Any]:
    """The epoch's line of ``metrics.jsonl`` (without the validation score)."""
    return {
        "epoch": epoch,
        "train_loss": total_loss / steps_per_epoch,
        "lr": lr_at(cfg, step, steps_per_epoch, proc.world),
        "seconds": round(time.perf_counter() - started, 2),
        "images_per_s": round(
            steps_per_epoch * cfg.batch_size * proc.world / (time.perf_counter() - started), 1
        ),
    }


def _save_epoch(
    trainer: _Trainer,
    out: Path,
    step_rows: list[dict[str, Any]],
    row: dict[str, Any],
    epoch: int,
    step: int,
    classes: list[str],
) -> None:
    """Append the epoch's steps and metrics, then write ``last.pt`` atomically."""
    _write_json_lines(out / "steps.jsonl", step_rows)
    _write_json_lines(out / "metrics.jsonl", [row])
    with atomic_path(out / "last.pt") as tmp:
        torch.save(
            {
                "model": trainer.model.state_dict(),
                "optimizer": trainer.opt.state_dict(),
                "epoch": epoch + 1,
                "step": step,
                "classes": classes,
            },
            tmp,
        )


def main(argv: list[str] | None = None) -> None:
    """The ``torchrun -m bamboo.training.cls`` entry point: train, and print the summary on rank 0.

    Args:
        argv: Command-line arguments (``--config FILE`` and ``key=value`` overrides); None for
            ``sys.argv``.
    """
    import argparse

    parser = argparse.ArgumentParser(description="Classification pre-training (timm).")
    parser.add_argument("--config", help="YAML file of TrainConfig settings")
    parser.add_argument("overrides", nargs="*", help="key=value settings (after the file)")
    args = parser.parse_args(argv)
    summary = train(load_config(args.config, args.overrides))
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps(summary))
    if dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
