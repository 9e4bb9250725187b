"""The study's simulated parts: the learner (logistic regression on frozen features) and the crowd of
noisy workers whose votes accept or reject each image, asked a fixed number of times per image
(:class:`Crowd`) or online, as often as each image's posterior risk needs (:class:`OnlineCrowd`, #22)."""

from __future__ import annotations

import json
import pickle
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bamboo.atomic import write_bytes_atomic, write_text_atomic
from bamboo.training.study.config import StudyConfig

__all__ = ["Crowd", "Learner", "OnlineCrowd", "RoundLearner", "read_answers"]

#: The file in an arm's state folder that keeps the human answers each round took.
ANSWERS_FILE = "answers.json"


def read_answers(folder: Path) -> dict[int, int]:
    """Human answers per round recorded in an arm's state folder (empty when none)."""
    path = folder / ANSWERS_FILE
    return {int(r): int(n) for r, n in json.loads(path.read_text()).items()} if path.exists() else {}


def _record_answers(folder: Path | None, round_no: int, answers: int) -> None:
    if folder is None:
        return
    counts = read_answers(folder)
    counts[round_no] = answers
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / ANSWERS_FILE, json.dumps(counts))


Array = npt.NDArray[Any]


class RoundLearner(Protocol):
    """What an arm's loop needs of a learner: the ``train``, ``predict`` and ``evaluate`` callbacks of
    :class:`~bamboo.sdk.loop.ActiveLoop`, and the pool's feature vectors (the online crowd's prior)."""

    feats: dict[str, Array]

    def train(self, round_no: int, keys: list[str], labels: list[int], folder: Path) -> str: ...

    def predict(self, checkpoint: str, keys: list[str]) -> tuple[Array, Array]: ...

    def evaluate(self, checkpoint: str) -> dict[str, float]: ...


class Learner:
    """Logistic regression on PCA'd features; checkpoints are pickles in the run folder.

    The three methods are the ``train``, ``predict`` and ``evaluate`` callbacks of
    :class:`~bamboo.sdk.loop.ActiveLoop`.

    Args:
        feats: Pool image key -> its feature vector.
        test_x: Test features.
        test_y: Test labels.
        n_classes: Number of classes.
    """

    def __init__(self, feats: dict[str, Array], test_x: Array, test_y: Array, n_classes: int) -> None:
        self.feats, self.test_x, self.test_y, self.n = feats, test_x, test_y, n_classes

    def train(self, round_no: int, keys: list[str], labels: list[int], folder: Path) -> str:
        """Fit on the labelled images; returns the checkpoint's path."""
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(max_iter=1000, C=1.0).fit(np.stack([self.feats[k] for k in keys]), labels)
        path = folder / f"model-{round_no}.pkl"
        return str(write_bytes_atomic(path, pickle.dumps(model)))

    def _probs(self, model: Any, x: Array) -> Array:
        probs = np.zeros((len(x), self.n))
        probs[:, model.classes_] = model.predict_proba(x)
        return probs

    def predict(self, checkpoint: str, keys: list[str]) -> tuple[Array, Array]:
        """Class probabilities (over every class) and embeddings of the images ``keys``."""
        model = pickle.loads(Path(checkpoint).read_bytes())
        x = np.stack([self.feats[k] for k in keys])
        return self._probs(model, x), x

    def evaluate(self, checkpoint: str) -> dict[str, float]:
        """Test accuracy of a checkpoint."""
        model = pickle.loads(Path(checkpoint).read_bytes())
        return {"accuracy": float((self._probs(model, self.test_x).argmax(1) == self.test_y).mean())}


