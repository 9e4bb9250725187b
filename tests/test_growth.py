"""Dataset growth (#21): cleaning, gain, sampling, the online index, saved state and kill -9 resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import faiss
import numpy as np
import pytest

from bamboo.errors import ConfigurationError
from bamboo.sdk._ann import OnlineIndex
from bamboo.sdk.growth import DatasetGrowth, Decision, GrowthConfig, neighbourhood_gain


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _stream(n: int = 3000, dim: int = 32, classes: int = 5, seed: int = 0):
    """Clustered samples: ``classes`` well-separated directions, each with 20 sub-blobs."""
    rng = np.random.default_rng(seed)
    centres = _unit(rng.normal(size=(classes, dim))) * 4
    sub = rng.normal(size=(classes, 20, dim)).astype(np.float32)
    truth = rng.integers(0, classes, n)
    x = centres[truth] + sub[truth, rng.integers(0, 20, n)] + rng.normal(0, 0.5, (n, dim))
    return _unit(x), truth, _unit(centres)


def test_gain_means() -> None:
    sims = np.array([[0.9, 0.1, -np.inf], [0.5, 0.5, 0.5]])
    a = neighbourhood_gain(sims)
    g = neighbourhood_gain(sims, mean="geometric")
    h = neighbourhood_gain(sims, mean="harmonic")
    assert a.tolist() == pytest.approx([(0.1 + 0.9 + 1.0) / 3, 0.5])
    assert np.all(h <= g + 1e-6) and np.all(g <= a + 1e-6)
    with pytest.raises(ValueError):
        neighbourhood_gain(sims, mean="median")


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ConfigurationError, match="keep_fraction"):
        GrowthConfig(dim=8, keep_fraction=1.5)
    with pytest.raises(ConfigurationError, match="index"):
        GrowthConfig(dim=8, index="lsh")
    g = DatasetGrowth(GrowthConfig(dim=8))
    with pytest.raises(ConfigurationError, match="dimensions"):
        g.add(np.ones((3, 4)))
    with pytest.raises(ConfigurationError, match="labels has 2 rows"):
        g.add(np.ones((3, 8)), labels=np.zeros(2, int))


def test_static_keeps_the_fraction_and_drops_duplicates() -> None:
    x, truth, _ = _stream()
    # plant 300 exact and near copies, half in the same step as their original
    rng = np.random.default_rng(1)
    src = rng.choice(len(x), 300, replace=False)
    copies = _unit(x[src] + rng.normal(0, 0.01, (300, x.shape[1])))
    xs = np.concatenate([x, copies])
    g = DatasetGrowth(GrowthConfig(dim=32, keep_fraction=0.4, correction="none", index="flat", step=512))
    out = g.add(xs, labels=np.concatenate([truth, truth[src]]))
    assert out.kept.sum() == int(0.4 * len(xs))
    assert g.kept == out.kept.sum() == g.index.ntotal
    kept = set(np.flatnonzero(out.kept).tolist())
    both = sum((s in kept) and (len(x) + i in kept) for i, s in enumerate(src))
    assert both == 0, "a sample and its near copy were both kept"
    assert (out.decision == Decision.REDUNDANT).sum() >= 150
    # kept samples have higher gain than the ones dropped for low gain, step by step
    assert np.nanmean(out.gain[out.kept]) > np.nanmean(out.gain[out.decision == Decision.LOW_GAIN])


def test_relabels_confident_noise_with_label_vectors() -> None:
    x, truth, centres = _stream(n=2000)
    rng = np.random.default_rng(2)
    flip = rng.random(len(x)) < 0.3
    labels = truth.copy()
    labels[flip] = (truth[flip] + rng.integers(1, 5, flip.sum())) % 5
    g = DatasetGrowth(GrowthConfig(dim=32, keep_fraction=1.0, relabel_margin=0.05), label_vectors=centres)
    out = g.add(x, labels=labels)
    flagged = np.isin(out.decision, (Decision.NOISE, Decision.RELABELLED))
    assert (flagged & flip).sum() / flip.sum() > 0.9  # recall
    assert (flagged & flip).sum() / flagged.sum() > 0.9  # precision
    fixed = out.decision == Decision.RELABELLED
    assert (out.label[fixed] == truth[fixed]).mean() > 0.95
    # prototypes (no label vectors) find most of the noise too
    p = DatasetGrowth(GrowthConfig(dim=32, keep_fraction=1.0, relabel_margin=0.05)).add(x, labels=labels)
    assert (np.isin(p.decision, (Decision.NOISE, Decision.RELABELLED)) & flip).sum() / flip.sum() > 0.8
    # filter mode drops instead of relabelling
    f = DatasetGrowth(GrowthConfig(dim=32, correction="filter"), label_vectors=centres).add(x, labels=labels)
    assert not (f.decision == Decision.RELABELLED).any() and (f.decision == Decision.NOISE).sum() > 0


def test_captions_and_recaptions() -> None:
    x, _, _ = _stream(n=200)
    rng = np.random.default_rng(3)
    captions = _unit(x + rng.normal(0, 0.05, x.shape))
    bad = np.arange(200) < 50
    captions[bad] = _unit(rng.normal(size=(50, 32)))
    recaptions = captions.copy()
    recaptions[:25] = x[:25]
    g = DatasetGrowth(GrowthConfig(dim=32, keep_fraction=1.0, min_alignment=0.5))
    out = g.add(x, captions=captions, recaptions=recaptions)
    assert (out.decision[:25] == Decision.RELABELLED).all()
    assert (out.decision[25:50] == Decision.NOISE).all()
    assert not np.isin(out.decision[50:], (Decision.NOISE, Decision.RELABELLED)).any()


def test_online_index_switches_to_ivf_and_agrees_with_exact() -> None:
    rng = np.random.default_rng(4)
    x = _unit(rng.normal(size=(17000, 16)))
    ann = OnlineIndex(16, "ivf", exact_until=1000, nlist=64, nprobe=16)
    ann.add(x[:999])
    assert not ann.approximate
    ann.add(x[999:2000])
    assert ann.approximate and ann.index.nlist == 32  # about 39 vectors per list
    ann.add(x[2000:])
    assert ann.index.nlist == 64, "rebuilt with more lists after growing eightfold"
    exact = faiss.IndexFlatIP(16)
    exact.add(x)
    q = _unit(rng.normal(size=(300, 16)))
    es, _ = exact.search(q, 4)
    a_s, _ = ann.search(q, 4)
    assert np.corrcoef(neighbourhood_gain(es), neighbourhood_gain(a_s))[0, 1] > 0.95
    hnsw = OnlineIndex(16, "hnsw", exact_until=1000)
    hnsw.add(x)
    hs, _ = hnsw.search(q, 4)
    assert np.abs(neighbourhood_gain(hs) - neighbourhood_gain(es)).mean() < 0.01


def test_dynamic_sampling_two_phases() -> None:
    x, truth, _ = _stream(n=2000)
    g = DatasetGrowth(GrowthConfig(dim=32, keep_fraction=0.3, sampling="dynamic", correction="none"))
    out = g.add(x, labels=truth)
    assert (out.decision == Decision.LOW_GAIN).sum() == 0  # dynamic keeps every clean, new sample
    _, _, gains = g.dataset()
    one, two = g.epoch_sample(1), g.epoch_sample(2)
    assert np.array_equal(one, g.epoch_sample(1))  # deterministic
    assert abs(len(one) - 0.3 * 2000) < 100 and abs(len(two) - 0.3 * 2000) < 100
    assert gains[one].mean() > gains[two].mean()  # phase 1 favours high gain, phase 2 the rest


def test_save_and_load_continue_identically(tmp_path: Path) -> None:
    x, truth, _ = _stream(n=4000)
    cfg = GrowthConfig(dim=32, keep_fraction=0.5, exact_until=500, nlist=32, step=256)
    whole = DatasetGrowth(cfg)
    first = [whole.add(x[s : s + 1000], labels=truth[s : s + 1000]) for s in range(0, 4000, 1000)]
    part = DatasetGrowth(cfg)
    for s in (0, 1000):  # the same batches: steps start at each batch's start
        part.add(x[s : s + 1000], labels=truth[s : s + 1000])
    part.save(tmp_path / "state")
    resumed = DatasetGrowth.load(tmp_path / "state")
    assert resumed.index.approximate
    later = [resumed.add(x[s : s + 1000], labels=truth[s : s + 1000]) for s in (2000, 3000)]
    for a, b in zip(first[2:], later, strict=True):
        assert np.array_equal(a.decision, b.decision) and np.allclose(a.gain, b.gain, equal_nan=True)
    assert np.array_equal(whole.dataset()[0], resumed.dataset()[0])
    with pytest.raises(ConfigurationError, match="another config"):
        DatasetGrowth.open(tmp_path / "state", GrowthConfig(dim=32))


def _grow(args: list[str]) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(Path(__import__("bamboo").__file__).parent.parent))
    return subprocess.Popen(
        [sys.executable, "-m", "bamboo.cli", "grow", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_cli_grow_resumes_identically_after_kill_9(tmp_path: Path) -> None:
    x, truth, _ = _stream(n=40_000, dim=16)
    stream = tmp_path / "stream.npz"
    np.savez(stream, embeddings=x, labels=truth, ids=np.arange(len(x)) * 10)
    common = ["--keep", "0.3", "--batch", "2000", "--checkpoint-every", "2"]
    ref = _grow([str(stream), "--state", str(tmp_path / "ref"), "--out", str(tmp_path / "ref.npz"), *common])
    _, err = ref.communicate(timeout=120)  # communicate() closes the pipes (ResourceWarning otherwise)
    assert ref.returncode == 0, err
    args = [str(stream), "--state", str(tmp_path / "s"), "--out", str(tmp_path / "out.npz"), *common]
    proc = _grow(args)
    parts = tmp_path / "out.npz.parts"
    deadline = time.monotonic() + 120
    while proc.poll() is None and len(list(parts.glob("*.npz"))) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert not (tmp_path / "out.npz").exists()
    again = _grow(args)
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    with np.load(tmp_path / "ref.npz") as a, np.load(tmp_path / "out.npz") as b:
        assert len(a["decision"]) == 40_000
        for key in ("decision", "label", "ids"):
            assert np.array_equal(a[key], b[key]), key
        assert np.allclose(a["gain"], b["gain"], equal_nan=True)
