"""Classification training on CPU with a real timm model and real images (scikit-learn digits as
PNG files): config, schedule, exact resume, DDP with 2 gloo processes, meta files; the linear probe
with the real EfficientNet-Lite0 weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from bamboo.errors import ConfigurationError
from bamboo.loaders.base import MalformedFile
from bamboo.training.cls import lr_at, train
from bamboo.training.config import TrainConfig, load_config

TINY = [
    "model=vit_tiny_patch16_224",
    'extra={"img_size": 32}',
    "img_size=32",
    "workers=0",
    "lr=0.02",
    "warmup_epochs=0.5",
    "epochs=2",
]


@pytest.fixture(scope="module")
def digits_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("digits")
    x, y = load_digits(return_X_y=True)
    for c in range(10):
        (root / f"digit{c}").mkdir()
        for j, i in enumerate(np.flatnonzero(y == c)[:16]):
            pixels = (x[i].reshape(8, 8) * 16).clip(0, 255).astype(np.uint8)
            Image.fromarray(pixels).resize((32, 32)).save(root / f"digit{c}" / f"{j}.png")
    return root


def _losses(out: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in (out / "steps.jsonl").read_text().splitlines()]


def test_config_file_and_overrides(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("model: resnet18\nepochs: 3\n")
    cfg = load_config(tmp_path / "c.yaml", ["epochs=5", "amp=false", "lr=0.1"])
    assert (cfg.model, cfg.epochs, cfg.amp, cfg.lr) == ("resnet18", 5, False, 0.1)
    assert TrainConfig().epochs == 30 and TrainConfig().warmup_epochs == 2  # the paper's recipe
    for bad, match in [
        (["nope=1"], "unknown setting"),
        (["epochs=x"], "cannot read"),
        (["amp=maybe"], "boolean"),
        (["epochs"], "key=value"),
    ]:
        with pytest.raises(ConfigurationError, match=match):
            load_config(None, bad)


def test_warmup_then_cosine() -> None:
    cfg = TrainConfig(epochs=10, warmup_epochs=2, lr=0.256, batch_size=256, warmup_lr=0.0, min_lr=0.0)
    lrs = [lr_at(cfg, s, 10, 1) for s in range(100)]
    assert lrs[0] == 0.0 and lrs[10] == pytest.approx(0.128) and lrs[20] == pytest.approx(0.256)
    assert all(a >= b for a, b in zip(lrs[20:], lrs[21:], strict=False)) and lrs[-1] < 0.001


def test_one_epoch_trains_and_resumes_exactly(digits_folder: Path, tmp_path: Path) -> None:
    base = [f"train={digits_folder}", "batch_size=16", *TINY]
    whole = train(load_config(None, [*base, f"out={tmp_path / 'whole'}"]))
    assert whole["steps"] == 20 and whole["steps_per_epoch"] == 10
    metrics = [json.loads(x) for x in (tmp_path / "whole" / "metrics.jsonl").read_text().splitlines()]
    assert [m["epoch"] for m in metrics] == [0, 1] and metrics[1]["train_loss"] < metrics[0]["train_loss"]
    assert load_config(tmp_path / "whole" / "config.yaml").batch_size == 16  # the resolved config is saved
    part = [*base, f"out={tmp_path / 'cut'}"]
    first = train(load_config(None, part), stop_after_epochs=1)
    assert first["steps"] == 10
    rest = train(load_config(None, part))
    assert rest["start_epoch"] == 1 and rest["steps"] == 20
    assert _losses(tmp_path / "cut") == _losses(tmp_path / "whole")  # the same loss curve, bit for bit


def test_ddp_two_gloo_processes_match_one(digits_folder: Path, tmp_path: Path) -> None:
    base = [f"train={digits_folder}", *TINY]
    train(load_config(None, [*base, "batch_size=16", f"out={tmp_path / 'one'}"]))
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    torchrun = Path(sys.executable).parent / "torchrun"
    run = subprocess.run(
        [
            str(torchrun),
            "--nproc_per_node",
            "2",
            "-m",
            "bamboo.training.cls",
            *base,
            "batch_size=8",
            f"out={tmp_path / 'two'}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert '"world_size": 2' in run.stdout
    np.testing.assert_allclose(_losses(tmp_path / "two"), _losses(tmp_path / "one"), rtol=1e-3, atol=1e-3)


def test_meta_file_data_and_bad_input(digits_folder: Path, tmp_path: Path) -> None:
    files = sorted(digits_folder.rglob("*.png"))
    meta = tmp_path / "train.txt"
    meta.write_text("".join(f"{f} {int(f.parent.name[-1])}\n" for f in files))
    out = train(
        load_config(None, [f"train={meta}", "batch_size=32", *TINY, "epochs=1", f"out={tmp_path / 'm'}"])
    )
    assert out["steps"] == 5
    (tmp_path / "bad.txt").write_text(f"{files[0]}\n")
    with pytest.raises(MalformedFile, match="bad.txt:1"):
        train(load_config(None, [f"train={tmp_path / 'bad.txt'}", *TINY, f"out={tmp_path / 'b'}"]))
    with pytest.raises(ConfigurationError, match="does not exist"):
        train(load_config(None, [f"train={tmp_path / 'missing'}", *TINY, f"out={tmp_path / 'b'}"]))


def test_linear_probe_on_real_features() -> None:
    from bamboo.sdk.models import efficientnet_lite0
    from bamboo.training.probe import probe

    result = probe(efficientnet_lite0(), "digits", n_train=200, n_test=100)
    assert (
        result.train == 200
        and result.test == 100
        and set(result.val_accuracy) == {"0.0001", "0.001", "0.01", "0.1", "1", "10"}
    )
    assert result.test_accuracy > 0.8  # ImageNet features separate digits well (chance: 0.1)
