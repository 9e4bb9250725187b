"""The study on an open-set protocol (#34) at a tiny scale on the shared CIFAR-10 photos, with the real
EfficientNet-Lite0 weights and real WordNet: the pool's protocol invariants, rectification that only
ever drops, every arm on the same pool, the table, figure and verdict, and the fine-tuned learner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from bamboo.errors import ConfigurationError
from bamboo.training.study.finetune import FineTuneLearner, positions_last
from bamboo.training.study.openset import (
    OpenSetConfig,
    build_openset_candidates,
    draw_openset_pool,
    openset_config_from,
    run_openset,
)
from bamboo.training.study.openset_report import ci95, verdict
from tests.conftest import SHARED_DATA

CIFAR_DIR = SHARED_DATA / "images"
TINY = [
    "per_class=20",
    "ratios=0.6",
    "seeds=0,1",
    "pool=100",
    "rounds=1",
    "budget=20",
    "cold_start=3",
    "test=60",
    "pca=16",
    "clusters=8",
    "samplers=random,margin",
    "finetune_epochs=2",
]
needs_cifar = pytest.mark.shared_data("images/cifar10_train_subset_1000pc_from_jpeg.npz")


@needs_cifar
def test_pools_hold_the_mismatch_ratio_and_task_queries() -> None:
    cfg = OpenSetConfig(per_class=100, pool=300, test=100)
    cand, cifar_class = build_openset_candidates(cfg, CIFAR_DIR)
    task = {list(cand.classes).index(c) for c in cfg.known}
    assert set(cand.query.tolist()) <= task  # every image carries a task query
    assert (cand.label[cand.label >= 0] == cand.query[cand.label >= 0]).all()  # task images: their own
    assert set(cand.test_labels.tolist()) == task
    for ratio in (0.2, 0.4, 0.6, 0.8):
        picks = draw_openset_pool(cfg, cand, ratio, seed=1)
        assert len(picks) == len(set(picks.tolist())) == cfg.pool
        assert (cand.label[picks] < 0).mean() == round(cfg.pool * ratio) / cfg.pool
        non_task = set(cifar_class[picks][cand.label[picks] < 0].tolist())
        assert non_task and non_task.isdisjoint({0, 1, 2, 3, 4, 5})  # the first six are the task
        assert np.array_equal(picks, draw_openset_pool(cfg, cand, ratio, seed=1))
        assert not np.array_equal(picks, draw_openset_pool(cfg, cand, ratio, seed=2))


@needs_cifar
def test_every_arm_sees_the_same_pool_and_rectification_only_drops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bamboo.sdk.loop import read_pools

    monkeypatch.setenv("BAMBOO_CACHE_DIR", str(tmp_path / "cache"))
    cfg = openset_config_from([*TINY, "learners=frozen,finetune", f"out={tmp_path / 'out'}"])
    body = run_openset(cfg, data_dir=CIFAR_DIR)
    assert list((tmp_path / "cache" / "study").glob("openset-lite0-*.npz"))  # the cache, not the repo
    assert len(body["runs"]) == 2 * 2 * 4  # learners x seeds x arms
    for key, info in body["protocol"].items():
        assert info["mismatch_share"] == float(key.split("/")[0])
    pools: dict[tuple[float, int], set[frozenset[str]]] = {}
    for run in body["runs"]:
        folder = (
            tmp_path
            / "out"
            / "runs"
            / run["learner"]
            / f"r{round(run['ratio'] * 100)}"
            / f"seed{run['seed']}"
            / f"{run['sampler']}-{run['rectifier']}"
        )
        rows = list(read_pools(folder))
        pools.setdefault((run["ratio"], run["seed"]), set()).add(frozenset(r[0] for r in rows))
        for r in run["rounds"][1:]:
            assert r["discarded_ood"] >= 0
            assert r["candidates"] + r["discarded_ood"] <= cfg.pool  # never more than the pool
            if run["rectifier"] == "none":
                assert r["discarded_ood"] == 0
        assert 0 <= run["rounds"][-1]["accuracy"] <= 1
    assert all(len(keys) == 1 for keys in pools.values())  # one pool per ratio and seed, every arm
    table = (tmp_path / "out" / "table.md").read_text()
    assert "| margin + OOD rect. (imagenet) |" in table and "Verdict: " in table
    assert "finetune learner" in table and "frozen learner" in table
    assert (tmp_path / "out" / "openset.png").stat().st_size > 5_000
    assert json.loads((tmp_path / "out" / "results.json").read_text())["runs"] == body["runs"]
    # the rectified arms sampled only images the rectifier keeps
    sampled = [r for run in body["runs"] if run["rectifier"] != "none" for r in run["rounds"][1:]]
    assert all(r["annotated"] <= r["candidates"] for r in sampled)


def test_verdict_is_computed_from_the_numbers() -> None:
    def runs(gain: float) -> list[dict[str, object]]:
        out = []
        for seed, noise in enumerate((0.0, 0.01, -0.01)):
            for sampler in ("random", "margin"):
                for rect, acc in (("none", 0.5), ("imagenet", 0.5 + gain)):
                    if sampler == "random" and rect == "none":
                        acc = 0.45
                    out.append(
                        {
                            "learner": "frozen",
                            "ratio": 0.4,
                            "seed": seed,
                            "sampler": sampler,
                            "rectifier": rect,
                            "rounds": [{"accuracy": acc + noise, "valid_acquired": 1, "accepted_total": 1}],
                        }
                    )
        return out

    assert verdict({"runs": runs(0.1)}).startswith("The paper's claim holds here")
    assert verdict({"runs": runs(-0.1)}).startswith("The paper's claim does not hold here")
    mean, half = ci95([1.0, 2.0, 3.0])
    assert mean == 2.0 and 2.4 < half < 2.5


def test_bad_openset_settings_are_one_line() -> None:
    with pytest.raises(ConfigurationError) as info:
        OpenSetConfig(ratios=(0.0, 1.2), known=("cat",), learners=("deep",), pool=0)
    message = str(info.value)
    assert "\n" not in message
    assert all(p in message for p in ("ratios must be in (0, 1)", "at least 2", "unknown learner", "pool"))


def _conv_forward(head: torch.nn.ModuleDict, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The head as Lite0 runs it (1 x 1 convolution, batch norm, ReLU6, mean over the map), on ``x`` laid
    out as :func:`positions_last` makes it."""
    side = int(round(x.shape[1] ** 0.5))
    maps = x.transpose(1, 2).reshape(len(x), -1, side, side)
    pooled = torch.nn.functional.relu6(head["bn"](head["conv"](maps))).mean((2, 3))
    return head["fc"](pooled), pooled


