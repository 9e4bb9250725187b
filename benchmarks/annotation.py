"""Online labelling (#22) against fixed 5 votes per image, side by side on real images.

Tasks, each on the same images and the same simulated people:

* **digits**: scikit-learn's 1,797 handwritten digits, 10 classes, the learner on the raw pixels;
* **CIFAR-10**: the 10,000-image training subset of the team's shared data, the learner on frozen
  EfficientNet-Lite0 (ImageNet-1K) penultimate features, computed once and cached in
  ``~/.cache/bamboo/features``;
* **verification** (the loop's binary task, "Is this a <query>?"): 600 CIFAR-10 images (a study
  loop's cold start plus five rounds of 100), 60 % crawled for their own class and 40 % for another;
  the round model is a logistic regression on 500 other labelled images, the rectifier the paper's
  own variant (keep when the query is in the round model's top 2).

People (``SimulatedWorkers.people``): 20 workers, each with its own accuracy U(0.6, 0.95), per-class
skill and personal confusions that follow the classes' similarity (distance of the class-mean
features), 10 % spammers; for verification ``SimulatedWorkers.yes_no``: 20 % Yes-sayers, 10 %
spammers.

Methods: fixed 5 answers per image from random distinct workers, decided by 3-of-5 majority (no
decision counts as wrong) or by Dawid-Skene EM; ``annotate_adaptively`` (#7: EM with a fixed prior,
1-5 answers); ``label_online`` at several risk thresholds (every answer goes to the most informative
available worker, at most 2x a fair share of the answers per worker).

Prints a table per task and writes the accuracy-vs-answers curve (``--out``, default
``results/annotation/annotation.png``; ``results/`` is git-ignored).

Usage: ``python benchmarks/annotation.py [--tasks digits,cifar10,verification] [--seeds 1,2,3]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cifar_features import cache_digest  # noqa: E402

from bamboo import paths  # noqa: E402
from bamboo.sdk.online import OnlineConfig, label_online, verification_prior  # noqa: E402
from bamboo.sdk.votes import DawidSkene, SimulatedWorkers, annotate_adaptively, majority_vote  # noqa: E402

SHARED = Path(os.environ.get("BAMBOO_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
CIFAR = SHARED / "images" / "cifar10_train_subset_1000pc_from_jpeg.npz"
CACHE = paths.cache_dir("features")
WORKERS = 20


@dataclass
class Row:
    """One method's result on one task."""

    method: str
    accuracy: float
    answers: float  # human answers per image
    note: str = ""


def cifar_features(path: Path = CIFAR) -> tuple[np.ndarray, np.ndarray]:
    """EfficientNet-Lite0 penultimate features of the images in ``path`` and their labels, cached."""
    with np.load(path) as f:
        images, labels = f["images"], f["labels"]
    cache = CACHE / f"{path.stem}-efficientnet_lite0-{cache_digest(images)}.npz"
    if not cache.exists():
        import torch

        from bamboo.atomic import atomic_path
        from bamboo.sdk.models import efficientnet_lite0
        from bamboo.training.probe import extract_features

        torch.set_num_threads(1)
        model = efficientnet_lite0()
        feats = np.concatenate(
            [extract_features(model, images[i : i + 500]) for i in range(0, len(images), 500)]
        )
        cache.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cache, ".tmp.npz") as tmp:
            np.savez(tmp, features=feats.astype(np.float32), labels=labels)
    with np.load(cache) as f:
        return f["features"], f["labels"].astype(np.int64)


