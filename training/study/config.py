"""The study's settings: :class:`StudyConfig`, checked whole when it is made, and ``key=value`` overrides."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from bamboo.errors import ConfigurationError
from bamboo.training.overrides import parse_overrides

__all__ = [
    "ANNOTATIONS",
    "CIFAR10_CONCEPTS",
    "KINDS",
    "RECTIFIERS",
    "SAMPLERS",
    "SOURCES",
    "StudyConfig",
    "config_from",
]

#: CIFAR-10 class -> the WordNet 3.0 concept its name is a query word for.
CIFAR10_CONCEPTS = {
    "airplane": "wn:n02691156",
    "automobile": "wn:n02958343",
    "bird": "wn:n01503061",
    "cat": "wn:n02121620",
    "deer": "wn:n02430045",
    "dog": "wn:n02084071",
    "frog": "wn:n01639765",
    "horse": "wn:n02374451",
    "ship": "wn:n04194289",
    "truck": "wn:n04490091",
}
#: The active-learning samplers an arm can use (names of ``bamboo.sdk.samplers.make_sampler``).
SAMPLERS = ("random", "entropy", "margin", "coreset", "cluster-margin")
#: The OOD rectifiers an arm can use besides ``none``.
RECTIFIERS = ("imagenet", "learner")
#: The kinds of pool image, indexed by ``Candidates.kind``.
KINDS = ("in distribution", "noise", "covariate shift", "semantic shift")
#: How the crowd is asked: ``fixed`` votes per image at a quorum (the baseline), or ``online`` (#22).
ANNOTATIONS = ("fixed", "online")
#: Image sources; ``auto`` picks CIFAR-10 when its files are there, else MNIST, else digits.
SOURCES = ("auto", "cifar10", "mnist", "digits")


@dataclass(frozen=True)
class StudyConfig:
    """Every setting of the active-annotation study; checked whole when made.

    Attributes:
        out: Output folder (results.json, table.md, fig6.png, features cache, run states).
        seeds: One pool and one run of every arm per seed.
        samplers: Sampler names (from ``SAMPLERS``), each an arm per rectifier and without one.
        pool: Images in each seed's pool.
        ood_share: Share of the pool that is out of distribution, in [0, 1).
        cold_start: Random images per query word in round 0.
        budget: Images sent for annotation per round.
        rounds: Active rounds after the cold start.
        test: Clean test images.
        pca: Dimensions the features are reduced to.
        votes: Worker votes per image.
        quorum: Yes votes that accept an image.
        workers: Size of the simulated crowd.
        worker_accuracy: Range each worker's accuracy is drawn from, uniformly.
        annotation: ``fixed``: ``votes`` votes per image, accepted at ``quorum`` (the baseline);
            ``online``: each round's images through ``sdk.online.label_online`` (#22), 0 to ``votes``
            answers per image from the most informative workers, decided at ``annotation_risk``.
        annotation_risk: ``online``: an image is decided once its posterior risk is below this.
        rectifiers: OOD rectifiers (from ``RECTIFIERS``), each an arm per sampler beside ``none``:
            ``imagenet`` (EfficientNet-Lite0 top-5 vs WordNet related sets; CIFAR-10 only) and
            ``learner`` (the round model's top-k, the paper's phi(r-1)).
        levels: Related-set levels for the imagenet rectifier.
        learner_topk: Top-k of the round model for the learner rectifier.
        clusters: ClusterMargin's clusters.
        source: Image source, one of ``SOURCES``.

    Raises:
        ConfigurationError: One line naming every bad setting.

    >>> StudyConfig(samplers=("margin",), budget=50).budget
    50
    >>> StudyConfig(samplers=("nope",), quorum=9)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    bamboo.errors.ConfigurationError: unknown sampler(s) nope; choose from random, ...; quorum must be ...
    """

    out: str = "results/study-al"
    seeds: tuple[int, ...] = (0, 1, 2)
    samplers: tuple[str, ...] = SAMPLERS
    pool: int = 6000
    ood_share: float = 0.4
    cold_start: int = 10
    budget: int = 100
    rounds: int = 5
    test: int = 2000
    pca: int = 128
    votes: int = 5
    quorum: int = 3
    workers: int = 20
    worker_accuracy: tuple[float, float] = (0.75, 0.95)
    annotation: str = "fixed"
    annotation_risk: float = 0.05
    rectifiers: tuple[str, ...] = RECTIFIERS
    levels: int = 1
    learner_topk: int = 2
    clusters: int = 100
    source: str = "auto"

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigurationError("; ".join(problems))

    def problems(self) -> list[str]:
        """What is wrong with the settings, one phrase each (empty when all is well)."""
        out: list[str] = []
        unknown = sorted(set(self.samplers) - set(SAMPLERS))
        if unknown:
            out.append(f"unknown sampler(s) {', '.join(unknown)}; choose from {', '.join(SAMPLERS)}")
        elif not self.samplers:
            out.append(f"samplers: choose at least one of {', '.join(SAMPLERS)}")
        bad = sorted(set(self.rectifiers) - set(RECTIFIERS))
        if bad:
            out.append(f"unknown rectifier(s) {', '.join(bad)}; choose from {', '.join(RECTIFIERS)}")
        if self.source not in SOURCES:
            out.append(f"unknown source {self.source!r}; choose from {', '.join(SOURCES)}")
        if not 0 <= self.ood_share < 1:
            out.append(f"ood_share must be in [0, 1), got {self.ood_share}")
        if not self.seeds:
            out.append("seeds: give at least one seed")
        if len(set(self.seeds)) != len(self.seeds):
            out.append(f"seeds: each seed once, got {','.join(map(str, self.seeds))}")
        for name in ("pool", "cold_start", "budget", "rounds", "test", "pca", "votes", "workers"):
            if getattr(self, name) < 1:
                out.append(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("learner_topk", "clusters"):
            if getattr(self, name) < 1:
                out.append(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.levels < 0:
            out.append(f"levels must be at least 0, got {self.levels}")
        if self.votes > self.workers:
            out.append(f"votes ({self.votes}) cannot exceed workers ({self.workers})")
        if not 1 <= self.quorum <= self.votes:
            out.append(f"quorum must be in [1, votes={self.votes}], got {self.quorum}")
        low, high = self.worker_accuracy
        if not 0 <= low <= high <= 1:
            out.append(f"worker_accuracy must be a range low,high within [0, 1], got {low},{high}")
        if self.annotation not in ANNOTATIONS:
            out.append(f"unknown annotation {self.annotation!r}; choose from {', '.join(ANNOTATIONS)}")
        if not 0 < self.annotation_risk < 0.5:
            out.append(f"annotation_risk must be in (0, 0.5), got {self.annotation_risk}")
        return out


def config_from(overrides: Sequence[str]) -> StudyConfig:
    """The default :class:`StudyConfig` with ``key=value`` overrides (tuples comma-separated).

    Args:
        overrides: ``key=value`` strings, each read as its field's type.

    Returns:
        The checked config.

    Raises:
        ConfigurationError: On an unknown key (the message lists the valid ones), an unreadable value
            or a bad setting.

    >>> config_from(["seeds=0,1", "samplers=random,margin"]).seeds
    (0, 1)
    """
    return dataclasses.replace(StudyConfig(), **parse_overrides(StudyConfig, overrides))
