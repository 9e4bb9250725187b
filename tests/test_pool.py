"""The array-backed pool (issue #20): crash-safe phase commits and one round of Algorithm 1 in chunks,
with real faiss k-means, a real ``kill -9`` in a child process and memory-mapped inputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bamboo.sdk.pool import DISCARDED, SAMPLED, UNLABELED, ArrayPool, pool_round

N, CONCEPTS, CLASSES = 6000, 40, 60


def _inputs(folder: Path) -> dict[str, np.ndarray]:
    """A pool where images 0, 3, 6... show a class related to their query and the rest do not."""
    rng = np.random.default_rng(7)
    related = np.zeros((CONCEPTS, CLASSES), dtype=bool)
    related[np.arange(CONCEPTS), np.arange(CONCEPTS)] = True  # concept q is model class q
    queries = rng.integers(0, CONCEPTS, N).astype(np.int32)
    top5 = rng.integers(CONCEPTS, CLASSES, (N, 5)).astype(np.int32)  # unrelated classes
    ind = np.arange(N) % 3 == 0
    top5[ind, 2] = queries[ind]
    probs = np.sort(rng.dirichlet(np.ones(5), N), axis=1)[:, ::-1].astype(np.float16)
    emb = rng.standard_normal((N, 16)).astype(np.float16)
    arrays = {"queries": queries, "top5": top5, "top5_probs": probs, "embeddings": emb, "related": related}
    for name, a in arrays.items():
        np.save(folder / f"{name}.npy", a)
    return arrays


def _round(folder: Path, state: Path, **extra: object) -> object:
    load = lambda name: np.load(folder / f"{name}.npy", mmap_mode="r")  # noqa: E731
    return pool_round(
        ArrayPool.open(state), 1, top5=load("top5"), top5_probs=load("top5_probs"),
        embeddings=load("embeddings"), related=np.load(folder / "related.npy"), budget=150,
        clusters=20, chunk=1000, **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def test_round_rectifies_samples_and_persists(tmp_path: Path) -> None:
    a = _inputs(tmp_path)
    ArrayPool.create(tmp_path / "state", a["queries"], [f"c{i}" for i in range(CONCEPTS)])
    report = _round(tmp_path, tmp_path / "state")
    pool = ArrayPool.open(tmp_path / "state")
    state = np.asarray(pool.state)
    ood = np.arange(N) % 3 != 0
    assert report.discarded == int(ood.sum())  # type: ignore[attr-defined]
    assert np.all(state[ood] == DISCARDED) and not np.any(state[~ood] == DISCARDED)
    sampled = np.flatnonzero(state == SAMPLED)
    assert len(sampled) == 150 and np.all(~ood[sampled])
    # the lowest margins among the candidates, spread over clusters
    p = a["top5_probs"].astype(np.float32)
    margin = p[:, 0] - p[:, 1]
    assert margin[sampled].max() <= np.sort(margin[~ood])[1500]
    assert pool.counts() == {"unlabeled": N - int(ood.sum()) - 150, "sampled": 150, "labeled": 0,
                             "discarded": int(ood.sum())}  # fmt: skip
    # a second call finds both phases committed and changes nothing
    again = _round(tmp_path, tmp_path / "state")
    assert again == report and np.array_equal(np.asarray(ArrayPool.open(tmp_path / "state").state), state)


@pytest.mark.parametrize("crash", ["rectify:written", "sample:written", "sample:applied"])
def test_kill_9_then_resume_gives_the_same_state(tmp_path: Path, crash: str) -> None:
    a = _inputs(tmp_path)
    concepts = [f"c{i}" for i in range(CONCEPTS)]
    ArrayPool.create(tmp_path / "clean", a["queries"], concepts)
    _round(tmp_path, tmp_path / "clean")
    ArrayPool.create(tmp_path / "crashed", a["queries"], concepts)
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_pool import _round
        from pathlib import Path
        def hook(phase, step):
            if f"{{phase}}:{{step}}" == {crash!r}:
                os.kill(os.getpid(), signal.SIGKILL)
        _round(Path({str(tmp_path)!r}), Path({str(tmp_path / "crashed")!r}), hook=hook)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=os.environ)
    assert done.returncode == -signal.SIGKILL, done.stderr
    phase = crash.split(":")[0]
    reopened = ArrayPool.open(tmp_path / "crashed")  # opening applies the decisions written before the kill
    assert reopened.done(1, phase) and reopened.done(1, "sample") == (phase == "sample")
    _round(tmp_path, tmp_path / "crashed")
    clean = np.asarray(ArrayPool.open(tmp_path / "clean").state)
    crashed = np.asarray(ArrayPool.open(tmp_path / "crashed").state)
    assert np.array_equal(clean, crashed)
    assert json.loads((tmp_path / "crashed" / "phases.json").read_text())[-1]["phase"] == "sample"


def test_bad_pools_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outside the concept list"):
        ArrayPool.create(tmp_path / "a", [0, 5], ["only", "two"])
    ArrayPool.create(tmp_path / "b", [0, 1], ["x", "y"])
    with pytest.raises(FileExistsError):
        ArrayPool.create(tmp_path / "b", [0, 1], ["x", "y"])
    assert np.all(np.asarray(ArrayPool.open(tmp_path / "b").state) == UNLABELED)


def test_scale_benchmark_pool_part_runs_small(tmp_path: Path) -> None:
    """``benchmarks/scale.py --small --parts pool``: the CI-sized run of the 10M-image path, with its
    kill -9 / resume check."""
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "scale.py"
    done = subprocess.run(
        [sys.executable, str(script), "--small", "--parts", "pool"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| kill -9 after the sample decisions are written, then resume | identical state |" in done.stdout
    assert "2,000 sampled" in done.stdout


def test_chunk_work_through_the_ray_worker_gives_identical_decisions(tmp_path: Path) -> None:
    """The Ray path's ``map_batches`` callable (``ChunkWorker``, arrays opened by path, results as
    bytes), driven here by a plain map over shuffled batches, decides exactly as the local loop."""
    from bamboo.sdk.pool import ChunkWorker

    a = _inputs(tmp_path)
    concepts = [f"c{i}" for i in range(CONCEPTS)]
    ArrayPool.create(tmp_path / "local", a["queries"], concepts)
    _round(tmp_path, tmp_path / "local")
    ArrayPool.create(tmp_path / "state", a["queries"], concepts)  # where ChunkWorker looks
    calls: list[str] = []

    def worker_map(kind: str, ranges: list[tuple[int, int]]) -> list[object]:
        calls.append(kind)
        worker = ChunkWorker(str(tmp_path), kind, want=1500)  # margin_factor 10 x budget 150
        order = np.random.default_rng(len(calls)).permutation(len(ranges))  # any order of tasks
        rows: dict[int, dict[str, np.ndarray]] = {}
        for i in order.tolist():
            start, stop = ranges[i]
            rows[start] = worker({"start": np.array([start]), "stop": np.array([stop])})
        out: list[object] = []
        for start, _ in ranges:
            r = rows[start]
            pos = np.frombuffer(r["pos"][0], dtype=np.int64)
            if kind == "rectify":
                out.append(pos)
            else:
                out.append((pos, np.frombuffer(r["margin"][0], dtype=np.float32), int(r["open"][0])))
        return out

    _round(tmp_path, tmp_path / "state", map_chunks=worker_map)
    assert calls == ["rectify", "lowest_margin"]
    local = np.asarray(ArrayPool.open(tmp_path / "local").state)
    assert np.array_equal(np.asarray(ArrayPool.open(tmp_path / "state").state), local)
    assert (local == SAMPLED).sum() == 150
