"""Overhead of our training loop against a bare timm forward/backward loop on the same model and data.

Both train the same timm model (``--model``, default resnet18 at 64 px) for the same steps on the
same images (scikit-learn digits written as PNG files, 16 per class), batch ``--batch``, one process,
CPU here. The bare loop: DataLoader over the same ``ImageList`` and transform, forward, cross
entropy, backward, AdamW step. Ours: :func:`bamboo.training.cls.train` (schedule, per-step seeding,
logging to JSONL, checkpoint at the epoch end). Prints images/s of both and the overhead ratio
(goal <= 5 %) over the epochs' step loops, and end to end (model creation, data listing and the
per-epoch checkpoints included), best of ``--repeats`` runs each, after one warm-up run.

Usage: ``python benchmarks/train_overhead.py [--model resnet18] [--epochs 2] [--repeats 3]``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from PIL import Image
from sklearn.datasets import load_digits

from bamboo.training.cls import image_transforms, train
from bamboo.training.config import load_config
from bamboo.training.data import ImageList, read_entries

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _options import options  # noqa: E402


def make_images(root: Path, per_class: int, size: int) -> None:
    x, y = load_digits(return_X_y=True)
    for c in range(10):
        (root / f"d{c}").mkdir(parents=True, exist_ok=True)
        for j, i in enumerate(np.flatnonzero(y == c)[:per_class]):
            pixels = (x[i].reshape(8, 8) * 16).clip(0, 255).astype(np.uint8)
            Image.fromarray(pixels).resize((size, size)).save(root / f"d{c}" / f"{j}.png")


def bare(cfg_overrides: list[str], epochs: int) -> float:
    import timm

    cfg = load_config(None, cfg_overrides)
    entries, classes = read_entries(cfg.train)
    data = ImageList(entries, image_transforms(cfg, True), cfg.seed)
    loader = torch.utils.data.DataLoader(
        data, batch_size=cfg.batch_size, shuffle=True, drop_last=True, num_workers=0
    )
    torch.manual_seed(0)
    model = timm.create_model(cfg.model, num_classes=len(classes))
    model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    started, images = time.perf_counter(), 0
    for _ in range(epochs):
        for x, y in loader:
            loss = F.cross_entropy(model(x.contiguous(memory_format=torch.channels_last)), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            images += len(y)
    return images / (time.perf_counter() - started)


def ours(cfg_overrides: list[str], epochs: int, out: Path) -> tuple[float, float]:
    """(images/s over the epochs' step loops, images/s end to end incl. setup and checkpoints)."""
    cfg = load_config(None, [*cfg_overrides, f"out={out}", f"epochs={epochs}", "resume=false"])
    started = time.perf_counter()
    summary = train(cfg)
    total = time.perf_counter() - started
    epochs_s = sum(json.loads(line)["seconds"] for line in (out / "metrics.jsonl").read_text().splitlines())
    images = summary["steps"] * cfg.batch_size
    return images / epochs_s, images / total


def main() -> None:
    args = options(__doc__, model="resnet18", size=64, batch=32, per_class=32, epochs=2, repeats=3)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_images(root / "data", args.per_class, args.size)
        overrides = [
            f"train={root / 'data'}",
            f"model={args.model}",
            f"img_size={args.size}",
            f"batch_size={args.batch}",
            "workers=0",
            "amp=false",
        ]
        bare(overrides, 1)  # warm-up
        ours(overrides, 1, root / "warm")
        b = max(bare(overrides, args.epochs) for _ in range(args.repeats))
        runs = [ours(overrides, args.epochs, root / f"run{i}") for i in range(args.repeats)]
        loop, whole = max(r[0] for r in runs), max(r[1] for r in runs)
    print(
        json.dumps({"model": args.model, "img_size": args.size, "batch": args.batch, "epochs": args.epochs})
    )
    print(
        f"bare timm loop: {b:.1f} images/s; ours, step loops: {loop:.1f} images/s "
        f"(overhead {100 * (b / loop - 1):.1f} %, goal <= 5 %); ours end to end with setup and a checkpoint "
        f"per epoch: {whole:.1f} images/s (overhead {100 * (b / whole - 1):.1f} %)"
    )


if __name__ == "__main__":
    main()
