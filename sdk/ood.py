"""Out-of-distribution rectification (paper §4.1.3), vectorised with torch (GPU when present).

**Classification.** Each pool image was crawled for a query concept; the current model gives its
top-k classes in the model's label space. The image is in distribution when one of them is in the
query's *related set* (:mod:`bamboo.graph.related`: the label-space classes in the subtree of the
query or of its ancestors up to ``levels`` steps, and the query's own ancestors); otherwise it is
out of distribution and dropped. Related sets are computed once per distinct query and held as a
boolean (distinct queries x classes) matrix; a batch is then one gather::

    keep = related[query_row[:, None], topk].any(dim=1)

**Detection.** Per image, the proposals (class, score, box) above ``score_threshold``: an image with
fewer than ``min_proposals`` is noise or semantic shift; one with more than ``max_per_class``
proposals of a single class is crowded (covariate shift).

Every function is batch-pure (arrays in, arrays out, no state between batches), so a pool can also
be scored with Ray Data ``map_batches`` (see ``examples/ray_rectify.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from bamboo.errors import ConceptNotFound
from bamboo.graph.related import DEFAULT_LEVELS
from bamboo.sdk.labels import LabelSpace, LabelSystem

__all__ = [
    "CLS_REASONS",
    "DET_REASONS",
    "ClassificationRectifier",
    "Rectified",
    "default_device",
    "rectify_detection",
    "rectify_topk",
]

#: Reason codes of classification rectification, by position.
CLS_REASONS = ("in distribution", "top-k unrelated to the query", "query concept unknown")
#: Reason codes of detection rectification, by position.
DET_REASONS = ("in distribution", "noise: too few proposals", "crowded: too many of one class")


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass(frozen=True)
class Rectified:
    """``keep[i]`` and ``reason[i]`` (an index into ``reasons``) for each image, in input order."""

    keep: npt.NDArray[np.bool_]
    reason: npt.NDArray[np.int8]
    reasons: tuple[str, ...]

    def counts(self) -> dict[str, int]:
        found = Counter(self.reason.tolist())
        return {name: int(found.get(i, 0)) for i, name in enumerate(self.reasons)}

    def why(self, i: int) -> str:
        return self.reasons[int(self.reason[i])]


def rectify_topk(related: torch.Tensor, query_row: torch.Tensor, topk: torch.Tensor) -> torch.Tensor:
    """The core gather: ``related`` (Q x C bool), ``query_row`` (N,) rows into it, ``topk`` (N x k)
    class indices. Returns the (N,) keep mask on ``related``'s device. Negative top-k entries
    (padding) never match."""
    valid = topk >= 0
    hit = related[query_row.unsqueeze(1), topk.clamp(min=0)] & valid
    return hit.any(dim=1)


class ClassificationRectifier:
    """Rectify classification pools against one model label space.

    Args:
        labels: The label system (``OfflineLabels`` from a snapshot, or the API client).
        space: The model's label space (e.g. ``labels.label_space("imagenet-1k")``).
        levels: Related-set levels (default 1, as the API).
        device: Where the related matrix lives (default: CUDA when available).
    """

    def __init__(
        self,
        labels: LabelSystem,
        space: LabelSpace,
        *,
        levels: int = DEFAULT_LEVELS,
        device: torch.device | str | None = None,
    ) -> None:
        self.labels, self.space, self.levels = labels, space, levels
        self.device = torch.device(device) if device is not None else default_device()
        self._row: dict[str, int] = {}  # query concept -> row of the related matrix (-1: unknown)
        self._related = torch.zeros((0, len(space)), dtype=torch.bool, device=self.device)

    def _ensure(self, queries: Sequence[str]) -> None:
        """Compute the related sets of queries not seen before (one call for all of them)."""
        new = [q for q in dict.fromkeys(queries) if q not in self._row]
        if not new:
            return
        known = list(new)
        try:
            sets = self.labels.related(known, self.space, levels=self.levels)
        except ConceptNotFound:  # find the unknown ones, then ask again for the rest
            known = []
            for q in new:
                try:
                    self.labels.related([q], self.space, levels=0)
                    known.append(q)
                except ConceptNotFound:
                    self._row[q] = -1
            sets = self.labels.related(known, self.space, levels=self.levels) if known else {}
        block = torch.zeros((len(known), len(self.space)), dtype=torch.bool)
        for i, q in enumerate(known):
            block[i, torch.from_numpy(np.asarray(sets[q], dtype=np.int64))] = True
        start = self._related.shape[0]
        self._related = torch.cat([self._related, block.to(self.device)])
        self._row.update({q: start + i for i, q in enumerate(known)})

    def related_indices(self, query: str) -> npt.NDArray[np.int64]:
        self._ensure([query])
        row = self._row[query]
        if row < 0:
            raise ConceptNotFound(query)
        return self._related[row].nonzero().flatten().cpu().numpy()

    def __call__(self, queries: Sequence[str] | npt.NDArray[Any], topk: Any) -> Rectified:
        """``queries``: the query concept of each image (N,); ``topk``: (N x k) class indices of the
        model's label space (numpy, torch, or lists)."""
        distinct, inverse = np.unique(np.asarray(queries, dtype=object).astype(str), return_inverse=True)
        self._ensure(distinct.tolist())
        rows = np.array([self._row[q] for q in distinct.tolist()], dtype=np.int64)[inverse]
        top = torch.as_tensor(np.asarray(topk) if not isinstance(topk, torch.Tensor) else topk)
        if top.ndim != 2 or top.shape[0] != len(rows):
            raise ValueError(f"topk must be (N x k) for N = {len(rows)} images, got {tuple(top.shape)}")
        if len(rows) and int(top.max()) >= len(self.space):
            raise ValueError(f"topk holds class {int(top.max())}; the label space has {len(self.space)}")
        unknown = torch.from_numpy(rows < 0).to(self.device)
        if self._related.shape[0] == 0:  # every query unknown
            keep = torch.zeros(len(rows), dtype=torch.bool, device=self.device)
        else:
            keep = rectify_topk(
                self._related,
                torch.from_numpy(np.maximum(rows, 0)).to(self.device),
                top.to(self.device, dtype=torch.int64),
            )
            keep &= ~unknown
        reason = torch.where(keep, 0, torch.where(unknown, 2, 1)).to(torch.int8)
        return Rectified(keep.cpu().numpy(), reason.cpu().numpy(), CLS_REASONS)