@dataclass(eq=False)
class Crowd:
    """``votes`` noisy workers per image from a crowd of ``workers``; accepted at ``quorum`` yes votes.

    The ``annotate`` callback of :class:`~bamboo.sdk.loop.ActiveLoop`: an accepted image gets its query's
    label, a rejected one None.

    Args:
        cfg: The study's settings (``workers``, ``votes``, ``quorum``, ``worker_accuracy``).
        valid: Pool image key -> whether it is in distribution and truly of its query's class.
        query_label: Query word -> the label it stands for.
        seed: The run's seed (workers' accuracies and every vote follow from it).
        folder: The arm's state folder, where the answers each round took are recorded.
    """

    cfg: StudyConfig
    valid: dict[str, bool]
    query_label: dict[str, int]
    seed: int
    folder: Path | None = None
    accuracy: Array = field(init=False, repr=False)  # each worker's, drawn from cfg.worker_accuracy

    def __post_init__(self) -> None:
        # Not sdk.votes.SimulatedWorkers: its random draws differ, and these votes are the study's
        # published numbers; not sdk.loop.SimulatedOracle either: that is one exact (or flipping) oracle.
        rng = np.random.default_rng([self.seed, 77])
        low, high = self.cfg.worker_accuracy
        self.accuracy = rng.uniform(low, high, self.cfg.workers)

    def __call__(self, round_no: int, keys: list[str], queries: list[str]) -> list[int | None]:
        """The crowd's decision on each image of a round: its query's label, or None."""
        from bamboo.sdk.votes import majority_vote

        items, answers = [], []
        for i, key in enumerate(keys):
            rng = np.random.default_rng([self.seed, round_no, zlib.crc32(key.encode())])
            who = rng.choice(self.cfg.workers, self.cfg.votes, replace=False)
            right = rng.random(self.cfg.votes) < self.accuracy[who]
            yes = np.where(right, self.valid[key], not self.valid[key])
            items += [i] * self.cfg.votes
            answers += yes.astype(int).tolist()
        decided = majority_vote(np.array(items), np.array(answers), len(keys), 2, quorum=self.cfg.quorum)
        _record_answers(self.folder, round_no, len(answers))
        return [
            self.query_label[q] if d == 1 else None for d, q in zip(decided.tolist(), queries, strict=True)
        ]


@dataclass(eq=False)
class OnlineCrowd(Crowd):
    """The same workers asked online (#22): a round's images go through
    :func:`bamboo.sdk.online.label_online` as verification tasks, each image getting 0 to ``votes``
    answers from the workers whose answers lower its risk most (each worker at most twice a fair
    share of a fixed-votes budget), decided once its posterior risk is below ``annotation_risk``.

    The learner behind the prior is a multi-class model on the images' features over the query
    classes, trained on the round's answers and on the loop's labelled set so far (read from the
    state folder). A worker's answer about an image is fixed by the seed, the round, the image and the
    worker, and right with that worker's accuracy.

    Args:
        cfg: The study's settings.
        valid: Pool image key -> whether it is in distribution and truly of its query's class.
        query_label: Query word -> the label it stands for.
        seed: The run's seed.
        folder: The arm's state folder (the loop's ``pools.sqlite`` and the answers record).
        feats: Pool image key -> its feature vector.
    """

    feats: dict[str, Array] = field(default_factory=dict)

    def _labelled(self) -> tuple[Array, Array] | None:
        from bamboo.sdk.loop import read_pools

        if not (self.folder and (self.folder / "pools.sqlite").exists()):
            return None
        rows = [
            (k, int(lab))
            for k, _, state, lab, _, _ in read_pools(self.folder)
            if state == "labeled" and lab is not None
        ]
        if not rows:
            return None
        return np.stack([self.feats[k] for k, _ in rows]), np.array([lab for _, lab in rows])

    def __call__(self, round_no: int, keys: list[str], queries: list[str]) -> list[int | None]:
        """The crowd's decision on each image of a round: its query's label, or None."""
        from bamboo.sdk.online import OnlineConfig, label_online

        truth = np.array([self.valid[k] for k in keys], dtype=np.int64)
        crc = [zlib.crc32(k.encode()) for k in keys]

        def ask(items: Array, workers: Array) -> Array:
            out = np.empty(len(items), dtype=np.int64)
            for j, (i, w) in enumerate(zip(items.tolist(), workers.tolist(), strict=True)):
                u = np.random.default_rng([self.seed, round_no, crc[i], w]).random()
                out[j] = truth[i] if u < self.accuracy[w] else 1 - truth[i]
            return out

        res = label_online(
            ask,
            len(keys),
            self.cfg.workers,
            2,
            features=np.stack([self.feats[k] for k in keys]),
            queries=np.array([self.query_label[q] for q in queries]),
            query_classes=max(self.query_label.values()) + 1,
            labelled=self._labelled(),
            config=OnlineConfig(
                risk=self.cfg.annotation_risk,
                max_votes=self.cfg.votes,
                max_per_worker=int(np.ceil(2 * self.cfg.votes * len(keys) / self.cfg.workers)),
                batch=max(10, len(keys) // 10),
                dims=min(32, len(keys) // 2),
                seed=self.seed + round_no,
            ),
        )
        _record_answers(self.folder, round_no, len(res.items))
        return [
            self.query_label[q] if d == 1 else None for d, q in zip(res.labels.tolist(), queries, strict=True)
        ]
