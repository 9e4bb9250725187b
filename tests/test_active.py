"""Active learning: samplers, vote aggregation, Label Studio files and the resumable loop, on real
data (scikit-learn digits) with simulated annotators, including a ``kill -9`` in the middle."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import al_scenario
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from sklearn.datasets import load_digits
from sklearn.metrics import adjusted_rand_score

from bamboo.loaders.base import MalformedFile
from bamboo.sdk._clusters import round_robin
from bamboo.sdk.labelstudio import (
    AwaitingAnnotations,
    LabelStudioAnnotator,
    Task,
    export_tasks,
    import_answers,
)
from bamboo.sdk.loop import read_pools
from bamboo.sdk.samplers import (
    INPUTS,
    ClusterMarginSampler,
    CoreSetSampler,
    HACClustering,
    Sampler,
    list_samplers,
    make_sampler,
    margins,
)
from bamboo.sdk.votes import DawidSkene, SimulatedWorkers, annotate_adaptively, majority_vote

HERE = Path(__file__).parent


# --- samplers ----------------------------------------------------------------------------------


def test_uncertainty_samplers_pick_the_most_uncertain() -> None:
    probs = np.array(
        [[0.9, 0.1, 0.0], [0.4, 0.35, 0.25], [0.5, 0.5, 0.0], [0.98, 0.01, 0.01], [0.34, 0.33, 0.33]]
    )
    assert make_sampler("margin").select(2, probs=probs).tolist() == [2, 4]
    assert make_sampler("entropy").select(1, probs=probs).tolist() == [4]
    assert make_sampler("least-confidence").select(2, probs=probs).tolist() == [4, 1]
    assert np.allclose(margins(probs), [0.8, 0.05, 0.0, 0.97, 0.01])
    rand = make_sampler("random")
    assert rand.select(3, probs=probs, seed=1).tolist() == rand.select(3, probs=probs, seed=1).tolist()
    assert len(set(rand.select(10, probs=probs).tolist())) == 5  # never more than the pool
    with pytest.raises(ValueError, match="needs probs"):
        make_sampler("margin").select(1, embeddings=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="unknown sampler"):
        make_sampler("nope")


def test_registry_names_and_errors() -> None:
    assert list_samplers() == ["random", "entropy", "margin", "least-confidence", "coreset", "cluster-margin"]
    with pytest.raises(ValueError, match="choose from random, entropy"):
        make_sampler("nope")


@dataclass
class _Recording:
    """A real sampler that also records which inputs it was given."""

    inner: Sampler
    seen: list[set[str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def needs(self) -> frozenset[str]:
        return self.inner.needs

    def cluster(self, embeddings: np.ndarray, *, seed: int = 0) -> np.ndarray:
        return self.inner.cluster(embeddings, seed=seed)  # type: ignore[attr-defined]

    def select(self, budget: int, **inputs: Any) -> np.ndarray:
        self.seen.append({k for k, v in inputs.items() if k != "seed" and v is not None})
        return self.inner.select(budget, **inputs)


@pytest.mark.parametrize("name", list_samplers())
def test_every_registered_sampler_picks_from_its_declared_inputs(name: str, tmp_path: Path) -> None:
    sampler = make_sampler(name, **({"clusters": 20} if name == "cluster-margin" else {}))
    assert sampler.name == name and sampler.needs <= INPUTS and sampler.needs
    x, _ = load_digits(return_X_y=True)
    x = x[:300] / 16.0
    inputs: dict[str, Any] = {
        "probs": np.random.default_rng(0).dirichlet(np.ones(10), size=len(x)),
        "embeddings": x,
        "labeled": x[:5],
        "clusters": np.arange(len(x)) % 7,
    }
    given = {k: v for k, v in inputs.items() if k in sampler.needs}
    picks = sampler.select(40, **given, seed=3)
    assert picks.dtype == np.int64 and len(set(picks.tolist())) == 40
    assert picks.min() >= 0 and picks.max() < len(x)
    assert picks.tolist() == sampler.select(40, **given, seed=3).tolist()  # the seed decides
    # the loop feeds it exactly what it declares, every round after the cold start
    loop = al_scenario.make_loop(tmp_path, name)
    recording = _Recording(loop.sampler)
    loop.sampler = recording
    reports = loop.run(3)
    assert recording.seen == [set(sampler.needs)] * 2
    assert [r["sample"]["sampled"] for r in reports] == [50, 60, 60]
    assert reports[1]["sample"]["sampler"] == name


def test_coreset_is_k_center_greedy() -> None:
    x = np.array([[0, 0], [0.1, 0], [10, 0], [0, 10], [10, 10], [5, 5]], dtype=np.float32)
    picks = CoreSetSampler(device="cpu").select(3, embeddings=x, labeled=np.array([[0, 0]], dtype=np.float32))
    assert picks[0] == 4 and set(picks.tolist()) == {2, 3, 4}  # farthest first, then the other corners
    assert len(CoreSetSampler(device="cpu").select(6, embeddings=x)) == 6
    # a boolean mask over the pool is read as "these rows are labelled" (it failed inside faiss)
    mask = np.array([True, False, False, False, False, False])
    assert CoreSetSampler(device="cpu").select(3, embeddings=x, labeled=mask).tolist() == picks.tolist()
    with pytest.raises(ValueError, match="boolean mask over the 6 pool images"):
        CoreSetSampler(device="cpu").select(3, embeddings=x, labeled=np.array([1, 2, 3]))


def test_cluster_margin_round_robin_over_clusters() -> None:
    x, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(10) * 0.3, size=len(y))
    sampler = ClusterMarginSampler(clusters=10, margin_factor=5).fit(x)
    assert sampler.labels_ is not None
    picks = sampler.select(50, probs=probs, seed=0)
    assert len(set(picks.tolist())) == 50
    candidates = set(np.argsort(margins(probs))[:250].tolist())
    assert set(picks.tolist()) <= candidates  # only low-margin candidates
    per_cluster = np.bincount(sampler.labels_[picks], minlength=10)
    in_candidates = np.bincount(sampler.labels_[list(candidates)], minlength=10)
    # round-robin: a cluster gives at most one more than any cluster that still had candidates
    assert per_cluster.max() - per_cluster[in_candidates >= per_cluster.max()].min() <= 1


def test_centroid_hac_agrees_with_exact_hac_on_real_digits() -> None:
    x, _ = load_digits(return_X_y=True)
    exact = HACClustering(10).fit(x)
    approx = HACClustering(10, exact_limit=0, centroids=300).fit(x)
    assert adjusted_rand_score(exact, approx) > 0.5


# --- votes -------------------------------------------------------------------------------------


def _digits_crowd(seed: int = 0) -> tuple[np.ndarray, np.ndarray, SimulatedWorkers, np.ndarray]:
    x, y = load_digits(return_X_y=True)
    means = np.stack([x[y == c].mean(axis=0) for c in range(10)])
    dist = ((means[:, None] - means[None]) ** 2).sum(axis=2)
    accuracies = np.random.default_rng(seed).uniform(0.55, 0.9, 15)
    return x, y, SimulatedWorkers.structured(accuracies, np.exp(-dist / np.median(dist)), seed), accuracies


def test_majority_vote_needs_three_of_five() -> None:
    items = np.array([0] * 5 + [1] * 5 + [2] * 4)
    labels = np.array([1, 1, 1, 0, 0, 2, 2, 0, 1, 0, 1, 1, 2, 2])
    assert majority_vote(items, labels, 3, 3).tolist() == [1, -1, -1]  # 3-of-5; 2/2/1; 2/2 tie


def test_dawid_skene_beats_majority_and_finds_the_good_workers() -> None:
    x, y, crowd, accuracies = _digits_crowd()
    n = len(y)
    rng = np.random.default_rng(1)
    items = np.repeat(np.arange(n), 5)
    workers = np.concatenate([rng.choice(crowd.n_workers, 5, replace=False) for _ in range(n)])
    answers = crowd.answer(items, workers, y)
    assert np.array_equal(answers, crowd.answer(items, workers, y))  # deterministic
    plural = majority_vote(items, answers, n, 10, quorum=1)
    em = DawidSkene(10).fit(items, workers, answers, n, crowd.n_workers)
    assert (em.labels_ == y).mean() > (plural == y).mean()
    assert np.corrcoef(em.worker_accuracy(), accuracies)[0, 1] > 0.8


def test_adaptive_votes_reach_fixed_five_accuracy_with_fewer_votes() -> None:
    x, y, crowd, _ = _digits_crowd()
    n = len(y)
    from sklearn.linear_model import LogisticRegression

    train = np.random.default_rng(0).permutation(n)[:100]
    prior = LogisticRegression(max_iter=2000).fit(x[train], y[train]).predict_proba(x)
    rng = np.random.default_rng(1)
    items = np.repeat(np.arange(n), 5)
    workers = np.concatenate([rng.choice(crowd.n_workers, 5, replace=False) for _ in range(n)])
    fixed = majority_vote(items, crowd.answer(items, workers, y), n, 10, quorum=3)
    result = annotate_adaptively(
        lambda i, w: crowd.answer(i, w, y), n, crowd.n_workers, 10, prior=prior, risk=0.01
    )
    assert (result.labels == y).mean() >= (fixed == y).mean()
    assert result.mean_votes < 2.5 and result.votes_per_item.max() <= 5
    assert len(result.items) == int(result.votes_per_item.sum())
    pairs = set(zip(result.items.tolist(), result.workers.tolist(), strict=True))
    assert len(pairs) == len(result.items)  # never the same worker twice on an image


# --- Label Studio ------------------------------------------------------------------------------


def _export(tasks_path: Path, yes: dict[str, int]) -> list[dict]:  # type: ignore[type-arg]
    tasks = json.loads(tasks_path.read_text())
    for t in tasks:
        n_yes = yes.get(t["data"]["image"], 0)
        t["annotations"] = [
            {
                "completed_by": a,
                "result": [
                    {
                        "from_name": "valid",
                        "to_name": "image",
                        "type": "choices",
                        "value": {"choices": ["Yes" if a < n_yes else "No"]},
                    }
                ],
            }
            for a in range(5)
        ]
    return tasks


def test_label_studio_round_trip(tmp_path: Path) -> None:
    path = export_tasks(
        tmp_path / "t.json", [Task("http://x/1.jpg", "dog", "a canine"), Task("/p/2.jpg", "cat")]
    )
    tasks = json.loads(path.read_text())
    assert tasks[0] == {
        "id": 1,
        "data": {"image": "http://x/1.jpg", "query": "dog", "description": "a canine", "references": []},
    }
    assert '<Choices name="valid"' in (tmp_path / "label_config.xml").read_text()
    (tmp_path / "export.json").write_text(json.dumps(_export(path, {"http://x/1.jpg": 4, "/p/2.jpg": 2})))
    assert import_answers(tmp_path / "export.json") == {
        "http://x/1.jpg": [True] * 4 + [False],
        "/p/2.jpg": [True] * 2 + [False] * 3,
    }
    (tmp_path / "bad.json").write_text('{"not": "a list"}')
    with pytest.raises(MalformedFile, match="list of tasks"):
        import_answers(tmp_path / "bad.json")
    (tmp_path / "bad2.json").write_text("[{")
    with pytest.raises(MalformedFile, match="not JSON"):
        import_answers(tmp_path / "bad2.json")


def test_loop_waits_for_label_studio_and_resumes(tmp_path: Path) -> None:
    images, truth = al_scenario.pool()
    annot = LabelStudioAnnotator(tmp_path / "ls", {str(c): c for c in range(10)})
    loop = al_scenario.make_loop(tmp_path / "state", "margin")
    loop.annotate = annot
    stopped = loop.run(1)  # the loop returns: awaiting annotations is a state, not an error
    assert loop.done() == {(0, "rectify"), (0, "sample")}
    waiting = loop.awaiting
    assert isinstance(waiting, AwaitingAnnotations)
    assert stopped[0]["awaiting"]["phase"] == "awaiting annotations"
    assert stopped[0]["awaiting"]["message"] == waiting.message and str(waiting.export) in waiting.message
    assert loop.run(1)[0]["awaiting"]["message"] == waiting.message  # still waiting: nothing changes
    tasks = json.loads(waiting.tasks.read_text())
    assert len(tasks) == 50  # 5 per query concept
    yes = {
        t["data"]["image"]: 5 if truth[t["data"]["image"]] == int(t["data"]["query"]) else 1 for t in tasks
    }
    waiting.export.write_text(json.dumps(_export(waiting.tasks, yes)))
    reports = loop.run(1)
    assert reports[0]["annotate"] == {"annotated": 50, "valid": sum(v == 5 for v in yes.values())}
    assert "awaiting" not in reports[0] and loop.awaiting is None


# --- the loop ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sampler", ["margin", "cluster-margin", "coreset"])
def test_loop_runs_and_reports(tmp_path: Path, sampler: str) -> None:
    loop = al_scenario.make_loop(tmp_path, sampler)
    assert loop.add_pool(al_scenario.pool()[0]) == 0  # adding the same pool again changes nothing
    reports = loop.run(3, progress=True)
    assert [r["round"] for r in reports] == [0, 1, 2]
    assert reports[0]["sample"]["sampled"] == 50 and reports[1]["sample"]["sampled"] == 60
    assert reports[1]["rectify"]["discarded"] > 0  # the round-0 model drops OOD images
    assert (
        0.5 < reports[0]["train"]["metrics"]["accuracy"] <= reports[2]["train"]["metrics"]["accuracy"] + 0.05
    )
    pools = read_pools(tmp_path)
    states = {s for _, _, s, _, _, _ in pools}
    assert states == {"unlabeled", "labeled", "discarded"}
    labeled = [(k, q, lab) for k, q, s, lab, _, _ in pools if s == "labeled"]
    assert len(labeled) == reports[-1]["train"]["train_size"]
    assert all(int(q) == lab for _, q, lab in labeled)  # only valid images become labelled
    assert all(r for _, _, s, _, _, r in pools if s == "discarded")  # every discard has a reason
    path = loop.write_report()
    assert json.loads(path.read_text()) == reports and path.with_suffix(".png").stat().st_size > 1000


@pytest.mark.parametrize(
    "crash", ["1:annotate:commit", "2:sample:commit", "0:train:start", "3:rectify:commit"]
)
def test_kill_9_then_resume_gives_the_uninterrupted_pools(tmp_path: Path, crash: str) -> None:
    script = str(HERE / "al_scenario.py")
    clean = subprocess.run(
        [sys.executable, script, str(tmp_path / "clean"), "cluster-margin"], capture_output=True, text=True
    )
    assert clean.returncode == 0, clean.stderr
    killed = subprocess.run(
        [sys.executable, script, str(tmp_path / "crash"), "cluster-margin", crash],
        capture_output=True,
        text=True,
    )
    assert killed.returncode == -9  # really killed
    r, phase, _ = crash.split(":")
    resumed = subprocess.run(
        [sys.executable, script, str(tmp_path / "crash"), "cluster-margin"], capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert read_pools(tmp_path / "crash") == read_pools(tmp_path / "clean")


@given(
    labels=st.lists(st.integers(0, 6), max_size=60),
    budget=st.integers(0, 70),
    seed=st.integers(0, 5),
)
@settings(max_examples=200, deadline=None)
def test_round_robin_is_the_smallest_cluster_first_loop(labels: list[int], budget: int, seed: int) -> None:
    items = np.arange(100, 100 + len(labels))
    got = round_robin(items, labels, budget, np.random.default_rng(seed)).tolist()
    # The definition, written as the plain loop: shuffle, group, then one per cluster per pass.
    perm = np.random.default_rng(seed).permutation(len(items))
    groups: dict[int, list[int]] = {}
    for i in perm.tolist():
        groups.setdefault(labels[i], []).append(int(items[i]))
    order = sorted(groups, key=lambda c: (len(groups[c]), c))
    want: list[int] = []
    for depth in range(max((len(g) for g in groups.values()), default=0)):
        want += [groups[c][depth] for c in order if depth < len(groups[c])]
    assert got == want[:budget]
