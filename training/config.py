"""Training configuration: a dataclass with the paper's recipe as defaults, YAML files and
``key=value`` command-line overrides; the resolved config is saved beside the checkpoints.

The defaults are the paper's classification recipe (§6.1.1): AdamW for 30 epochs, cosine decay
with 2 epochs of linear warm-up from 1e-6, total batch 8,192 with learning rate 2e-2 (here scaled
linearly: 6.25e-4 per 256 images), weight decay 2e-8 (the paper lists "weight decay, and warm-up
learning rate are 2e-8, 1e-6 and 2e-2"; we read them in that order).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bamboo.errors import ConfigurationError

__all__ = ["TrainConfig", "load_config"]


@dataclass
class TrainConfig:
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
        return self.lr * self.batch_size * world_size / 256

    def save(self, path: str | Path) -> None:
        Path(path).write_text(yaml.safe_dump(dataclasses.asdict(self), sort_keys=False))


def _coerce(name: str, raw: str, current: Any) -> Any:
    if isinstance(current, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigurationError(f"{name}: expected a boolean, got {raw!r}")
    try:
        if isinstance(current, int):
            return int(raw)
        if isinstance(current, float):
            return float(raw)
        if isinstance(current, dict):
            return json.loads(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name}: cannot read {raw!r} as {type(current).__name__}") from exc
    return raw


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> TrainConfig:
    """Defaults, then the YAML file, then ``key=value`` overrides (unknown keys are an error)."""
    cfg = TrainConfig()
    names = {f.name for f in dataclasses.fields(cfg)}
    values: dict[str, Any] = {}
    if path:
        try:
            loaded = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"cannot read config {path}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigurationError(f"{path}: expected a mapping of settings")
        values.update(loaded)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ConfigurationError(f"override {item!r}: expected key=value")
        if key not in names:
            raise ConfigurationError(f"unknown setting {key!r}")
        values[key] = _coerce(key, raw, getattr(cfg, key))
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigurationError(f"unknown setting(s) {', '.join(unknown)}")
    return dataclasses.replace(cfg, **values)
