"""Pool state at the paper's scale: columnar arrays on disk, not a SQLite row per image.

:class:`~bamboo.sdk.loop.ActiveLoop` keeps one SQLite row per image with its key: right for
thousands to a few million images, too slow and too big for the paper's pools (170M). An
:class:`ArrayPool` keeps the same states as arrays in a folder:

* ``queries.npy``: the query concept of each image (an index into ``concepts.json``), int32;
* ``state.npy``: ``unlabeled`` / ``sampled`` / ``labeled`` / ``discarded`` (uint8), memory-mapped;
* ``round.npy``: the round that last changed the image (int16, -1: never);
* ``rounds/<round>-<phase>.npz``: each phase's decisions (positions and new state), written
  atomically *before* they are applied, and ``phases.json``, the committed phases.

A phase commits in three steps: its decision file is renamed into place, the decisions are applied to
the memory-mapped state and flushed, the phase is appended to ``phases.json`` (atomically). A
``kill -9`` between any two steps is repaired when the pool is next opened: a decision file without
its ``phases.json`` entry is applied again (applying is idempotent), so a resumed round ends with
exactly the state of an uninterrupted one.

:func:`pool_round` runs one round of Algorithm 1 over such a pool in chunks, so memory stays flat in
the pool size: rectify (a top-5 prediction is kept when one of its classes is in the query's
related set, as :class:`~bamboo.sdk.ood.ClassificationRectifier` does), then ClusterMargin (the
``margin_factor x budget`` lowest-margin candidates, spread round-robin over k-means clusters
learnt on a sample of the pool, smallest clusters first), then persist.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bamboo.atomic import write_text_atomic
from bamboo.sdk._clusters import round_robin

__all__ = [
    "DISCARDED",
    "LABELED",
    "SAMPLED",
    "UNLABELED",
    "ArrayPool",
    "ChunkMap",
    "RoundReport",
    "ChunkWorker",
    "chunk_ranges",
    "lowest_margin_chunk",
    "pool_round",
    "ray_chunk_map",
    "rectify_chunk",
]

UNLABELED, SAMPLED, LABELED, DISCARDED = 0, 1, 2, 3


class ArrayPool:
    """A pool's per-image state as arrays in ``folder`` (see the module docstring).

    Use :meth:`create` once, then :meth:`open`; opening repairs a phase a crash left half-applied.
    """

    def __init__(self, folder: Path) -> None:
        self.dir = Path(folder)
        self.concepts: list[str] = json.loads((self.dir / "concepts.json").read_text())
        self.queries = np.load(self.dir / "queries.npy", mmap_mode="r")
        self.state = np.load(self.dir / "state.npy", mmap_mode="r+")
        self.round = np.load(self.dir / "round.npy", mmap_mode="r+")
        self._recover()

    @classmethod
    def create(cls, folder: str | os.PathLike[str], queries: npt.ArrayLike, concepts: list[str]) -> ArrayPool:
        """A new pool of ``len(queries)`` unlabeled images (``queries[i]`` indexes ``concepts``).

        Raises:
            FileExistsError: ``folder`` already holds a pool.
        """
        path = Path(folder)
        if (path / "phases.json").exists():
            raise FileExistsError(f"{path} already holds a pool")
        (path / "rounds").mkdir(parents=True, exist_ok=True)
        q = np.asarray(queries, dtype=np.int32)
        if q.size and (q.min() < 0 or q.max() >= len(concepts)):
            raise ValueError("a query index is outside the concept list")
        np.save(path / "queries.npy", q)
        state = np.lib.format.open_memmap(path / "state.npy", mode="w+", dtype=np.uint8, shape=q.shape)
        state[:] = UNLABELED
        state.flush()
        rounds = np.lib.format.open_memmap(path / "round.npy", mode="w+", dtype=np.int16, shape=q.shape)
        rounds[:] = -1
        rounds.flush()
        del state, rounds
        (path / "concepts.json").write_text(json.dumps(concepts))
        write_text_atomic(path / "phases.json", "[]")
        return cls(path)

    @classmethod
    def open(cls, folder: str | os.PathLike[str]) -> ArrayPool:
        """The pool in ``folder``, repaired if a crash left a phase half-applied."""
        return cls(Path(folder))

    def __len__(self) -> int:
        return len(self.state)

    def phases(self) -> list[dict[str, Any]]:
        """The committed phases, oldest first: ``{"round", "phase", "info"}``."""
        return list(json.loads((self.dir / "phases.json").read_text()))

    def done(self, round_no: int, phase: str) -> bool:
        """Whether ``phase`` of ``round_no`` is committed."""
        return any(p["round"] == round_no and p["phase"] == phase for p in self.phases())

    def counts(self) -> dict[str, int]:
        """Images per state."""
        n = np.bincount(np.asarray(self.state), minlength=4)
        return {"unlabeled": int(n[0]), "sampled": int(n[1]), "labeled": int(n[2]), "discarded": int(n[3])}

    def commit(
        self,
        round_no: int,
        phase: str,
        positions: npt.ArrayLike,
        new_state: int,
        info: Mapping[str, Any],
        *,
        hook: Callable[[str], None] | None = None,
    ) -> None:
        """Record, apply and commit one phase's decisions (crash-safe; see the module docstring).

        Args:
            hook: Called with ``"written"`` and ``"applied"`` between the steps (crash tests).
        """
        pos = np.asarray(positions, dtype=np.int64)
        final = self.dir / "rounds" / f"{round_no}-{phase}.npz"
        tmp = final.with_name(final.name + ".tmp.npz")
        np.savez(tmp, positions=pos, state=np.array([new_state]), info=np.array([json.dumps(dict(info))]))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        if hook:
            hook("written")
        self._apply(round_no, pos, new_state)
        if hook:
            hook("applied")
        self._record(round_no, phase, dict(info))

    def _apply(self, round_no: int, positions: npt.NDArray[np.int64], new_state: int) -> None:
        self.state[positions] = new_state
        self.round[positions] = round_no
        self.state.flush()
        self.round.flush()

    def _record(self, round_no: int, phase: str, info: dict[str, Any]) -> None:
        phases = self.phases()
        if not any(p["round"] == round_no and p["phase"] == phase for p in phases):
            phases.append({"round": round_no, "phase": phase, "info": info})
            write_text_atomic(self.dir / "phases.json", json.dumps(phases))

    def _recover(self) -> None:
        for path in sorted((self.dir / "rounds").glob("*.npz")):
            if path.name.endswith(".tmp.npz"):
                path.unlink()  # never renamed into place: the phase did not happen
                continue
            round_no, phase = path.stem.split("-", 1)
            if not self.done(int(round_no), phase):
                with np.load(path) as z:
                    self._apply(int(round_no), z["positions"], int(z["state"][0]))
                    info = json.loads(str(z["info"][0]))
                self._record(int(round_no), phase, info)


@dataclass(frozen=True)
class RoundReport:
    """What :func:`pool_round` did.

    Attributes:
        round: The round.
        candidates: Unlabeled images looked at.
        discarded: Dropped by the rectifier.
        sampled: Chosen for annotation.
        clusters: k-means clusters the candidates were spread over.
    """

    round: int
    candidates: int
    discarded: int
    sampled: int
    clusters: int


def chunk_ranges(n: int, size: int) -> list[tuple[int, int]]:
    """``[start, stop)`` ranges of ``size`` rows covering ``n`` rows."""
    return [(start, min(start + size, n)) for start in range(0, n, size)]


def rectify_chunk(
    state: npt.NDArray[np.int8],
    queries: npt.NDArray[np.integer[Any]],
    top5: npt.NDArray[np.integer[Any]],
    related: npt.NDArray[np.bool_],
    start: int,
    stop: int,
) -> npt.NDArray[np.int64]:
    """Positions in ``[start, stop)`` of open images whose top-5 misses their query's related set
    (pure: the same rows give the same answer in any process)."""
    open_ = np.asarray(state[start:stop]) == UNLABELED
    q = np.asarray(queries[start:stop])
    keep = related[q[:, None], np.asarray(top5[start:stop])].any(axis=1)
    return start + np.flatnonzero(open_ & ~keep)


def lowest_margin_chunk(
    state: npt.NDArray[np.int8], top5_probs: npt.NDArray[np.floating[Any]], start: int, stop: int, want: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], int]:
    """The ``want`` open images of ``[start, stop)`` with the lowest top-1 minus top-2 margin
    (ties by position), their margins, and how many images were open (pure, as above)."""
    open_ = np.flatnonzero(np.asarray(state[start:stop]) == UNLABELED)
    p = np.asarray(top5_probs[start:stop][open_], dtype=np.float32)
    return _lowest(start + open_, p[:, 0] - p[:, 1], want) + (len(open_),)


def _lowest(
    pos: npt.NDArray[np.int64], margin: npt.NDArray[np.float32], want: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    keep = np.lexsort((pos, margin))[:want]  # lowest margin, ties by position
    return pos[keep], margin[keep]


#: Maps a chunk function over ``[start, stop)`` ranges and returns the results in range order: a
#: plain loop by default; Ray Data's ``map_batches`` in ``examples/ray_pool_round.py``.
ChunkMap = Callable[[str, list[tuple[int, int]]], list[Any]]


def pool_round(
    pool: ArrayPool,
    round_no: int,
    *,
    top5: npt.NDArray[np.int32],
    top5_probs: npt.NDArray[np.floating[Any]],
    embeddings: npt.NDArray[np.floating[Any]],
    related: npt.NDArray[np.bool_],
    budget: int,
    margin_factor: float = 10.0,
    clusters: int = 1000,
    sample_for_clusters: int = 200_000,
    chunk: int = 1_000_000,
    seed: int = 0,
    hook: Callable[[str, str], None] | None = None,
    map_chunks: ChunkMap | None = None,
) -> RoundReport:
    """One round of Algorithm 1 over an :class:`ArrayPool`: rectify, ClusterMargin, persist.

    Every input may be a memory-mapped array; it is read ``chunk`` rows at a time. Phases already
    committed for ``round_no`` are skipped, so calling it again after a crash resumes the round.

    Args:
        pool: The pool (its ``state`` says which images are candidates).
        round_no: The round.
        top5: The round model's five best classes per image (``(N, 5)``, model class indices).
        top5_probs: Their probabilities (``(N, 5)``, best first).
        embeddings: The model's embedding per image (``(N, D)``).
        related: ``related[q, c]``: model class ``c`` is in the related set of query concept ``q``
            (``(len(pool.concepts), classes)``; see ``POST /related``).
        budget: Images to sample.
        margin_factor: Lowest-margin candidates kept before the cluster round-robin, x ``budget``.
        clusters: k-means clusters (faiss), learnt on ``sample_for_clusters`` random candidates.
        chunk: Rows per chunk.
        seed: Seeds the k-means sample and the round-robin order.
        hook: ``hook(phase, step)`` passed to :meth:`ArrayPool.commit` (crash tests).
        map_chunks: Runs the per-chunk work: called as ``map_chunks("rectify", ranges)`` (each
            result :func:`rectify_chunk` of the range) and ``map_chunks("lowest_margin", ranges)``
            (each :func:`lowest_margin_chunk` with ``want = margin_factor x budget``). Default: a
            loop here. A distributed map gives identical decisions, because the merge is.

    Returns:
        The round's report.
    """
    import faiss

    n = len(pool)
    want = int(np.ceil(margin_factor * budget))
    ranges = chunk_ranges(n, chunk)

    def local(kind: str, spans: list[tuple[int, int]]) -> list[Any]:
        if kind == "rectify":
            return [rectify_chunk(pool.state, pool.queries, top5, related, a, b) for a, b in spans]
        return [lowest_margin_chunk(pool.state, top5_probs, a, b, want) for a, b in spans]

    run = map_chunks or local
    step: Callable[[str], None] | None = None
    if not pool.done(round_no, "rectify"):
        dropped = run("rectify", ranges)
        out = np.concatenate(dropped) if dropped else np.zeros(0, np.int64)
        step = (lambda s: hook("rectify", s)) if hook else None
        pool.commit(round_no, "rectify", out, DISCARDED, {"discarded": int(len(out))}, hook=step)
    if not pool.done(round_no, "sample"):
        parts = run("lowest_margin", ranges)
        candidates = sum(int(c) for _, _, c in parts)
        best_pos, _ = _lowest(
            np.concatenate([p for p, _, _ in parts] or [np.zeros(0, np.int64)]),
            np.concatenate([m for _, m, _ in parts] or [np.zeros(0, np.float32)]),
            want,
        )
        rng = np.random.default_rng([seed, round_no])
        k = max(1, min(clusters, len(best_pos) // 4 or 1))
        labels = np.zeros(len(best_pos), dtype=np.int64)
        if len(best_pos) > k:
            train_pos = np.sort(
                rng.choice(best_pos, size=min(sample_for_clusters, len(best_pos)), replace=False)
            )
            x = np.ascontiguousarray(np.asarray(embeddings[train_pos], dtype=np.float32))
            km = faiss.Kmeans(x.shape[1], k, niter=10, seed=seed, verbose=False)
            km.train(x)
            order = np.sort(best_pos)
            vectors = np.ascontiguousarray(np.asarray(embeddings[order], dtype=np.float32))
            _, assigned = km.index.search(vectors, 1)
            cluster_of = dict(zip(order.tolist(), assigned[:, 0].tolist(), strict=True))
            labels = np.array([cluster_of[int(p)] for p in best_pos], dtype=np.int64)
        chosen = round_robin(best_pos, labels, budget, rng).tolist()
        step = (lambda s: hook("sample", s)) if hook else None
        info = {"candidates": candidates, "sampled": len(chosen), "clusters": int(k)}
        pool.commit(round_no, "sample", np.array(sorted(chosen), dtype=np.int64), SAMPLED, info, hook=step)
    phases = {p["phase"]: p["info"] for p in pool.phases() if p["round"] == round_no}
    return RoundReport(
        round=round_no,
        candidates=int(phases["sample"]["candidates"]),
        discarded=int(phases["rectify"]["discarded"]),
        sampled=int(phases["sample"]["sampled"]),
        clusters=int(phases["sample"]["clusters"]),
    )


class ChunkWorker:
    """The ``map_batches`` callable: opens the arrays once per Ray worker, then does the chunk work
    of each row (``start``, ``stop``) of a batch; results travel as raw bytes."""

    def __init__(self, folder: str, kind: str, want: int) -> None:
        base = Path(folder)
        self.kind, self.want = kind, want
        self.state = np.load(base / "state" / "state.npy", mmap_mode="r")
        self.queries = np.load(base / "state" / "queries.npy", mmap_mode="r")
        self.top5 = np.load(base / "top5.npy", mmap_mode="r")
        self.probs = np.load(base / "top5_probs.npy", mmap_mode="r")
        self.related = np.load(base / "related.npy")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        out: dict[str, list[Any]] = {"start": [], "pos": [], "margin": [], "open": []}
        for start, stop in zip(batch["start"].tolist(), batch["stop"].tolist(), strict=True):
            if self.kind == "rectify":
                pos = rectify_chunk(self.state, self.queries, self.top5, self.related, start, stop)
                margin, n_open = np.zeros(0, np.float32), 0
            else:
                pos, margin, n_open = lowest_margin_chunk(self.state, self.probs, start, stop, self.want)
            out["start"].append(start)
            out["pos"].append(pos.astype(np.int64).tobytes())
            out["margin"].append(margin.astype(np.float32).tobytes())
            out["open"].append(n_open)
        return {k: np.array(v, dtype=object if k in ("pos", "margin") else np.int64) for k, v in out.items()}


def ray_chunk_map(folder: Path, want: int, concurrency: int = 2) -> ChunkMap:
    """A :data:`~bamboo.sdk.pool.ChunkMap` that runs each chunk as a Ray Data task."""
    import ray  # the optional extra: pip install 'bamboo-labels[ray]'

    def run(kind: str, ranges: list[tuple[int, int]]) -> list[Any]:
        ds = ray.data.from_items([{"start": a, "stop": b} for a, b in ranges])
        rows = ds.map_batches(
            ChunkWorker,
            fn_constructor_kwargs={"folder": str(folder), "kind": kind, "want": want},
            batch_size=1,
            concurrency=concurrency,
        ).take_all()
        rows.sort(key=lambda r: int(r["start"]))  # the merge wants range order
        if kind == "rectify":
            return [np.frombuffer(r["pos"], dtype=np.int64) for r in rows]
        return [
            (
                np.frombuffer(r["pos"], dtype=np.int64),
                np.frombuffer(r["margin"], dtype=np.float32),
                int(r["open"]),
            )
            for r in rows
        ]

    return run
