"""The study's runs: every seed and arm through :class:`~bamboo.sdk.loop.ActiveLoop` (resumable), and
the results body written with its reports.

Per seed and arm, the loop (the SDK's Algorithm 1, state in SQLite, resumable) runs a cold start
(``cold_start`` random images per query) and ``rounds`` rounds of ``budget`` images. The learner is
logistic regression on frozen EfficientNet-Lite0 (ImageNet-1K) features (PCA to ``pca`` dimensions, also
the embeddings CoreSet and ClusterMargin use). Annotation is ``votes`` votes from a crowd of noisy
simulated workers, accepted at ``quorum`` (``sdk.votes.majority_vote``), or with ``annotation=online``
as many answers per image as its posterior risk needs (``sdk.online.label_online``, #22); a worker says
yes to an image when it is in distribution and truly of its query class, and is right with its own
accuracy (uniform in ``worker_accuracy``). Accepted images join the training set with their query's
label (accepted OOD images are label noise).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bamboo.atomic import write_text_atomic
from bamboo.training.study._simulation import Crowd, Learner, OnlineCrowd, RoundLearner, read_answers
from bamboo.training.study.arms import Arm, arms
from bamboo.training.study.config import KINDS, StudyConfig
from bamboo.training.study.features import cached_features, imagenet_keep
from bamboo.training.study.pool import Candidates, build_candidates, draw_pool
from bamboo.training.study.report import plot, rectifier_quality, summarise

__all__ = ["run_study"]

Array = npt.NDArray[Any]


def run_study(
    cfg: StudyConfig, progress: Callable[[str], None] | None = None, *, data_dir: Path | None = None
) -> dict[str, Any]:
    """Run (or resume) every seed and arm; writes results.json, table.md and fig6.png under ``cfg.out``.

    The config is checked whole when it is made (:class:`StudyConfig`), and the candidates are built
    before ``cfg.out`` is created, so a bad setting leaves nothing behind.

    Args:
        cfg: The study's settings.
        progress: Called with a line of progress now and then.
        data_dir: Folder of the CIFAR-10 ``.npz`` files (the CLI passes the shared data folder); None for
            no CIFAR-10.

    Returns:
        The results body, as written to ``results.json``: ``config``, ``source``, ``rectifiers``,
        ``pool_kinds``, ``rectifier_quality``, timings and ``runs`` (one per seed and arm, per round).

    Raises:
        ConfigurationError: When the source has too few images or CIFAR-10 is asked for and missing.
    """
    say = progress or (lambda _m: None)
    out = Path(cfg.out)
    started = time.perf_counter()
    cand = build_candidates(cfg, data_dir)
    out.mkdir(parents=True, exist_ok=True)
    rectifiers = [r for r in cfg.rectifiers if r != "imagenet" or cand.source == "cifar10"]
    if len(rectifiers) < len(cfg.rectifiers):
        say(f"{cand.source}: no imagenet rectifier (ImageNet has no digit classes)")
    say(f"{cand.source}: {len(cand.images)} candidate images; features (EfficientNet-Lite0) ...")
    feats, test_feats, top5 = cached_features(cand, out)
    t_features = time.perf_counter() - started
    from sklearn.decomposition import PCA

    pca = PCA(cfg.pca, random_state=0).fit(feats)
    emb, test_emb = pca.transform(feats), pca.transform(test_feats)
    scale = float(np.sqrt((emb**2).sum(1).mean()))
    emb, test_emb = emb / scale, test_emb / scale
    keep = imagenet_keep(cand, top5, cfg.levels) if "imagenet" in rectifiers else None
    results: list[dict[str, Any]] = []
    pool_kinds: dict[str, int] = {}
    for seed in cfg.seeds:
        picks = draw_pool(cfg, cand, seed)
        pool_kinds = {
            KINDS[k]: int((cand.kind[picks] == k).sum()) for k in range(len(KINDS))
        }  # same per seed
        for arm in arms(rectifiers, cfg.samplers):
            say(f"seed {seed}: {arm.name}")
            folder = out / "runs" / f"seed{seed}" / arm.folder
            rows = _run_arm(cfg, folder, arm, seed, picks, cand, emb, test_emb, keep)
            results.append({"seed": seed, "sampler": arm.sampler, "rectifier": arm.rectifier, "rounds": rows})
    body = {
        "config": asdict(cfg),
        "source": cand.source,
        "rectifiers": rectifiers,
        "pool_kinds": pool_kinds,
        "rectifier_quality": rectifier_quality(cand, keep) if keep is not None else None,
        "features_s": round(t_features, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "runs": results,
    }
    write_text_atomic(out / "results.json", json.dumps(body, indent=1))
    (out / "table.md").write_text(summarise(body))
    plot(body, out / "fig6.png")
    return body


def _run_arm(
    cfg: StudyConfig,
    folder: Path,
    arm: Arm,
    seed: int,
    picks: Array,
    cand: Candidates,
    emb: Array,
    test_emb: Array,
    keep: Array | None,
    learner: RoundLearner | None = None,
) -> list[dict[str, Any]]:
    """One arm on one pool: the loop's rounds, then per round what was acquired and the test accuracy.

    ``learner`` defaults to logistic regression on ``emb`` (:class:`Learner`); the open-set study passes
    its fine-tuned one.
    """
    from bamboo.sdk.loop import ActiveLoop, PoolImage
    from bamboo.sdk.samplers import make_sampler

    keys = [f"img{i:06d}" for i in picks.tolist()]
    queries = [cand.classes[q] for q in cand.query[picks].tolist()]
    valid = {
        k: bool(cand.kind[i] == 0 and cand.label[i] == cand.query[i])
        for k, i in zip(keys, picks.tolist(), strict=True)
    }
    if learner is None:
        learner = Learner(
            dict(zip(keys, emb[picks], strict=True)), test_emb, cand.test_labels, len(cand.classes)
        )
    query_label = {c: i for i, c in enumerate(cand.classes)}
    crowd = (
        OnlineCrowd(cfg, valid, query_label, seed, folder, learner.feats)
        if cfg.annotation == "online"
        else Crowd(cfg, valid, query_label, seed, folder)
    )
    rectify: Callable[[list[str], list[str], Array], Array] | None = None
    if arm.rectified:
        if arm.rectifier == "imagenet":
            assert keep is not None
            kept = dict(zip(keys, keep[picks].tolist(), strict=True))

            def rectify(ks: list[str], qs: list[str], probs: Array) -> Array:
                return np.array([kept[k] for k in ks])
        else:
            index = {c: i for i, c in enumerate(cand.classes)}

            def rectify(ks: list[str], qs: list[str], probs: Array) -> Array:
                top = np.argsort(-probs, axis=1)[:, : cfg.learner_topk]
                return np.array([index[q] in row for q, row in zip(qs, top.tolist(), strict=True)])

    kwargs = {"clusters": cfg.clusters} if arm.sampler == "cluster-margin" else {}
    loop = ActiveLoop(
        folder,
        sampler=make_sampler(arm.sampler, **kwargs),
        train=learner.train,
        predict=learner.predict,
        annotate=crowd,
        rectify=rectify,
        budget=cfg.budget,
        cold_start=cfg.cold_start,
        seed=seed,
        evaluate=learner.evaluate,
    )
    loop.add_pool([PoolImage(k, q) for k, q in zip(keys, queries, strict=True)])
    reports = loop.run(cfg.rounds + 1)
    from bamboo.sdk.loop import read_annotations, read_pools

    kind_of = dict(zip(keys, cand.kind[picks].tolist(), strict=True))
    sampled_kinds: dict[int, dict[str, int]] = {}
    for round_no, key, _ in read_annotations(folder):
        counts = sampled_kinds.setdefault(round_no, dict.fromkeys(KINDS, 0))
        counts[KINDS[kind_of[key]]] += 1
    labelled_round: dict[int, list[str]] = {}
    label_of: dict[str, int] = {}
    for key, _, state, label, r, _ in read_pools(folder):
        if state == "labeled":
            labelled_round.setdefault(int(r or 0), []).append(key)
            label_of[key] = int(label or 0)
    answers = read_answers(folder)
    rows, valid_total, accepted_total = [], 0, 0
    per_class = np.zeros(len(cand.classes), dtype=np.int64)
    for rep in reports:
        r = rep["round"]
        got = labelled_round.get(r, [])
        np.add.at(per_class, [label_of[k] for k in got], 1)
        valid_total += sum(valid[k] for k in got)
        accepted_total += len(got)
        rows.append(
            {
                "round": r,
                "candidates": rep["rectify"]["candidates"],
                "discarded_ood": rep["rectify"]["discarded"],
                "annotated": rep["annotate"]["annotated"],
                "answers": answers.get(r),  # human answers the round took (None: not recorded)
                "valid_this_round": sum(valid[k] for k in got),
                "valid_acquired": valid_total,
                "accepted_total": accepted_total,
                "sampled_kinds": sampled_kinds.get(r, dict.fromkeys(KINDS, 0)),
                "labelled_per_class": per_class.tolist(),
                "accuracy": rep["train"]["metrics"]["accuracy"],
            }
        )
    return rows