def rectify_detection(
    image: Any,
    classes: Any,
    scores: Any,
    n_images: int,
    *,
    score_threshold: float = 0.3,
    min_proposals: int = 2,
    max_per_class: int = 15,
    device: torch.device | str | None = None,
) -> Rectified:
    """Rectify a detection pool from its proposals, given flat (M,) arrays: the image index of each
    proposal, its class and its score (boxes are not needed for these rules).

    Returns one keep/reason per image ``0 .. n_images - 1``.
    """
    dev = torch.device(device) if device is not None else default_device()
    img = torch.as_tensor(np.asarray(image), dtype=torch.int64).to(dev)
    cls = torch.as_tensor(np.asarray(classes), dtype=torch.int64).to(dev)
    sc = torch.as_tensor(np.asarray(scores), dtype=torch.float32).to(dev)
    if not (img.shape == cls.shape == sc.shape) or img.ndim != 1:
        raise ValueError("image, classes and scores must be flat arrays of the same length")
    if len(img) and (int(img.min()) < 0 or int(img.max()) >= n_images):
        raise ValueError(f"image indices must lie in [0, {n_images})")
    sure = sc >= score_threshold
    img, cls = img[sure], cls[sure]
    per_image = torch.bincount(img, minlength=n_images)
    width = int(cls.max()) + 1 if len(cls) else 1
    pairs, per_pair = torch.unique(img * width + cls, return_counts=True)
    most = torch.zeros(n_images, dtype=torch.int64, device=dev)
    most.scatter_reduce_(0, pairs // width, per_pair, reduce="amax")
    noise = per_image < min_proposals
    crowded = ~noise & (most > max_per_class)
    keep = ~(noise | crowded)
    reason = torch.where(noise, 1, torch.where(crowded, 2, 0)).to(torch.int8)
    return Rectified(keep.cpu().numpy(), reason.cpu().numpy(), DET_REASONS)
