"""Classification training on CPU with a real timm model and real images (scikit-learn digits as
PNG files): config, schedule, exact resume, DDP with 2 gloo processes, meta files; the linear probe
with the real EfficientNet-Lite0 weights."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from PIL import Image
from sklearn.datasets import load_digits

from bamboo.errors import ConfigurationError
from bamboo.graph.store.graph_store import GraphStore
from bamboo.graph.taxonomy.hierarchy import Taxonomy
from bamboo.graph.taxonomy.snapshot import write_snapshot
from bamboo.loaders.base import MalformedFile
from bamboo.sdk.loop import _SCHEMA as SCHEMA  # the loop's own tables, filled by hand here
from bamboo.training.cls import lr_at, train
from bamboo.training.config import TrainConfig, load_config
from bamboo.training.data import read_entries
from bamboo.training.hierarchy import SemanticSoftmaxLoss, semantic_tree

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


def test_the_sample_config_is_the_recipe() -> None:
    """``examples/train_cls.yaml`` (the README's --config) loads, and holds the recipe's defaults."""
    sample = Path(__file__).resolve().parents[1] / "examples" / "train_cls.yaml"
    cfg = load_config(sample, ["train=/data/train"])
    assert cfg.train == "/data/train"
    assert dataclasses.replace(cfg, train="") == TrainConfig()


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


ANIMAL, VEHICLE = "wn:n00015388", "wn:n04524313"
DOG, CAT, CAR, HUNTING_DOG = "wn:n02084071", "wn:n02121620", "wn:n02958343", "wn:n02087122"


@pytest.fixture(scope="module")
def wordnet_snapshot(store: GraphStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("snap") / "wordnet.npz"
    write_snapshot(store, path)
    return path


def test_semantic_softmax_levels_follow_wordnet(wordnet_snapshot: Path) -> None:
    taxonomy = Taxonomy.load(wordnet_snapshot)
    classes = [ANIMAL, CAR, DOG, CAT, HUNTING_DOG, VEHICLE]
    tree = semantic_tree(classes, taxonomy.ancestors)
    assert tree.levels == ((0, 5), (1, 2, 3), (4,))  # animal, vehicle | car, dog, cat | hunting dog
    assert tree.targets[0] == (0, 1, 0, 0, 0, 1)  # every class's root: animal or vehicle
    assert tree.targets[1] == (-1, 0, 1, 2, 1, -1)  # hunting dog -> dog
    torch.manual_seed(0)
    logits, y = torch.randn(3, 6), torch.tensor([4, 1, 3])  # hunting dog, car, cat
    expected = torch.stack(
        [
            F.cross_entropy(logits[:, [0, 5]], torch.tensor([0, 1, 0])),
            F.cross_entropy(logits[:, [1, 2, 3]], torch.tensor([1, 0, 2])),
            F.cross_entropy(logits[:2, [4]], torch.tensor([0, -1]), ignore_index=-1),
        ]
    ).mean()
    assert torch.allclose(SemanticSoftmaxLoss(tree)(logits, y), expected)
    with pytest.raises(ValueError, match="repeat"):
        semantic_tree([DOG, DOG], taxonomy.ancestors)


def test_semantic_loss_training_and_label_space_names(
    digits_folder: Path, wordnet_snapshot: Path, tmp_path: Path
) -> None:
    """Class folders named by concept id: classes.json names them from the snapshot; loss=semantic
    trains; names that are not concept ids are refused before anything is written."""
    data = tmp_path / "data"
    for digit, concept in enumerate([ANIMAL, CAR, DOG, CAT, HUNTING_DOG, VEHICLE]):
        (data / concept).mkdir(parents=True)
        for f in sorted((digits_folder / f"digit{digit}").iterdir())[:8]:
            (data / concept / f.name).symlink_to(f)
    out = tmp_path / "run"
    summary = train(
        load_config(
            None,
            [
                *TINY,
                f"train={data}",
                f"out={out}",
                "batch_size=8",
                "loss=semantic",
                f"snapshot={wordnet_snapshot}",
                "epochs=1",
            ],
        )
    )
    assert summary["steps"] == 6 and np.isfinite(_losses(out)).all()
    names = [row["name"] for row in json.loads((out / "classes.json").read_text())]
    assert names == ["animal", "dog", "hunting dog", "cat", "car", "vehicle"]  # folders sorted by id
    with pytest.raises(ConfigurationError, match="not concept ids"):
        train(
            load_config(
                None,
                [
                    *TINY,
                    f"train={digits_folder}",
                    f"out={tmp_path / 'bad'}",
                    "loss=semantic",
                    f"snapshot={wordnet_snapshot}",
                ],
            )
        )
    assert not (tmp_path / "bad").exists()
    with pytest.raises(ConfigurationError, match="needs snapshot"):
        load_config(None, ["loss=semantic"])


def test_loop_state_is_training_data(digits_folder: Path, tmp_path: Path) -> None:
    """The active-learning loop's labelled images, classes = the labels that have data, named by
    their query concept."""
    state = tmp_path / "al"
    state.mkdir()
    files = sorted(digits_folder.rglob("*.png"))
    with closing(sqlite3.connect(state / "pools.sqlite")) as db, db:
        db.executescript(SCHEMA)
        db.executemany(
            "INSERT INTO images (key, query, state, label, round) VALUES (?, ?, ?, ?, 0)",
            [
                (
                    str(f),
                    f"wn:q{f.parent.name}",
                    "labeled" if int(f.stem) < 12 else "discarded",
                    int(f.parent.name[-1]) * 2 if int(f.stem) < 12 else None,
                )
                for f in files
            ],
        )
    entries, classes = read_entries(state)
    assert classes == [f"wn:qdigit{c}" for c in range(10)] and len(entries) == 120
    assert {label for _, label in entries} == set(range(10))  # loop labels 0, 2, ..., 18 -> 0..9
    assert read_entries(state / "pools.sqlite") == (entries, classes)


def test_cifar10_is_read_from_an_explicit_data_dir(tmp_path: Path) -> None:
    from bamboo.training.probe import load_downstream

    with pytest.raises(ConfigurationError, match="cifar10 needs data_dir"):
        load_downstream("cifar10", 10, 10)
    with pytest.raises(ConfigurationError, match="CIFAR-10 not found"):
        load_downstream("cifar10", 10, 10, data_dir=tmp_path)
