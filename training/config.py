"""Training configuration: a dataclass with the paper's recipe as defaults, YAML files and
``key=value`` command-line overrides; the resolved config is saved beside the checkpoints.

The defaults are the paper's classification recipe (§6.1.1): AdamW for 30 epochs, cosine decay
with 2 epochs of linear warm-up from 1e-6, total batch 8,192 with learning rate 2e-2 (here scaled
linearly: 6.25e-4 per 256 images), weight decay 2e-8 (the paper lists "weight decay, and warm-up
learning rate are 2e-8, 1e-6 and 2e-2"; we read them in that order).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bamboo.errors import ConfigurationError
from bamboo.training.overrides import parse_overrides

__all__ = ["TrainConfig", "load_config"]


@dataclass
class TrainConfig:
    """Every setting of a classification training run; the defaults are the paper's recipe.

    Attributes:
        model: A timm model name.
        pretrained: Start from timm's pretrained weights.
        img_size: Training and validation image side, in pixels.
        train: Training data: an image folder (one sub-folder per class), a meta file of
            ``[path] [class_index]`` lines, or an active-learning loop's state (folder or pools.sqlite).
        val: Validation data, in the same forms; empty for none.
        num_classes: Number of classes; 0 reads it from the data.
        epochs: Training epochs.
        batch_size: Images per process and step.
        lr: Learning rate for a global batch of 256, scaled linearly (see :meth:`scaled_lr`).
        warmup_lr: Learning rate at the start of the linear warm-up.
        min_lr: Learning rate at the end of the cosine decay.
        weight_decay: AdamW weight decay.
        warmup_epochs: Length of the linear warm-up, in epochs.
        label_smoothing: Label smoothing of the cross-entropy.
        loss: ``ce`` (softmax over every class) or ``semantic`` (ImageNet-21K-P's semantic softmax over
            the hierarchy levels; the class names must be concept ids of ``snapshot``).
        snapshot: A ``bamboo snapshot`` file: class names, and the hierarchy for ``loss=semantic``.
        grad_clip: Gradient-norm clipping; 0 for none.
        amp: bf16 autocast on GPU (ignored on CPU).
        channels_last: Channels-last memory format.
        workers: Data-loader worker processes.
        seed: Seed of the run (per-step seeding makes it resumable exactly).
        out: Output folder (checkpoints, logs, the resolved config).
        resume: Continue from ``out/last.pt`` when it exists.
        log_every: Steps between log lines.
        extra: Free-form settings, kept in the saved config.

    Raises:
        ConfigurationError: On an unknown ``loss``, or ``loss=semantic`` without ``snapshot``.
    """

    # model
    model: str = "resnet50"
    pretrained: bool = False
    img_size: int = 224
    # data: an image folder (one sub-folder per class), a meta file of "[path] [class_index]" lines,
    # or the active-learning loop's state (its folder or pools.sqlite: the labelled images)
    train: str = ""
    val: str = ""
    num_classes: int = 0  # 0: from the data
    # recipe (paper §6.1.1, scaled by batch size)
    epochs: int = 30
    batch_size: int = 128  # per process
    lr: float = 6.25e-4  # for a global batch of 256; scaled linearly (2e-2 at 8,192)
    warmup_lr: float = 1e-6
    min_lr: float = 0.0
    weight_decay: float = 2e-8
    warmup_epochs: float = 2.0
    label_smoothing: float = 0.0
    # "ce" (softmax over every class) or "semantic" (ImageNet-21K-P's semantic softmax over the
    # hierarchy levels; needs class names that are concept ids of `snapshot`)
    loss: str = "ce"
    snapshot: str = ""  # a `bamboo snapshot` file: class names, and the hierarchy for loss=semantic
    grad_clip: float = 0.0
    # hardware
    amp: bool = True  # bf16 autocast on GPU (ignored on CPU)
    channels_last: bool = True
    workers: int = 4
    # bookkeeping
    seed: int = 0
    out: str = "runs/cls"
    resume: bool = True  # continue from out/last.pt when it exists
    log_every: int = 50
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.loss not in ("ce", "semantic"):
            raise ConfigurationError(f"loss: expected ce or semantic, got {self.loss!r}")
        if self.loss == "semantic" and not self.snapshot:
            raise ConfigurationError("loss=semantic needs snapshot= (the hierarchy of the classes)")

    def scaled_lr(self, world_size: int) -> float:
        """The learning rate for the global batch, scaled linearly from ``lr`` at 256 images.

        Args:
            world_size: Number of training processes.

        >>> TrainConfig(batch_size=256).scaled_lr(32) == TrainConfig().lr * 32
        True
        """
        return self.lr * self.batch_size * world_size / 256

    def save(self, path: str | Path) -> None:
        """Write the config as YAML (beside the checkpoints, so a run says how it was made).

        Args:
            path: The YAML file to write.
        """
        Path(path).write_text(yaml.safe_dump(dataclasses.asdict(self), sort_keys=False))


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> TrainConfig:
    """Defaults, then the YAML file, then ``key=value`` overrides.

    Args:
        path: A YAML mapping of settings, or None for the defaults.
        overrides: ``key=value`` strings, each read as its field's type
            (:func:`~bamboo.training.overrides.parse_overrides`).

    Returns:
        The resolved config.

    Raises:
        ConfigurationError: When the file cannot be read, or a key is unknown, or a value has the wrong
            type.
    """
    cfg = TrainConfig()
    names = [f.name for f in dataclasses.fields(cfg)]
    values: dict[str, Any] = {}
    if path:
        try:
            loaded = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"cannot read config {path}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigurationError(f"{path}: expected a mapping of settings")
        unknown = sorted(set(loaded) - set(names))
        if unknown:
            raise ConfigurationError(
                f"{path}: unknown setting(s) {', '.join(map(str, unknown))}; valid keys: {', '.join(names)}"
            )
        values.update(loaded)
    values.update(parse_overrides(TrainConfig, overrides))
    return dataclasses.replace(cfg, **values)