def test_finetune_matmul_head_trains_and_predicts_as_the_convolution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(0)
    keys = [f"k{i}" for i in range(48)]
    maps = {k: rng.normal(0, 1, (320, 3, 3)).astype(np.float16) for k in keys}
    test_maps = rng.normal(0, 1, (20, 320, 3, 3)).astype(np.float16)
    labels = rng.integers(0, 3, 30).tolist()

    def run(folder: Path) -> tuple[FineTuneLearner, str]:
        folder.mkdir()
        learner = FineTuneLearner(maps, test_maps, rng.integers(0, 3, 20), 3, feats={}, epochs=2, seed=1)
        return learner, learner.train(1, keys[:30], labels, folder)

    fast, fast_ckpt = run(tmp_path / "fast")
    with monkeypatch.context() as m:
        m.setattr(FineTuneLearner, "_forward", staticmethod(_conv_forward))
        slow, slow_ckpt = run(tmp_path / "conv")
        slow_probs, slow_emb = slow.predict(slow_ckpt, keys)
    a, b = (torch.load(c, weights_only=True) for c in (fast_ckpt, slow_ckpt))
    assert a.keys() == b.keys() and a["conv.weight"].shape == (1280, 320, 1, 1)  # Lite0's layout
    assert all(torch.allclose(a[k].float(), b[k].float(), atol=1e-5) for k in a)
    probs, emb = fast.predict(fast_ckpt, keys)
    assert np.allclose(probs, slow_probs, atol=1e-5) and np.allclose(emb, slow_emb, atol=1e-4)
    fresh = FineTuneLearner(maps, test_maps, fast.test_y, 3, feats={})  # a resumed run: from disk
    sub = [keys[5], keys[40], keys[0]]
    assert np.array_equal(fresh.predict(fast_ckpt, sub)[0], probs[[5, 40, 0]])
    assert fresh.evaluate(fast_ckpt) == fast.evaluate(fast_ckpt)
    assert positions_last(test_maps).shape == (20, 9, 320)
