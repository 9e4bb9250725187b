"""The active-annotation study end to end on real images (CIFAR-10 from the shared data folder when
present, else MNIST/digits), with the real EfficientNet-Lite0 weights and real WordNet, at a tiny
scale: every arm runs, the numbers are consistent with each other, and a re-run resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bamboo.errors import ConfigurationError
from bamboo.training.study import KINDS, Arm, StudyConfig, arm_name, arms, config_from, run_study
from tests.conftest import SHARED_DATA, ServerInfo, run_cli

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
CIFAR_DIR = SHARED_DATA / "images"


@pytest.mark.shared_data("images/cifar10_train_subset_1000pc_from_jpeg.npz")
def test_study_runs_every_arm_and_resumes(tmp_path: Path) -> None:
    cfg = config_from([*TINY, f"out={tmp_path}"])
    body = run_study(cfg, data_dir=CIFAR_DIR)
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
    again = run_study(
        cfg, data_dir=CIFAR_DIR
    )  # everything is in the state folders: nothing is retrained, the same numbers
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


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (["samplers=random,nope"], "unknown sampler"),
        (["rectifiers=learner,x"], "unknown rectifier"),
        (["source=cifar100"], "unknown source"),
        (["budget=0"], "budget must be at least 1"),
        (["seeds="], "at least one seed"),
        (["votes=5", "workers=3"], r"votes \(5\) cannot exceed workers \(3\)"),
        (["quorum=6"], "quorum must be in"),
        (["worker_accuracy=0.9,0.5"], "worker_accuracy"),
        (["worker_accuracy=0.9"], "2 comma-separated values"),
        (["ood_share=1"], "ood_share"),
        (["annotation=crowd"], "unknown annotation 'crowd'"),
        (["annotation_risk=0.5"], "annotation_risk"),
    ],
)
def test_bad_study_config_is_refused_before_anything_is_written(
    tmp_path: Path, bad: list[str], match: str
) -> None:
    out = tmp_path / "out"
    with pytest.raises(ConfigurationError, match=match) as info:
        run_study(config_from([*bad, f"out={out}"]))
    assert "\n" not in str(info.value)
    assert not out.exists()


def test_every_problem_of_a_study_config_in_one_line() -> None:
    with pytest.raises(ConfigurationError) as info:
        StudyConfig(samplers=("nope",), pool=0, quorum=0)
    message = str(info.value)
    assert "\n" not in message
    assert all(p in message for p in ("unknown sampler(s) nope", "pool must be at least 1", "quorum"))


def test_a_pool_too_big_for_its_source_leaves_no_output_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(ConfigurationError, match="too few"):
        run_study(config_from(["source=digits", "pool=5000", f"out={out}"]))
    assert not out.exists()


def test_online_crowd_asks_fewer_answers_than_fixed_votes(tmp_path: Path) -> None:
    """The study's crowd asked online (#22) against the same workers at 5 votes, 3 to accept."""
    import numpy as np

    from bamboo.training.study._simulation import Crowd, OnlineCrowd, read_answers

    rng = np.random.default_rng(0)
    centres = rng.normal(0, 1.5, (4, 8))
    label = rng.integers(0, 4, 300)
    query = np.where(rng.random(300) < 0.6, label, (label + rng.integers(1, 4, 300)) % 4)
    keys = [f"img{i:03d}" for i in range(300)]
    feats = dict(zip(keys, centres[label] + rng.normal(0, 1, (300, 8)), strict=True))
    valid = dict(zip(keys, (label == query).tolist(), strict=True))
    words = {f"w{c}": c for c in range(4)}
    queries = [f"w{q}" for q in query.tolist()]
    cfg = StudyConfig(annotation="online")
    fixed = Crowd(cfg, valid, words, 0, tmp_path / "fixed")(1, keys, queries)
    online = OnlineCrowd(cfg, valid, words, 0, tmp_path / "online", feats)(1, keys, queries)
    truth = [words[q] if valid[k] else None for k, q in zip(keys, queries, strict=True)]

    def right(got: list[int | None]) -> float:
        return float(np.mean([g == t for g, t in zip(got, truth, strict=True)]))

    assert read_answers(tmp_path / "fixed") == {1: 5 * 300}
    asked = read_answers(tmp_path / "online")[1]
    assert asked < 300  # under 1 answer per image against 5
    assert right(online) >= right(fixed) - 0.02  # at about the accuracy of 3 of 5


def test_arms_keep_their_names_and_order() -> None:
    got = arms(["imagenet", "learner"], ["random", "margin"])
    assert got[0] == Arm("random", "none") and not got[0].rectified
    assert [a.name for a in got] == [
        "random",
        "margin",
        "random + OOD rect. (imagenet)",
        "margin + OOD rect. (imagenet)",
        "random + OOD rect. (learner)",
        "margin + OOD rect. (learner)",
    ]
    assert [a.folder for a in got[:3]] == ["random-none", "margin-none", "random-imagenet"]
    assert arm_name("coreset", "learner") == "coreset + OOD rect. (learner)"


def test_bad_study_setting_on_the_cli_is_one_line(tmp_path: Path, server: ServerInfo) -> None:
    out = tmp_path / "out"
    result = run_cli(server, "study", "al", "samplers=nope", f"out={out}")
    assert result.returncode == 2
    assert "unknown sampler(s) nope" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
