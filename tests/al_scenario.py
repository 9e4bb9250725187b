"""A small, real active-learning scenario (scikit-learn digits) for the loop tests; also runnable as
``python tests/al_scenario.py STATE_DIR SAMPLER [ROUND:PHASE:WHEN]`` to be killed at that point."""

from __future__ import annotations

import os
import pickle
import signal
import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from bamboo.sdk.loop import ActiveLoop, PoolImage, SimulatedOracle
from bamboo.sdk.samplers import make_sampler

X, Y = load_digits(return_X_y=True)
KEYS = [f"digits/{i}.png" for i in range(len(Y))]
FEATURES = dict(zip(KEYS, X / 16.0, strict=True))


def pool(seed: int = 0) -> tuple[list[PoolImage], dict[str, int | None]]:
    """Public labelled data (100), and a pool where 30 % are out of distribution: crawled for a
    query word they do not show (semantic shift)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(Y))
    images, truth = [], {}
    for n, i in enumerate(order.tolist()):
        key, label = KEYS[i], int(Y[i])
        if n < 100:
            images.append(PoolImage(key, str(label), label))
        else:
            ood = rng.random() < 0.3
            query = str((label + 1 + rng.integers(9)) % 10) if ood else str(label)
            images.append(PoolImage(key, query))
        truth[key] = label
    return images, truth


def train(round_no: int, keys: list[str], labels: list[int], folder: Path) -> str:
    model = LogisticRegression(max_iter=500).fit(np.stack([FEATURES[k] for k in keys]), labels)
    path = folder / f"model-{round_no}.pkl"
    tmp = path.with_suffix(".part")
    tmp.write_bytes(pickle.dumps(model))
    os.replace(tmp, path)
    return str(path)


def predict(checkpoint: str, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    model = pickle.loads(Path(checkpoint).read_bytes())
    feats = np.stack([FEATURES[k] for k in keys])
    probs = np.zeros((len(keys), 10))
    probs[:, model.classes_] = model.predict_proba(feats)
    return probs, feats


def rectify(keys: list[str], queries: list[str], probs: np.ndarray) -> np.ndarray:
    top3 = np.argsort(-probs, axis=1)[:, :3]
    return np.array([int(q) in row for q, row in zip(queries, top3.tolist(), strict=True)])


def evaluate(checkpoint: str) -> dict[str, float]:
    """Accuracy on all 1,797 digits (the scenario has no held-out clean test set)."""
    model = pickle.loads(Path(checkpoint).read_bytes())
    return {"accuracy": float((model.predict(X / 16.0) == Y).mean())}


def make_loop(state_dir: Path, sampler: str, crash_at: str | None = None) -> ActiveLoop:
    images, truth = pool()
    oracle = SimulatedOracle(truth, {str(c): c for c in range(10)})

    def on_phase(r: int, phase: str, when: str) -> None:
        if crash_at == f"{r}:{phase}:{when}":
            os.kill(os.getpid(), signal.SIGKILL)

    kwargs = {"clusters": 20} if sampler == "cluster-margin" else {}
    loop = ActiveLoop(
        state_dir,
        sampler=make_sampler(sampler, **kwargs),
        train=train,
        predict=predict,
        annotate=oracle,
        rectify=rectify,
        budget=60,
        cold_start=5,
        seed=0,
        evaluate=evaluate,
        on_phase=on_phase,
    )
    loop.add_pool(images)
    return loop


if __name__ == "__main__":
    make_loop(Path(sys.argv[1]), sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None).run(4)