def similarity(x: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Class similarity from the distance of class-mean features (people confuse close classes)."""
    means = np.stack([x[y == c].mean(axis=0) for c in range(k)])
    dist = ((means[:, None] - means[None]) ** 2).sum(axis=2)
    return np.asarray(np.exp(-dist / np.median(dist[dist > 0])))


def fixed_five(crowd: SimulatedWorkers, truth: np.ndarray, k: int, seed: int) -> list[Row]:
    """5 answers per image from random distinct workers: 3-of-5 majority and EM."""
    n = len(truth)
    rng = np.random.default_rng(seed + 1)
    items = np.repeat(np.arange(n), 5)
    workers = np.concatenate([rng.choice(crowd.n_workers, 5, replace=False) for _ in range(n)])
    answers = crowd.answer(items, workers, truth)
    maj = majority_vote(items, answers, n, k, quorum=3)
    em = DawidSkene(k).fit(items, workers, answers, n, crowd.n_workers)
    return [
        Row(
            "fixed 5, 3-of-5 majority", float((maj == truth).mean()), 5.0, f"{(maj < 0).mean():.1%} undecided"
        ),
        Row("fixed 5, EM", float((em.labels_ == truth).mean()), 5.0),
    ]


def online_rows(
    crowd: SimulatedWorkers,
    truth: np.ndarray,
    k: int,
    risks: list[float],
    seed: int,
    *,
    features: np.ndarray | None,
    prior: np.ndarray | None = None,
    name: str = "online",
    **verify: object,
) -> list[Row]:
    """``label_online`` at each risk threshold."""
    n = len(truth)
    cap = int(np.ceil(2 * 5 * n / crowd.n_workers))  # 2x a fair share of a fixed-5 budget
    rows = []
    for risk in risks:
        started = time.perf_counter()
        res = label_online(
            lambda i, w: crowd.answer(i, w, truth),
            n,
            crowd.n_workers,
            k,
            features=features,
            prior=prior,
            config=OnlineConfig(risk=risk, max_per_worker=cap, seed=seed),
            **verify,  # type: ignore[arg-type]
        )
        took = time.perf_counter() - started
        alone = res.votes_per_item == 0
        alone_acc = float((res.labels[alone] == truth[alone]).mean()) if alone.any() else float("nan")
        rows.append(
            Row(
                f"{name}, risk < {risk}",
                float((res.labels == truth).mean()),
                res.answers_per_item,
                f"{res.unanswered:.0%} with no human answer ({alone_acc:.3f} right); "
                f"{len(res.history) - 1} rounds, {took:.0f} s",
            )
        )
    return rows


def adaptive_row(
    crowd: SimulatedWorkers, truth: np.ndarray, k: int, prior: np.ndarray | None, seed: int
) -> Row:
    """#7's adaptive EM (1-5 answers per image, a fixed prior, no learner in the loop)."""
    res = annotate_adaptively(
        lambda i, w: crowd.answer(i, w, truth),
        len(truth),
        crowd.n_workers,
        k,
        prior=prior,
        risk=0.05,
        seed=seed,
    )
    return Row("adaptive EM (#7), risk < 0.05", float((res.labels == truth).mean()), res.mean_votes)


def multiclass(name: str, x: np.ndarray, y: np.ndarray, risks: list[float], seed: int) -> list[Row]:
    """Fixed 5 vs online on a multi-class task."""
    k = int(y.max()) + 1
    crowd = SimulatedWorkers.people(similarity(x, y, k), WORKERS, seed=seed)
    skill = np.diagonal(crowd.confusion, axis1=1, axis2=2).mean(axis=1)
    print(
        f"\n## {name}: {len(y):,} images, {k} classes; {WORKERS} workers, mean accuracy {skill.mean():.2f} "
        f"(min {skill.min():.2f}, max {skill.max():.2f})"
    )
    rows = fixed_five(crowd, y, k, seed)
    rows.append(adaptive_row(crowd, y, k, None, seed))
    return rows + online_rows(crowd, y, k, risks, seed, features=x)


def verification(
    x: np.ndarray, y: np.ndarray, risks: list[float], seed: int, n_tasks: int = 600
) -> list[Row]:
    """The loop's binary task with the round model and the rectifier as the prior."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    train, tasks = order[:500], order[500 : 500 + n_tasks]
    k = int(y.max()) + 1
    own = rng.random(n_tasks) < 0.6
    query = np.where(own, y[tasks], (y[tasks] + rng.integers(1, k, n_tasks)) % k)
    truth = (query == y[tasks]).astype(np.int64)
    model = LogisticRegression(max_iter=3000, C=0.05).fit(x[train], y[train])
    probs = model.predict_proba(x[tasks])
    keep = (np.argsort(-probs, axis=1)[:, :2] == query[:, None]).any(axis=1)
    prior = verification_prior(probs, query, keep)
    crowd = SimulatedWorkers.yes_no(WORKERS, seed=seed)
    print(
        f"\n## verification: {n_tasks} tasks ({truth.mean():.0%} Yes), round model on 500 labelled "
        f"images ({(probs.argmax(1) == y[tasks]).mean():.3f} accurate), rectifier keeps {keep.mean():.0%} "
        f"(recall of Yes {keep[truth == 1].mean():.0%}); prior alone right on "
        f"{((prior[:, 1] > 0.5) == truth).mean():.3f}; workers: 14 careful, 4 Yes-sayers, 2 spammers"
    )
    rows = fixed_five(crowd, truth, 2, seed)
    rows.append(adaptive_row(crowd, truth, 2, prior, seed))
    rows += online_rows(crowd, truth, 2, risks, seed, features=None, prior=prior, name="online, prior only")
    rows += online_rows(
        crowd, truth, 2, risks, seed, features=x[tasks], prior=prior, name="online + learner (query-blind)"
    )
    asked = {"queries": query, "query_classes": k}
    rows += online_rows(
        crowd, truth, 2, risks, seed, features=None, prior=prior, name="online, calibrated prior", **asked
    )
    rows += online_rows(
        crowd, truth, 2, risks, seed, features=x[tasks], prior=prior, name="online + query learner", **asked
    )
    return rows + online_rows(
        crowd,
        truth,
        2,
        risks,
        seed,
        features=x[tasks],
        prior=prior,
        name="online + query learner + labelled set",
        labelled=(x[train], y[train]),
        **asked,
    )


def table(rows: list[Row]) -> None:
    """Print rows as a markdown table with the saving against fixed 5."""
    print("| method | accuracy | human answers / image | fewer than fixed 5 | note |")
    print("|---|---|---|---|---|")
    for r in rows:
        saving = 5 / max(r.answers, 1e-9)
        print(f"| {r.method} | {r.accuracy:.3f} | {r.answers:.2f} | {saving:.1f}x | {r.note} |")


def plot(results: dict[str, list[Row]], out: Path) -> None:
    """Accuracy against human answers per image, one panel per task."""
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: no figure")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 4), squeeze=False)
    for ax, (task, rows) in zip(axes[0], results.items(), strict=True):
        curves: dict[str, list[tuple[float, float]]] = {}
        for r in rows:
            if ", risk < " in r.method:
                curves.setdefault(r.method.split(", risk < ")[0], []).append((r.answers, r.accuracy))
        for name, pts in curves.items():
            ax.plot(*zip(*sorted(pts), strict=True), "s--" if "prior" in name else "o-", label=name)
        for r in (r for r in rows if ", risk < " not in r.method):
            ax.plot(r.answers, r.accuracy, "x" if "fixed" in r.method else "^", markersize=9, label=r.method)
        ax.set_title(task)
        ax.set_xlabel("human answers per image")
        ax.set_ylabel("accuracy")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    print(f"\nfigure: {out}")


def mean_rows(per_seed: list[list[Row]]) -> list[Row]:
    """One row per method: mean accuracy and answers over the seeds, their spread in the note."""
    out = []
    for rows in zip(*per_seed, strict=True):
        acc = np.array([r.accuracy for r in rows])
        ans = np.array([r.answers for r in rows])
        spread = f"acc. ± {acc.std():.3f}, answers ± {ans.std():.2f} over {len(rows)} seeds"
        out.append(Row(rows[0].method, float(acc.mean()), float(ans.mean()), spread))
    return out


def main() -> None:
    """Run the tasks for every seed and print the tables (per seed, then the mean over seeds)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="digits,cifar10,verification")
    parser.add_argument("--risks", default="0.2,0.1,0.05,0.02")
    parser.add_argument("--seeds", default="0", help="comma-separated; several: the mean and spread")
    parser.add_argument("--out", type=Path, default=Path("results/annotation/annotation.png"))
    args = parser.parse_args()
    risks = [float(r) for r in args.risks.split(",")]
    tasks = args.tasks.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    runs: dict[str, list[list[Row]]] = {}
    started = time.perf_counter()
    for seed in seeds:
        print(f"\n# seed {seed}")
        if "digits" in tasks:
            x, y = load_digits(return_X_y=True)
            runs.setdefault("digits", []).append(multiclass("digits", x, y.astype(np.int64), risks, seed))
            table(runs["digits"][-1])
        if "cifar10" in tasks or "verification" in tasks:
            x, y = cifar_features()
            if "cifar10" in tasks:
                runs.setdefault("CIFAR-10", []).append(multiclass("CIFAR-10", x, y, risks, seed))
                table(runs["CIFAR-10"][-1])
            if "verification" in tasks:
                runs.setdefault("verification (600 tasks)", []).append(verification(x, y, risks, seed))
                table(runs["verification (600 tasks)"][-1])
    results = {task: mean_rows(per_seed) for task, per_seed in runs.items()}
    if len(seeds) > 1:
        for task, rows in results.items():
            print(f"\n## {task}: mean over seeds {args.seeds}")
            table(rows)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    plot(results, args.out)


if __name__ == "__main__":
    main()
