"""The active-annotation study on an open-set protocol (#34): a simulated crawl in which every pool image
carries the task query it was crawled for, and a mismatch ratio of the pool shows classes outside the
task, as in open-set active learning (CCAL, ICCV 2021; MQ-Net, NeurIPS 2022).

CIFAR-10 is split into task classes (``known``, the first six by default) and the rest. Per mismatch ratio
and seed, a pool of ``pool`` images is drawn: ``round(pool * ratio)`` from the non-task classes, the rest
from the task classes. A task image carries its own class's query; a non-task image carries a task query
drawn at random (what a crawl for "cat" returns when it returns a truck). The clean test set is the task
classes' CIFAR-10 test images.

Arms: every sampler without and with rectification; rectification ``imagenet`` keeps an image when
EfficientNet-Lite0's ImageNet-1K top-5 meets the related set of its query's concept under the default
rule (:data:`~bamboo.graph.taxonomy.related.DEFAULT_RULE`): the paper's per-query rule with the label
system's related sets; ``learner`` (optional) is the round model's top-k over the task classes. Learners:
``frozen`` (logistic regression on frozen Lite0 features, as :mod:`.runner`) and ``finetune``
(:class:`~bamboo.training.study.finetune.FineTuneLearner`). The crowd, the loop and the per-round records
are the study's own (:func:`bamboo.training.study.runner._run_arm`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bamboo.atomic import write_text_atomic
from bamboo.errors import ConfigurationError
from bamboo.training.overrides import parse_overrides
from bamboo.training.study.arms import arms
from bamboo.training.study.config import CIFAR10_CONCEPTS, SAMPLERS, StudyConfig
from bamboo.training.study.pool import Candidates

__all__ = [
    "LEARNERS",
    "OpenSetConfig",
    "build_openset_candidates",
    "draw_openset_pool",
    "openset_config_from",
    "run_openset",
]

Array = npt.NDArray[Any]

#: The learners an open-set run can use.
LEARNERS = ("frozen", "finetune")
#: CIFAR-10 training images per class in the shared subset.
PER_CLASS = 1000


@dataclass(frozen=True)
class OpenSetConfig:
    """Every setting of the open-set study; checked whole when made.

    Attributes:
        out: Output folder (results.json, table.md, openset.png, run states).
        ratios: Mismatch ratios: the share of each pool from non-task classes, each in (0, 1).
        seeds: One pool per ratio and seed, the same for every arm and learner.
        known: The task classes (CIFAR-10 names); the other CIFAR-10 classes are the mismatch.
        samplers: Sampler names, each an arm without and with each rectifier.
        rectifiers: ``imagenet`` (the per-query ImageNet rule) and/or ``learner``.
        learners: ``frozen`` and/or ``finetune``.
        pool: Images in each pool.
        cold_start: Random images per task query in round 0.
        budget: Images sent for annotation per round.
        rounds: Active rounds after the cold start.
        test: CIFAR-10 test images drawn (the task classes' are kept).
        pca: Dimensions of the frozen learner's features.
        votes, quorum, workers, worker_accuracy: The simulated crowd (as :class:`StudyConfig`).
        learner_topk: Top-k of the round model for the learner rectifier.
        clusters: ClusterMargin's clusters.
        finetune_size: Input side for the fine-tuned learner's feature maps.
        finetune_epochs: Its epochs per round.
        threads: Torch threads while the arms run; 0 leaves torch's default, one per core (on a shared
            two-core machine those two threads wait on each other: a fine-tuned arm took about 4 times
            as long as on one thread).
        per_class: Candidate images per CIFAR-10 class (at most the shared subset's 1,000).

    Raises:
        ConfigurationError: One line naming every bad setting.

    >>> OpenSetConfig(ratios=(0.2, 0.8)).ratios
    (0.2, 0.8)
    >>> OpenSetConfig(ratios=(1.0,), known=("cat", "cow"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    bamboo.errors.ConfigurationError: ratios must be in (0, 1), got 1.0; unknown CIFAR-10 class(es) cow...
    """

    out: str = "results/study-openset"
    ratios: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8)
    seeds: tuple[int, ...] = (0, 1, 2)
    known: tuple[str, ...] = ("airplane", "automobile", "bird", "cat", "deer", "dog")
    samplers: tuple[str, ...] = SAMPLERS
    rectifiers: tuple[str, ...] = ("imagenet",)
    learners: tuple[str, ...] = ("frozen",)
    pool: int = 2000
    cold_start: int = 10
    budget: int = 100
    rounds: int = 5
    test: int = 3000
    pca: int = 128
    votes: int = 5
    quorum: int = 3
    workers: int = 20
    worker_accuracy: tuple[float, float] = (0.75, 0.95)
    learner_topk: int = 2
    clusters: int = 100
    finetune_size: int = 96
    finetune_epochs: int = 8
    threads: int = 1
    per_class: int = PER_CLASS

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigurationError("; ".join(problems))

    def problems(self) -> list[str]:
        """What is wrong with the settings, one phrase each (empty when all is well)."""
        out: list[str] = []
        for r in self.ratios:
            if not 0 < r < 1:
                out.append(f"ratios must be in (0, 1), got {r}")
        if not self.ratios or len(set(self.ratios)) != len(self.ratios):
            out.append("ratios: give each ratio once, at least one")
        unknown = [c for c in self.known if c not in CIFAR10_CONCEPTS]
        if unknown:
            out.append(
                f"unknown CIFAR-10 class(es) {', '.join(unknown)}; choose from {', '.join(CIFAR10_CONCEPTS)}"
            )
        elif not 2 <= len(set(self.known)) == len(self.known) <= len(CIFAR10_CONCEPTS) - 1:
            out.append("known: at least 2 distinct task classes and at least one class left out")
        bad = sorted(set(self.learners) - set(LEARNERS)) or ([] if self.learners else ["(none)"])
        if bad:
            out.append(f"unknown learner(s) {', '.join(bad)}; choose from {', '.join(LEARNERS)}")
        if not out:
            n_known = len(self.known) * self.per_class
            n_other = (len(CIFAR10_CONCEPTS) - len(self.known)) * self.per_class
            worst_id = self.pool - round(self.pool * min(self.ratios))
            worst_ood = round(self.pool * max(self.ratios))
            if worst_id > n_known or worst_ood > n_other:
                out.append(f"pool {self.pool} too big: at most {n_known} task and {n_other} non-task images")
        if not 1 <= self.per_class <= PER_CLASS:
            out.append(f"per_class must be in [1, {PER_CLASS}], got {self.per_class}")
        for name in ("finetune_size", "finetune_epochs"):
            if getattr(self, name) < 1:
                out.append(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.threads < 0:
            out.append(f"threads must be at least 0 (0: torch's default), got {self.threads}")
        try:
            self.study()
        except ConfigurationError as exc:
            out.append(str(exc))
        return out

    def study(self) -> StudyConfig:
        """The :class:`StudyConfig` the loop, the crowd and the arms read (no OOD kinds: this pool's
        mismatch is the ratio's)."""
        return StudyConfig(
            out=self.out,
            seeds=self.seeds,
            samplers=self.samplers,
            pool=self.pool,
            ood_share=0.0,
            cold_start=self.cold_start,
            budget=self.budget,
            rounds=self.rounds,
            test=self.test,
            pca=self.pca,
            votes=self.votes,
            quorum=self.quorum,
            workers=self.workers,
            worker_accuracy=self.worker_accuracy,
            rectifiers=self.rectifiers,
            learner_topk=self.learner_topk,
            clusters=self.clusters,
            source="cifar10",
        )


def openset_config_from(overrides: Sequence[str]) -> OpenSetConfig:
    """The default :class:`OpenSetConfig` with ``key=value`` overrides (tuples comma-separated).

    >>> openset_config_from(["ratios=0.4,0.8", "learners=frozen,finetune"]).learners
    ('frozen', 'finetune')
    """
    return dataclasses.replace(OpenSetConfig(), **parse_overrides(OpenSetConfig, overrides))


def build_openset_candidates(cfg: OpenSetConfig, data_dir: Path | None) -> tuple[Candidates, Array]:
    """``per_class`` CIFAR-10 training images of each class as crawl results, and the task's test set.

    Returns:
        The candidates (``classes`` the task classes; ``kind`` 0 for a task image, 3, semantic shift,
        for a non-task one; ``label`` -1 for a non-task image; ``query`` the task class it was crawled
        for) and each candidate's CIFAR-10 class.

    Raises:
        ConfigurationError: CIFAR-10 is not in ``data_dir``.
    """
    from bamboo.training.probe import load_downstream

    x, y, tx, ty = load_downstream("cifar10", 10 * PER_CLASS, cfg.test, 0, data_dir=data_dir)
    if cfg.per_class < PER_CLASS:
        rng = np.random.default_rng(7)
        take = np.sort(
            np.concatenate([rng.permutation(np.flatnonzero(y == c))[: cfg.per_class] for c in range(10)])
        )
        x, y = x[take], y[take]
    names = list(CIFAR10_CONCEPTS)
    task = np.array([names.index(c) for c in cfg.known])
    to_task = np.full(len(names), -1)
    to_task[task] = np.arange(len(task))
    label = to_task[y]
    rng = np.random.default_rng(12345)
    query = np.where(label >= 0, label, rng.integers(0, len(task), len(y)))
    keep_test = to_task[ty] >= 0
    cand = Candidates(
        images=x,
        kind=np.where(label >= 0, 0, 3),
        label=label.astype(np.int64),
        query=query.astype(np.int64),
        test_images=tx[keep_test],
        test_labels=to_task[ty[keep_test]].astype(np.int64),
        classes=list(cfg.known),
        source="cifar10",
    )
    return cand, y.astype(np.int64)


def draw_openset_pool(cfg: OpenSetConfig, cand: Candidates, ratio: float, seed: int) -> Array:
    """One ratio's and seed's pool: sorted candidate indices, ``round(pool * ratio)`` of them non-task."""
    rng = np.random.default_rng([seed, round(ratio * 1000), 2021])
    n_ood = round(cfg.pool * ratio)
    ood = rng.choice(np.flatnonzero(cand.label < 0), n_ood, replace=False)
    ind = rng.choice(np.flatnonzero(cand.label >= 0), cfg.pool - n_ood, replace=False)
    return np.sort(np.concatenate([ind, ood]))


def run_openset(
    cfg: OpenSetConfig, progress: Callable[[str], None] | None = None, *, data_dir: Path | None = None
) -> dict[str, Any]:
    """Run (or resume) every learner, ratio, seed and arm; writes results.json, table.md, openset.png.

    Returns:
        The results body: ``config``, ``protocol`` (the pools' measured mismatch shares), ``rectifier``
        (share of task and non-task candidates kept, per rule), timings and ``runs``.
    """
    from sklearn.decomposition import PCA

    from bamboo.sdk.labels import OfflineLabels
    from bamboo.training.study.features import cached_lite0, imagenet_keep
    from bamboo.training.study.finetune import FineTuneLearner, positions_last
    from bamboo.training.study.openset_report import plot, summarise
    from bamboo.training.study.runner import _run_arm

    say = progress or (lambda _m: None)
    started = time.perf_counter()
    cand, cifar_class = build_openset_candidates(cfg, data_dir)
    scfg = cfg.study()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    say(f"{len(cand.images)} candidates, {len(cand.test_images)} test images; Lite0 features ...")
    # the maps are cached with the features whichever learners run, so one cache serves both
    f = cached_lite0(cand.images, cand.test_images, maps_size=cfg.finetune_size, say=say)
    t_features = time.perf_counter() - started
    pca = PCA(cfg.pca, random_state=0).fit(f["pool"])
    emb, test_emb = pca.transform(f["pool"]), pca.transform(f["test"])
    scale = float(np.sqrt((emb**2).sum(1).mean()))
    emb, test_emb = emb / scale, test_emb / scale
    labels = OfflineLabels.from_wordnet()
    keep = imagenet_keep(cand, f["top5"], None, labels=labels)
    keep_levels1 = imagenet_keep(cand, f["top5"], 1, labels=labels)
    rectifier = {
        rule: {
            "task_kept": round(float(mask[cand.label >= 0].mean()), 3),
            "non_task_kept": round(float(mask[cand.label < 0].mean()), 3),
            "task_kept_by_class": {
                c: round(float(mask[cand.label == i].mean()), 3) for i, c in enumerate(cand.classes)
            },
        }
        for rule, mask in (("default rule", keep), ("levels 1", keep_levels1))
    }
    test_maps = positions_last(f["test_maps"]) if "finetune" in cfg.learners else None
    results: list[dict[str, Any]] = []
    protocol: dict[str, Any] = {}
    for ratio in cfg.ratios:
        for seed in cfg.seeds:
            picks = draw_openset_pool(cfg, cand, ratio, seed)
            protocol[f"{ratio}/{seed}"] = {
                "mismatch_share": float((cand.label[picks] < 0).mean()),
                "non_task_classes": sorted({int(c) for c in cifar_class[picks][cand.label[picks] < 0]}),
            }
            keys = [f"img{i:06d}" for i in picks.tolist()]
            for learner_name in cfg.learners:
                for arm in arms(scfg.rectifiers, cfg.samplers):
                    say(f"{learner_name} ratio {ratio:.0%} seed {seed}: {arm.name}")
                    folder = (
                        out / "runs" / learner_name / f"r{round(ratio * 100)}" / f"seed{seed}" / arm.folder
                    )
                    learner = None
                    if learner_name == "finetune":
                        assert test_maps is not None
                        learner = FineTuneLearner(
                            dict(zip(keys, f["pool_maps"][picks], strict=True)),
                            test_maps,
                            cand.test_labels,
                            len(cand.classes),
                            feats=dict(zip(keys, emb[picks], strict=True)),
                            epochs=cfg.finetune_epochs,
                            seed=seed,
                        )
                    with _torch_threads(cfg.threads):
                        rows = _run_arm(scfg, folder, arm, seed, picks, cand, emb, test_emb, keep, learner)
                    results.append(
                        {
                            "learner": learner_name,
                            "ratio": ratio,
                            "seed": seed,
                            "sampler": arm.sampler,
                            "rectifier": arm.rectifier,
                            "rounds": rows,
                        }
                    )
    body = {
        "config": asdict(cfg),
        "protocol": protocol,
        "rectifier": rectifier,
        "features_s": round(t_features, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "runs": results,
    }
    write_text_atomic(out / "results.json", json.dumps(body, indent=1))
    (out / "table.md").write_text(summarise(body))
    plot(body, out / "openset.png")
    return body


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    """Torch runs on ``n`` threads inside the block (0: its own setting), and as before after it."""
    import torch

    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
