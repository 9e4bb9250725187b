"""The open-set study's fine-tuned learner: EfficientNet-Lite0's head (``conv_head``, its batch norm and a
new linear classifier) trained on each round's labelled images, on top of the frozen network's last-stage
feature maps (cached, so a round costs seconds on two CPU cores)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bamboo.atomic import atomic_path

__all__ = ["FineTuneLearner"]

Array = npt.NDArray[Any]


@functools.cache
def _imagenet_head() -> dict[str, dict[str, Any]]:
    """Lite0's ImageNet ``conv_head`` and ``bn2`` weights (loaded once per process; never modified)."""
    from bamboo.sdk.models import efficientnet_lite0

    model = efficientnet_lite0()
    return {"conv": model.conv_head.state_dict(), "bn": model.bn2.state_dict()}


class FineTuneLearner:
    """Fine-tunes Lite0's ``conv_head`` + ``bn2`` (from the ImageNet weights) and a new classifier.

    The three methods are the ``train``, ``predict`` and ``evaluate`` callbacks of
    :class:`~bamboo.sdk.loop.ActiveLoop`; embeddings (for CoreSet and ClusterMargin) are the fine-tuned
    head's pooled 1,280 features. Training is seeded by the run's seed and the round.

    Args:
        maps: Pool image key -> its last-stage feature map (320 x s x s).
        test_maps: The test images' maps.
        test_y: Their classes.
        n_classes: Number of classes.
        feats: Pool image key -> its frozen feature vector (the online crowd's prior).
        epochs: Passes over the labelled images per round.
        seed: The run's seed.
    """

    def __init__(
        self,
        maps: dict[str, Array],
        test_maps: Array,
        test_y: Array,
        n_classes: int,
        *,
        feats: dict[str, Array],
        epochs: int = 8,
        seed: int = 0,
    ) -> None:
        self.maps, self.test_maps, self.test_y, self.n = maps, test_maps, test_y, n_classes
        self.feats, self.epochs, self.seed = feats, epochs, seed
        self._start = _imagenet_head()

    def _head(self) -> Any:
        import torch

        conv = torch.nn.Conv2d(320, 1280, 1, bias=False)
        bn = torch.nn.BatchNorm2d(1280, eps=1e-3)
        conv.load_state_dict(self._start["conv"])
        bn.load_state_dict(self._start["bn"], strict=False)
        return torch.nn.ModuleDict({"conv": conv, "bn": bn, "fc": torch.nn.Linear(1280, self.n)})

    @staticmethod
    def _forward(head: Any, x: Any) -> tuple[Any, Any]:
        import torch

        pooled = torch.nn.functional.relu6(head["bn"](head["conv"](x))).mean((2, 3))
        return head["fc"](pooled), pooled

    def train(self, round_no: int, keys: list[str], labels: list[int], folder: Path) -> str:
        """Fine-tune from the ImageNet head on the labelled images; returns the checkpoint's path."""
        import torch

        torch.manual_seed(self.seed * 1000 + round_no)
        head = self._head()
        x = torch.from_numpy(np.stack([self.maps[k] for k in keys]).astype(np.float32))
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
        return str(path)

    def _outputs(self, checkpoint: str, x: Array) -> tuple[Array, Array]:
        import torch

        head = self._head()
        head.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True))
        head.eval()
        probs, embs = [], []
        with torch.inference_mode():
            for i in range(0, len(x), 512):
                logits, pooled = self._forward(head, torch.from_numpy(x[i : i + 512].astype(np.float32)))
                probs.append(torch.softmax(logits, 1).numpy())
                embs.append(pooled.numpy())
        return np.concatenate(probs), np.concatenate(embs)

    def predict(self, checkpoint: str, keys: list[str]) -> tuple[Array, Array]:
        """Class probabilities and embeddings (the head's pooled features) of the images ``keys``."""
        return self._outputs(checkpoint, np.stack([self.maps[k] for k in keys]))

    def evaluate(self, checkpoint: str) -> dict[str, float]:
        """Test accuracy of a checkpoint."""
        probs, _ = self._outputs(checkpoint, self.test_maps)
        return {"accuracy": float((probs.argmax(1) == self.test_y).mean())}
