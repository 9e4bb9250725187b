"""The active-annotation study end to end on real images (CIFAR-10 from the shared data folder when
present, else MNIST/digits), with the real EfficientNet-Lite0 weights and real WordNet, at a tiny
scale: every arm runs, the numbers are consistent with each other, and a re-run resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bamboo.errors import ConfigurationError
from bamboo.training.study import KINDS, config_from, run_study
from tests.conftest import ServerInfo, run_cli

TINY = [
    "pool=300",
    "seeds=0,1",
    "rounds=2",
    "budget=20",
    "cold_start=4",
    "test=200",
    "pca=16",
    "clusters=8",
    "samplers=random,margin,cluster-margin",
]


@pytest.mark.shared_data("images/cifar10_train_subset_1000pc_from_jpeg.npz")
def test_study_runs_every_arm_and_resumes(tmp_path: Path) -> None:
    cfg = config_from([*TINY, f"out={tmp_path}"])
    body = run_study(cfg)
    assert body["source"] == "cifar10" and body["rectifiers"] == ["imagenet", "learner"]
    assert body["pool_kinds"] == {
        "in distribution": 180,
        "noise": 40,
        "covariate shift": 40,
        "semantic shift": 40,
    }
    runs = body["runs"]
    assert len(runs) == 2 * 3 * 3  # seeds x samplers x (none, imagenet, learner)
    quality = body["rectifier_quality"]["kept_by_kind"]
    # the real model + WordNet keep in-distribution images far more often than any OOD kind
    assert all(quality["in distribution"] > 2 * quality[k] for k in KINDS[1:])
    for seed in (0, 1):
        first = {json.dumps(r["rounds"][0], sort_keys=True) for r in runs if r["seed"] == seed}
        assert len(first) == 1  # the cold start is the same for every arm of a seed
    for run in runs:
        rounds = run["rounds"]
        assert [r["round"] for r in rounds] == [0, 1, 2]
        assert rounds[0]["annotated"] == 40  # 4 per query word x 10 words
        for r in rounds[1:]:
            assert r["annotated"] == min(20, r["candidates"])
            assert sum(r["sampled_kinds"].values()) == r["annotated"]
            assert r["valid_this_round"] <= r["sampled_kinds"]["in distribution"]
            assert 0.0 <= r["accuracy"] <= 1.0
        assert (
            rounds[-1]["valid_acquired"]
            <= rounds[-1]["accepted_total"]
            == sum(rounds[-1]["labelled_per_class"])
        )
        if run["rectifier"] == "none":
            assert all(r["discarded_ood"] == 0 for r in rounds)
        else:
            assert rounds[1]["discarded_ood"] > 0
    assert "| random + OOD rect. (imagenet) |" in (tmp_path / "table.md").read_text()
    assert (tmp_path / "fig6.png").stat().st_size > 10_000
    models = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("model-*.pkl")}
    assert len(models) == 18 * 3
    again = run_study(cfg)  # everything is in the state folders: nothing is retrained, the same numbers
    assert again["runs"] == runs
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("model-*.pkl")} == models


def test_study_cli_on_digits_and_bad_settings(tmp_path: Path, server: ServerInfo) -> None:
    """Digits have no ImageNet classes: the imagenet rectifier is left out, the learner's is used."""
    out = tmp_path / "digits"
    result = run_cli(
        server,
        "study",
        "al",
        "source=digits",
        "pool=200",
        "seeds=0",
        "rounds=1",
        "budget=10",
        "cold_start=3",
        "test=100",
        "pca=8",
        "samplers=random,coreset",
        f"out={out}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    body = json.loads((out / "results.json").read_text())
    assert body["source"] == "digits" and body["rectifiers"] == ["learner"]
    assert {(r["sampler"], r["rectifier"]) for r in body["runs"]} == {
        ("random", "none"),
        ("coreset", "none"),
        ("random", "learner"),
        ("coreset", "learner"),
    }
    assert "| coreset + OOD rect. (learner) |" in result.stdout
    for bad, match in [
        (["samplers=nope"], "unknown sampler"),
        (["rectifiers=x"], "unknown rectifier"),
        (["ood_share=1.5"], "ood_share"),
        (["budget=x"], "cannot read"),
        (["foo=1"], "key=value"),
    ]:
        with pytest.raises(ConfigurationError, match=match):
            run_study(config_from([*bad, f"out={tmp_path / 'bad'}"]))
    bad_cli = run_cli(server, "study", "al", "budget=x")
    assert bad_cli.returncode == 2 and "cannot read" in bad_cli.stderr
