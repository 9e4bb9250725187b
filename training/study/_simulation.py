"""The study's simulated parts: the learner (logistic regression on frozen features) and the crowd of
noisy workers whose votes accept or reject each image."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bamboo.atomic import write_bytes_atomic
from bamboo.training.study.config import StudyConfig

__all__ = ["Crowd", "Learner"]

Array = npt.NDArray[Any]


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


class Crowd:
    """``votes`` noisy workers per image from a crowd of ``workers``; accepted at ``quorum`` yes votes.

    The ``annotate`` callback of :class:`~bamboo.sdk.loop.ActiveLoop`: an accepted image gets its query's
    label, a rejected one None.

    Args:
        cfg: The study's settings (``workers``, ``votes``, ``quorum``, ``worker_accuracy``).
        valid: Pool image key -> whether it is in distribution and truly of its query's class.
        query_label: Query word -> the label it stands for.
        seed: The run's seed (workers' accuracies and every vote follow from it).
    """

    def __init__(
        self, cfg: StudyConfig, valid: dict[str, bool], query_label: dict[str, int], seed: int
    ) -> None:
        # Not sdk.votes.SimulatedWorkers: its random draws differ, and these votes are the study's
        # published numbers; not sdk.loop.SimulatedOracle either: that is one exact (or flipping) oracle.
        rng = np.random.default_rng([seed, 77])
        low, high = cfg.worker_accuracy
        self.accuracy = rng.uniform(low, high, cfg.workers)
        self.cfg, self.valid, self.query_label, self.seed = cfg, valid, query_label, seed

    def __call__(self, round_no: int, keys: list[str], queries: list[str]) -> list[int | None]:
        """The crowd's decision on each image of a round: its query's label, or None."""
        import zlib

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
        return [
            self.query_label[q] if d == 1 else None for d, q in zip(decided.tolist(), queries, strict=True)
        ]
