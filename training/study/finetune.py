"""The open-set study's fine-tuned learner: EfficientNet-Lite0's head (``conv_head``, its batch norm and a
new linear classifier) trained on each round's labelled images, on top of the frozen network's last-stage
feature maps (cached, so a round costs seconds on two CPU cores).

The head runs as a matrix product: a 1 x 1 convolution over an s x s map is a linear map of each of its
s x s positions, and the batch norm (its running statistics frozen at ImageNet's) is folded into that
product's weight and bias. The maps are laid out once per learner as one contiguous float32 array
(image, position, channel), and a checkpoint's outputs over the whole pool are computed once and shared
by the round's rectify, sample and labelled-embedding calls. Checkpoints keep the module layout
(``conv.weight`` 1280 x 320 x 1 x 1, ``bn.*``, ``fc.*``)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bamboo.atomic import atomic_path

__all__ = ["FineTuneLearner", "positions_last"]

Array = npt.NDArray[Any]


@functools.cache
def _imagenet_head() -> dict[str, dict[str, Any]]:
    """Lite0's ImageNet ``conv_head`` and ``bn2`` weights (loaded once per process; never modified)."""
    from bamboo.sdk.models import efficientnet_lite0

    model = efficientnet_lite0()
    return {"conv": model.conv_head.state_dict(), "bn": model.bn2.state_dict()}


def positions_last(maps: Array) -> Array:
    """Feature maps N x C x s x s (any float dtype) as one contiguous float32 array N x (s * s) x C.

    >>> positions_last(np.zeros((2, 320, 3, 3), dtype=np.float16)).shape
    (2, 9, 320)
    """
    n, c = maps.shape[:2]
    return np.ascontiguousarray(np.asarray(maps).reshape(n, c, -1).transpose(0, 2, 1), dtype=np.float32)


class FineTuneLearner:
    """Fine-tunes Lite0's ``conv_head`` + ``bn2`` (from the ImageNet weights) and a new classifier.

    The three methods are the ``train``, ``predict`` and ``evaluate`` callbacks of
    :class:`~bamboo.sdk.loop.ActiveLoop`; embeddings (for CoreSet and ClusterMargin) are the fine-tuned
    head's pooled 1,280 features. Training is seeded by the run's seed and the round.

    Args:
        maps: Pool image key -> its last-stage feature map (320 x s x s).
        test_maps: The test images' maps (N x 320 x s x s, or already :func:`positions_last`).
        test_y: Their classes.
        n_classes: Number of classes.
        feats: Pool image key -> its frozen feature vector (the online crowd's prior).
        epochs: Passes over the labelled images per round.
        seed: The run's seed.
    """

    def __init__(
        self,
        maps: Mapping[str, Array],
        test_maps: Array,
        test_y: Array,
        n_classes: int,
        *,
        feats: dict[str, Array],
        epochs: int = 8,
        seed: int = 0,
    ) -> None:
        self.row = {k: i for i, k in enumerate(maps)}
        self.x = positions_last(np.stack(list(maps.values()))) if maps else np.zeros((0, 1, 320), np.float32)
        self.test_x = test_maps if test_maps.ndim == 3 else positions_last(test_maps)
        self.test_y, self.n = test_y, n_classes
        self.feats, self.epochs, self.seed = feats, epochs, seed
        self._start = _imagenet_head()
        self._heads: dict[str, Any] = {}  # checkpoint -> its head, the latest only
        self._pool_out: dict[str, tuple[Array, Array]] = {}  # checkpoint -> the whole pool's outputs

    def _head(self) -> Any:
        import torch

        conv = torch.nn.Conv2d(320, 1280, 1, bias=False)
        bn = torch.nn.BatchNorm2d(1280, eps=1e-3)
        conv.load_state_dict(self._start["conv"])
        bn.load_state_dict(self._start["bn"], strict=False)
        return torch.nn.ModuleDict({"conv": conv, "bn": bn, "fc": torch.nn.Linear(1280, self.n)})

    @staticmethod
    def _forward(head: Any, x: Any) -> tuple[Any, Any]:
        """Logits and pooled features of ``x`` (batch x positions x 320): ``conv_head`` and the frozen-
        statistics batch norm as one linear map per position, ReLU6, the mean over positions, ``fc``."""
        import torch

        conv, bn = head["conv"], head["bn"]
        scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
        weight = conv.weight.reshape(conv.out_channels, -1) * scale[:, None]
        z = torch.nn.functional.linear(x, weight, bn.bias - bn.running_mean * scale)
        pooled = torch.nn.functional.relu6(z).mean(1)
        return head["fc"](pooled), pooled

    def train(self, round_no: int, keys: list[str], labels: list[int], folder: Path) -> str:
        """Fine-tune from the ImageNet head on the labelled images; returns the checkpoint's path."""
        import torch

        torch.manual_seed(self.seed * 1000 + round_no)
        head = self._head()
        x = torch.from_numpy(self.x[[self.row[k] for k in keys]])
        y = torch.as_tensor(labels, dtype=torch.long)
        opt = torch.optim.AdamW(
            [
                {"params": [*head["conv"].parameters(), *head["bn"].parameters()], "lr": 3e-4},
                {"params": head["fc"].parameters(), "lr": 3e-3},
            ],
            weight_decay=1e-4,
        )
        head.train()
        head["bn"].eval()  # the running statistics stay ImageNet's: rounds start with a few dozen images
        for _ in range(self.epochs):
            for batch in torch.randperm(len(y)).split(32):
                loss = torch.nn.functional.cross_entropy(self._forward(head, x[batch])[0], y[batch])
                opt.zero_grad()
                loss.backward()
                opt.step()
        path = folder / f"model-{round_no}.pt"
        with atomic_path(path, ".tmp.pt") as tmp:
            torch.save(head.state_dict(), tmp)
        head.eval()
        self._heads = {str(path): head}
        self._pool_out.clear()
        return str(path)

    def _load(self, checkpoint: str) -> Any:
        """The checkpoint's head: the one just trained, or read from disk (a resumed run)."""
        import torch

        if checkpoint not in self._heads:
            head = self._head()
            head.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True))
            head.eval()
            self._heads = {checkpoint: head}
        return self._heads[checkpoint]

    def _outputs(self, checkpoint: str, x: Array) -> tuple[Array, Array]:
        import torch

        head = self._load(checkpoint)
        probs, embs = [], []
        with torch.inference_mode():
            for i in range(0, len(x), 512):
                logits, pooled = self._forward(head, torch.from_numpy(x[i : i + 512]))
                probs.append(torch.softmax(logits, 1).numpy())
                embs.append(pooled.numpy())
        if not probs:
            return np.zeros((0, self.n), np.float32), np.zeros((0, 1280), np.float32)
        return np.concatenate(probs), np.concatenate(embs)

    def predict(self, checkpoint: str, keys: list[str]) -> tuple[Array, Array]:
        """Class probabilities and embeddings (the head's pooled features) of the images ``keys``.

        The whole pool is run once per checkpoint; later calls with the same checkpoint index it.
        """
        if checkpoint not in self._pool_out:
            self._pool_out = {checkpoint: self._outputs(checkpoint, self.x)}
        probs, embs = self._pool_out[checkpoint]
        rows = [self.row[k] for k in keys]
        return probs[rows], embs[rows]

    def evaluate(self, checkpoint: str) -> dict[str, float]:
        """Test accuracy of a checkpoint."""
        probs, _ = self._outputs(checkpoint, self.test_x)
        return {"accuracy": float((probs.argmax(1) == self.test_y).mean())}
