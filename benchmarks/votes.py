"""Adaptive vote collection with Dawid-Skene EM against fixed 5 votes, on real data.

Data: scikit-learn's handwritten digits (1,797 real 8x8 images, 10 classes). A machine model
(logistic regression trained on ``--train`` labelled digits) gives the per-image prior on the rest.
Simulated workers with class-structured noise: each worker's accuracy is drawn from
``U(--min-acc, --max-acc)`` and its mistakes go to classes whose mean images are close (3 <-> 8...).

Prints, on the same images and workers:
* fixed 5 votes per image (random distinct workers): 3-of-5 majority, plurality, and EM (+prior);
* adaptive: one vote at a time from the best-estimated free worker, EM with the machine prior,
  stop when the posterior risk < ``--risk``: accuracy and mean votes per image (the baseline is the
  fixed 5 votes: the ratio of votes is printed).

Usage: ``python benchmarks/votes.py [--workers 20] [--risk 0.05] [--seed 0]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from bamboo.sdk.votes import DawidSkene, SimulatedWorkers, annotate_adaptively, majority_vote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _options import options  # noqa: E402


def main() -> None:
    args = options(__doc__, workers=20, min_acc=0.55, max_acc=0.9, train=100, risk=0.05, seed=0)
    rng = np.random.default_rng(args.seed)
    x, y = load_digits(return_X_y=True)
    order = rng.permutation(len(y))
    train, pool = order[: args.train], order[args.train :]
    model = LogisticRegression(max_iter=2000).fit(x[train], y[train])
    prior = model.predict_proba(x[pool])
    truth = y[pool]
    n, k = len(pool), 10
    means = np.stack([x[y == c].mean(axis=0) for c in range(k)])
    dist = ((means[:, None] - means[None]) ** 2).sum(axis=2)
    similarity = np.exp(-dist / np.median(dist))
    accuracies = rng.uniform(args.min_acc, args.max_acc, args.workers)
    crowd = SimulatedWorkers.structured(accuracies, similarity, seed=args.seed)
    print(
        f"{n} digits to label, machine prior from {args.train} labelled (accuracy "
        f"{(prior.argmax(1) == truth).mean():.3f}); {args.workers} workers, accuracy "
        f"U({args.min_acc}, {args.max_acc}), structured noise"
    )

    def ask(items: np.ndarray, workers: np.ndarray) -> np.ndarray:
        return crowd.answer(items, workers, truth)

    items = np.repeat(np.arange(n), 5)
    workers = np.concatenate([rng.choice(args.workers, 5, replace=False) for _ in range(n)])
    answers = ask(items, workers)
    maj = majority_vote(items, answers, n, k, quorum=3)
    plural = majority_vote(items, answers, n, k, quorum=1)
    em = DawidSkene(k).fit(items, workers, answers, n, args.workers)
    em_prior = DawidSkene(k).fit(items, workers, answers, n, args.workers, prior=prior)
    print("fixed 5 votes per image (5.00 votes/image):")
    print(f"  3-of-5 majority: accuracy {(maj == truth).mean():.3f} ({(maj < 0).mean():.1%} undecided)")
    print(f"  plurality:       accuracy {(plural == truth).mean():.3f}")
    print(f"  EM:              accuracy {(em.labels_ == truth).mean():.3f}")
    print(f"  EM + prior:      accuracy {(em_prior.labels_ == truth).mean():.3f}")
    for risk in sorted({args.risk, 0.01, 0.002}, reverse=True):
        started = time.perf_counter()
        result = annotate_adaptively(ask, n, args.workers, k, prior=prior, risk=risk, seed=args.seed)
        took = time.perf_counter() - started
        acc = (result.labels == truth).mean()
        print(
            f"adaptive EM + prior (risk < {risk}): accuracy {acc:.3f} with {result.mean_votes:.2f} "
            f"votes/image ({5 / result.mean_votes:.1f}x fewer than fixed 5; {took:.1f} s)"
        )
    estimated = DawidSkene(k).fit(result.items, result.workers, result.answers, n, args.workers, prior)
    corr = np.corrcoef(estimated.worker_accuracy(), accuracies)[0, 1]
    print(f"worker accuracy estimates vs the simulated ones: correlation {corr:.2f}")


if __name__ == "__main__":
    main()
