"""The paper's Algorithm 1 as a resumable loop: rectify, sample, annotate, integrate, retrain.

Every image of the pool has one row in a SQLite file (``pools.sqlite`` in the state folder) with its
state: ``unlabeled``, ``sampled`` (sent for annotation this round), ``labeled`` (with its label)
or ``discarded`` (with the reason: out of distribution, or rejected by the annotators). Each phase
of a round is one SQLite transaction that updates the states and records the phase as done, so a
``kill -9`` at any point loses at most the phase in flight, and :meth:`ActiveLoop.run` resumes
there. Phases are deterministic given the seed and the committed state, so a resumed run ends with
exactly the pools of an uninterrupted one.

Pluggable parts:

* ``train(round, keys, labels, state_dir) -> checkpoint path`` (the training issue supplies real
  ones); the path is recorded with the round;
* ``predict(checkpoint, keys) -> (probs, embeddings)`` of the current model on pool images;
* ``rectify(keys, queries, probs) -> keep mask`` (e.g. :class:`~bamboo.sdk.ood.ClassificationRectifier`
  over the model's top-5); ``None`` keeps everything;
* a :class:`~bamboo.sdk.samplers.Sampler`;
* ``annotate(round, keys, queries) -> list of label or None`` (None: not a valid image of its
  query), or an :class:`Awaiting` when the answers are not in yet: the loop then records the
  phase ``awaiting annotations`` and returns; running it again asks the annotator again.
  :class:`SimulatedOracle`, :class:`~bamboo.sdk.labelstudio.LabelStudioAnnotator` and
  :class:`~bamboo.sdk.tasks.TaskStoreAnnotator`.

Round 0 is the cold start: the public labelled data are inherited, and ``cold_start`` images per
query concept are sampled at random and annotated.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import zlib
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from bamboo.sdk.annotate import AWAITING, Annotate, Awaiting
from bamboo.sdk.samplers import ClusteringSampler, Sampler

__all__ = [
    "AWAITING",
    "PHASES",
    "ActiveLoop",
    "Awaiting",
    "PoolImage",
    "SimulatedOracle",
    "read_annotations",
    "read_pools",
]

PHASES = ("rectify", "sample", "annotate", "integrate", "train")

Train = Callable[[int, list[str], list[int], Path], str]
Predict = Callable[[str, list[str]], tuple[np.ndarray, np.ndarray]]
Rectify = Callable[[list[str], list[str], np.ndarray], np.ndarray]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
    id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, query TEXT NOT NULL,
    state TEXT NOT NULL, label INTEGER, round INTEGER, reason TEXT);
CREATE INDEX IF NOT EXISTS images_state ON images(state);
CREATE TABLE IF NOT EXISTS phases (
    round INTEGER NOT NULL, phase TEXT NOT NULL, at TEXT NOT NULL, info TEXT NOT NULL,
    PRIMARY KEY (round, phase));
CREATE TABLE IF NOT EXISTS clusters (key TEXT PRIMARY KEY, cluster INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS annotations (
    round INTEGER NOT NULL, key TEXT NOT NULL, label INTEGER, PRIMARY KEY (round, key));
CREATE TABLE IF NOT EXISTS awaiting (round INTEGER PRIMARY KEY, at TEXT NOT NULL, info TEXT NOT NULL);
"""


@dataclass(frozen=True)
class PoolImage:
    """One image of the pool.

    Attributes:
        key: Its path or URL.
        query: The query concept it was crawled for.
        label: Its known label (public data), else ``None``.
    """

    key: str  # path or URL
    query: str  # the query concept it was crawled for
    label: int | None = None  # known label (public data)


@dataclass
class SimulatedOracle:
    """An annotator that answers from ground truth (for experiments and tests).

    An image is valid (its true label) only when it is in distribution and truly of its query's
    class; ``noise`` flips a valid answer to "not valid" at random.

    Attributes:
        truth: Image key -> true label, ``None`` for out-of-distribution images.
        query_label: Query concept -> the label it stands for.
        noise: Probability of flipping a valid answer.
        seed: Seeds the flips (per round and image).
    """

    truth: dict[str, int | None]  # key -> true label, None for out-of-distribution images
    query_label: dict[str, int]  # query concept -> the label it stands for
    noise: float = 0.0
    seed: int = 0

    def __call__(self, round_no: int, keys: list[str], queries: list[str]) -> list[int | None]:
        """Per image its label when valid, else ``None`` (never awaits)."""
        out: list[int | None] = []
        for key, query in zip(keys, queries, strict=True):
            label = self.truth.get(key)
            valid = label is not None and label == self.query_label.get(query)
            rng = np.random.default_rng([self.seed, round_no, zlib.crc32(key.encode())])
            if valid and rng.random() < self.noise:
                valid = False
            out.append(label if valid else None)
        return out


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class ActiveLoop:
    """The resumable active-learning loop over one pool, its state in ``state_dir/pools.sqlite``.

    Args:
        state_dir: The loop's folder (created); running again over it resumes.
        sampler: Picks each round's images (round 0 samples at random per query).
        train: ``train(round, keys, labels, state_dir) -> checkpoint path``.
        predict: ``predict(checkpoint, keys) -> (probs, embeddings)`` of the current model.
        annotate: ``annotate(round, keys, queries)``: a label or ``None`` per image, or an
            :class:`~bamboo.sdk.annotate.Awaiting` while the answers are not in.
        rectify: ``rectify(keys, queries, probs) -> keep mask``; ``None`` keeps everything.
        budget: Images sampled per round after the cold start.
        cold_start: Images per query concept sampled at random in round 0.
        seed: Seeds every random choice.
        evaluate: ``evaluate(checkpoint) -> metrics`` (e.g. accuracy on a clean test set), put
            into each round's report.
        on_phase: ``on_phase(round, phase, when)``, called with ``when`` = "start" and "commit"
            (just before the phase's transaction commits): a hook for progress and crash tests.

    Attributes:
        awaiting: What the last :meth:`run` stopped for (``None`` when it did not stop early).
    """

    def __init__(
        self,
        state_dir: str | Path,
        *,
        sampler: Sampler,
        train: Train,
        predict: Predict,
        annotate: Annotate,
        rectify: Rectify | None = None,
        budget: int = 100,
        cold_start: int = 50,
        seed: int = 0,
        evaluate: Callable[[str], dict[str, float]] | None = None,
        on_phase: Callable[[int, str, str], None] | None = None,
    ) -> None:
        self.dir = Path(state_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.dir / "pools.sqlite"
        self.sampler, self.train, self.predict, self.annotate = sampler, train, predict, annotate
        self.rectify, self.budget, self.cold, self.seed = rectify, budget, cold_start, seed
        self.evaluate = evaluate
        self.on_phase = on_phase or (lambda _r, _p, _w: None)
        self.awaiting: Awaiting | None = None  # what the last run stopped for, if it did
        with closing(self._connect()) as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.db_path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        return db

    # --- setup ---------------------------------------------------------------------------------

    def add_pool(self, images: Sequence[PoolImage]) -> int:
        """Add images to the pool (labelled public data become ``labeled``).

        Keys already present are left alone, so adding the same pool twice changes nothing.

        Returns:
            How many images were new.
        """
        rows = [
            (
                i.key,
                i.query,
                "labeled" if i.label is not None else "unlabeled",
                i.label,
                -1 if i.label is not None else None,
            )
            for i in images
        ]
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            before = db.execute("SELECT count(*) FROM images").fetchone()[0]
            db.executemany(
                "INSERT OR IGNORE INTO images (key, query, state, label, round) VALUES (?, ?, ?, ?, ?)", rows
            )
            after = db.execute("SELECT count(*) FROM images").fetchone()[0]
            db.execute("COMMIT")
        return int(after - before)

    # --- the loop ------------------------------------------------------------------------------

    def done(self) -> set[tuple[int, str]]:
        """The committed ``(round, phase)`` pairs."""
        with closing(self._connect()) as db:
            return {(r, p) for r, p in db.execute("SELECT round, phase FROM phases")}

    def run(self, rounds: int, progress: bool = False) -> list[dict[str, Any]]:
        """Run (or resume) rounds ``0 .. rounds - 1``.

        When the annotator answers :class:`~bamboo.sdk.annotate.Awaiting`, the round is recorded as
        ``awaiting annotations`` (in its report and in :attr:`awaiting`) and the run returns early;
        every phase before stays committed, and the next run asks the annotator again.

        Args:
            rounds: How many rounds in all (done ones are skipped).
            progress: Show a progress bar over rounds x phases on stderr.

        Returns:
            The per-round reports (see :meth:`reports`).
        """
        from rich.console import Console
        from rich.progress import Progress

        self.awaiting = None
        todo = [(r, p) for r in range(rounds) for p in PHASES if (r, p) not in self.done()]
        with Progress(console=Console(stderr=True), disable=not progress) as bar:
            task = bar.add_task("active learning", total=len(todo))
            for r, phase in todo:
                bar.update(task, description=f"round {r}: {phase}")
                if phase == "annotate":
                    if not self._annotate(r):
                        bar.update(task, description=f"round {r}: {AWAITING}")
                        break
                else:
                    getattr(self, f"_{phase}")(r)
                bar.advance(task)
        return self.reports()

    def _commit(self, db: sqlite3.Connection, r: int, phase: str, info: dict[str, Any]) -> None:
        db.execute(
            "INSERT INTO phases VALUES (?, ?, ?, ?)", (r, phase, _now(), json.dumps(info, sort_keys=True))
        )
        self.on_phase(r, phase, "commit")
        db.execute("COMMIT")

    def _checkpoint(self, db: sqlite3.Connection, r: int) -> str | None:
        row = db.execute("SELECT info FROM phases WHERE round = ? AND phase = 'train'", (r,)).fetchone()
        return None if row is None else str(json.loads(row[0])["checkpoint"])

    def _unlabeled(self, db: sqlite3.Connection) -> tuple[list[str], list[str]]:
        rows = db.execute("SELECT key, query FROM images WHERE state = 'unlabeled' ORDER BY id").fetchall()
        return [k for k, _ in rows], [q for _, q in rows]

    def _rectify(self, r: int) -> None:
        self.on_phase(r, "rectify", "start")
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            keys, queries = self._unlabeled(db)
            dropped: list[str] = []
            checkpoint = self._checkpoint(db, r - 1)
            if r > 0 and self.rectify is not None and keys and checkpoint:
                probs, _ = self.predict(checkpoint, keys)
                keep = np.asarray(self.rectify(keys, queries, probs), dtype=bool)
                dropped = [k for k, kept in zip(keys, keep.tolist(), strict=True) if not kept]
                db.executemany(
                    "UPDATE images SET state = 'discarded', reason = ?, round = ? WHERE key = ?",
                    [(f"out of distribution (round {r} model)", r, k) for k in dropped],
                )
            self._commit(
                db, r, "rectify", {"candidates": len(keys) - len(dropped), "discarded": len(dropped)}
            )

    def _sample(self, r: int) -> None:
        self.on_phase(r, "sample", "start")
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            keys, queries = self._unlabeled(db)
            rng = np.random.default_rng([self.seed, r])
            if r == 0:  # cold start: cold_start random images per query concept
                by_query: dict[str, list[int]] = {}
                for i, q in enumerate(queries):
                    by_query.setdefault(q, []).append(i)
                picks = sorted(
                    int(i) for q in sorted(by_query) for i in rng.permutation(by_query[q])[: self.cold]
                )
            elif keys:
                checkpoint = self._checkpoint(db, r - 1)
                assert checkpoint is not None, "round r samples with round r-1's model"
                probs, emb = self.predict(checkpoint, keys)
                # each sampler gets only the inputs it declares (the labelled set is embedded only
                # for samplers that start from it)
                needs = self.sampler.needs
                inputs: dict[str, np.ndarray | None] = {}
                if "probs" in needs:
                    inputs["probs"] = probs
                if "embeddings" in needs:
                    inputs["embeddings"] = emb
                if "labeled" in needs:
                    inputs["labeled"] = self._labeled_embeddings(db, checkpoint)
                if "clusters" in needs:
                    inputs["clusters"] = self._clusters(db, keys, emb)
                picks = self.sampler.select(self.budget, **inputs, seed=self.seed * 1000 + r).tolist()
            else:
                picks = []
            chosen = [keys[i] for i in picks]
            db.executemany(
                "UPDATE images SET state = 'sampled', round = ? WHERE key = ?", [(r, k) for k in chosen]
            )
            self._commit(
                db, r, "sample", {"sampled": len(chosen), "sampler": self.sampler.name if r else "cold-start"}
            )

    def _clusters(self, db: sqlite3.Connection, keys: list[str], emb: np.ndarray) -> np.ndarray:
        """The pool's clusters for a sampler that needs them: clustered once (the first time it
        samples, in the same transaction as that round's sample) and read back in later rounds."""
        sampler = cast(ClusteringSampler, self.sampler)
        if db.execute("SELECT count(*) FROM clusters").fetchone()[0] == 0:
            labels = sampler.cluster(emb, seed=self.seed)
            db.executemany("INSERT INTO clusters VALUES (?, ?)", zip(keys, labels.tolist(), strict=True))
        stored = dict(db.execute("SELECT key, cluster FROM clusters").fetchall())
        return np.array([stored.get(k, -1) for k in keys], dtype=np.int64)

    def _labeled_embeddings(self, db: sqlite3.Connection, checkpoint: str) -> np.ndarray | None:
        keys = [k for (k,) in db.execute("SELECT key FROM images WHERE state = 'labeled' ORDER BY id")]
        return self.predict(checkpoint, keys)[1] if keys else None

    def _annotate(self, r: int) -> bool:
        """Ask the annotator; False (with the round recorded as awaiting) when it is not done yet."""
        self.on_phase(r, "annotate", "start")
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT key, query FROM images WHERE state = 'sampled' AND round = ? ORDER BY id", (r,)
            ).fetchall()
            result = self.annotate(r, [k for k, _ in rows], [q for _, q in rows]) if rows else []
            if isinstance(result, Awaiting):
                db.execute("BEGIN IMMEDIATE")
                db.execute(
                    "INSERT OR REPLACE INTO awaiting VALUES (?, ?, ?)",
                    (r, _now(), json.dumps({"phase": AWAITING, "message": result.message})),
                )
                db.execute("COMMIT")
                self.awaiting = result
                return False
            answers = list(result)
            if len(answers) != len(rows):
                raise ValueError(f"the annotator answered {len(answers)} of {len(rows)} images")
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "INSERT OR REPLACE INTO annotations VALUES (?, ?, ?)",
                [(r, k, a) for (k, _), a in zip(rows, answers, strict=True)],
            )
            db.execute("DELETE FROM awaiting WHERE round = ?", (r,))
            valid = sum(a is not None for a in answers)
            self._commit(db, r, "annotate", {"annotated": len(rows), "valid": valid})
        return True

    def _integrate(self, r: int) -> None:
        self.on_phase(r, "integrate", "start")
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            rows = db.execute("SELECT key, label FROM annotations WHERE round = ?", (r,)).fetchall()
            db.executemany(
                "UPDATE images SET state = 'labeled', label = ? WHERE key = ?",
                [(a, k) for k, a in rows if a is not None],
            )
            db.executemany(
                "UPDATE images SET state = 'discarded', reason = ? WHERE key = ?",
                [
                    (f"annotators: not a valid image of its query (round {r})", k)
                    for k, a in rows
                    if a is None
                ],
            )
            valid = sum(a is not None for _, a in rows)
            self._commit(db, r, "integrate", {"labeled": valid, "discarded": len(rows) - valid})

    def _train(self, r: int) -> None:
        self.on_phase(r, "train", "start")
        with closing(self._connect()) as db:
            rows = db.execute("SELECT key, label FROM images WHERE state = 'labeled' ORDER BY id").fetchall()
            checkpoint = self.train(r, [k for k, _ in rows], [int(v) for _, v in rows], self.dir)
            metrics = self.evaluate(str(checkpoint)) if self.evaluate else {}
            db.execute("BEGIN IMMEDIATE")
            info = {"checkpoint": str(checkpoint), "train_size": len(rows), "metrics": metrics}
            self._commit(db, r, "train", info)

    # --- reports -------------------------------------------------------------------------------

    def reports(self) -> list[dict[str, Any]]:
        """Per round: every committed phase's numbers (plus ``awaiting``, with its message, while the
        round waits for annotations), and on the last round the pool sizes per state."""
        with closing(self._connect()) as db:
            info: dict[int, dict[str, Any]] = {}
            for r, phase, info_json in db.execute("SELECT round, phase, info FROM phases ORDER BY round"):
                info.setdefault(r, {"round": r})[phase] = json.loads(info_json)
            for r, at, info_json in db.execute("SELECT round, at, info FROM awaiting ORDER BY round"):
                info.setdefault(r, {"round": r})["awaiting"] = {"at": at, **json.loads(info_json)}
            states = dict(db.execute("SELECT state, count(*) FROM images GROUP BY state").fetchall())
        out = [v for _, v in sorted(info.items())]
        if out:
            out[-1]["pools"] = states
        return out

    def write_report(self, path: str | Path | None = None) -> Path:
        """Write :meth:`reports` as JSON, and beside it a PNG plot of labelled and valid images per round.

        Args:
            path: The JSON file (default: ``report.json`` in the state folder).

        Returns:
            The JSON file's path.
        """
        reports = self.reports()
        target = Path(path) if path else self.dir / "report.json"
        target.write_text(json.dumps(reports, indent=2))
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        done = [r for r in reports if "train" in r]
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(
            [r["round"] for r in done], [r["train"]["train_size"] for r in done], marker="o", label="labelled"
        )
        ax.plot(
            [r["round"] for r in done],
            [r["annotate"]["valid"] for r in done],
            marker="s",
            label="valid this round",
        )
        ax.set_xlabel("round")
        ax.set_ylabel("images")
        ax.legend()
        fig.tight_layout()
        fig.savefig(target.with_suffix(".png"), dpi=100)
        plt.close(fig)
        return target


def read_pools(state_dir: str | Path) -> list[tuple[str, str, str, int | None, int | None, str | None]]:
    """Every image row ``(key, query, state, label, round, reason)`` in key order (for comparisons)."""
    with closing(sqlite3.connect(Path(state_dir) / "pools.sqlite")) as db:
        return [
            tuple(row)  # type: ignore[misc]
            for row in db.execute("SELECT key, query, state, label, round, reason FROM images ORDER BY key")
        ]


def read_annotations(state_dir: str | Path) -> list[tuple[int, str, int | None]]:
    """Every annotated image ``(round, key, label or None)`` in round, key order: what each round sent
    for annotation and the answer."""
    with closing(sqlite3.connect(Path(state_dir) / "pools.sqlite")) as db:
        return [
            (int(r), str(k), None if lab is None else int(lab))
            for r, k, lab in db.execute("SELECT round, key, label FROM annotations ORDER BY round, key")
        ]
