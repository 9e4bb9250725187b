"""Hierarchy-aware loss for very large label spaces: the semantic softmax of ImageNet-21K-P (Ridnik et
al., 2021). The classes are split into levels by the label system's IS_A hierarchy: a class's level is
one more than the deepest level among its ancestors that are also classes (0 when none is). Each level
gets its own softmax over its classes only, and an image of class ``c`` is a training example at
``c``'s level and at every shallower level where ``c`` has an ancestor class (the ancestor is the
target there). The loss averages the per-level cross-entropies over the levels that have targets in
the batch, so coarse levels with few classes are not drowned by the leaves."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812

__all__ = ["SemanticSoftmaxLoss", "SemanticTree", "semantic_tree"]


@dataclass(frozen=True)
class SemanticTree:
    """The classes split into levels of the hierarchy, with each class's target at every level.

    Attributes:
        levels: ``levels[l]``: the class indices at level ``l``.
        targets: ``targets[l][c]``: the position, inside ``levels[l]``, of class ``c``'s target at level
            ``l`` (itself or an ancestor), or -1 for none.
    """

    levels: tuple[tuple[int, ...], ...]
    targets: tuple[tuple[int, ...], ...]

    def level_of(self, c: int) -> int:
        """The level of class index ``c``.

        >>> SemanticTree(levels=((0,), (1, 2)), targets=((0, 0, -1), (-1, 0, 1))).level_of(2)
        1
        """
        return next(lv for lv, members in enumerate(self.levels) if c in members)


def semantic_tree(classes: Sequence[str], ancestors: Callable[[str], Iterable[str]]) -> SemanticTree:
    """The levels of ``classes`` under ``ancestors``.

    Where a class has several ancestor classes at one level (a DAG), the one with the smallest class
    index is the target there.

    Args:
        classes: Concept ids, one per class.
        ancestors: Every ancestor's id of a concept (e.g. ``OfflineLabels.ancestors``).

    Returns:
        The levels and targets.

    Raises:
        ValueError: When class names repeat or the hierarchy has a cycle.

    >>> up = {"animal": [], "dog": ["animal"], "puppy": ["dog", "animal"]}
    >>> semantic_tree(["animal", "dog", "puppy"], up.__getitem__)
    SemanticTree(levels=((0,), (1,), (2,)), targets=((0, 0, 0), (-1, 0, 0), (-1, -1, 0)))
    """
    index = {c: i for i, c in enumerate(classes)}
    if len(index) != len(classes):
        raise ValueError("class names repeat; the semantic softmax needs one class per concept")
    up = [sorted({index[a] for a in ancestors(c) if a in index and a != c}) for c in classes]
    level: dict[int, int] = {}

    def depth(c: int, seen: frozenset[int] = frozenset()) -> int:
        if c not in level:
            if c in seen:
                raise ValueError(f"the hierarchy has a cycle through {classes[c]}")
            level[c] = 1 + max((depth(a, seen | {c}) for a in up[c]), default=-1)
        return level[c]

    for c in range(len(classes)):
        depth(c)
    n_levels = max(level.values(), default=-1) + 1
    levels = tuple(tuple(c for c in range(len(classes)) if level[c] == lv) for lv in range(n_levels))
    position = {c: levels[level[c]].index(c) for c in range(len(classes))}
    targets = []
    for lv in range(n_levels):
        row = []
        for c in range(len(classes)):
            if level[c] == lv:
                row.append(position[c])
            else:
                at = [a for a in up[c] if level[a] == lv]
                row.append(position[at[0]] if at else -1)
        targets.append(tuple(row))
    return SemanticTree(levels, tuple(targets))


class SemanticSoftmaxLoss(torch.nn.Module):
    """Mean over levels (those with a target in the batch) of each level's softmax cross-entropy.

    Args:
        tree: The classes' levels and targets (:func:`semantic_tree`).
        label_smoothing: Label smoothing of each level's cross-entropy.
    """

    def __init__(self, tree: SemanticTree, label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.label_smoothing = label_smoothing
        for lv, (members, targets) in enumerate(zip(tree.levels, tree.targets, strict=True)):
            self.register_buffer(f"members_{lv}", torch.tensor(members, dtype=torch.long), persistent=False)
            self.register_buffer(f"targets_{lv}", torch.tensor(targets, dtype=torch.long), persistent=False)
        self.n_levels = len(tree.levels)

    def forward(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The loss of a batch.

        Args:
            logits: Batch x classes scores over every class.
            y: Class index of each image.

        Returns:
            The scalar loss.
        """
        losses = []
        for lv in range(self.n_levels):
            target = getattr(self, f"targets_{lv}")[y]
            if bool((target >= 0).any()):
                part = logits.index_select(1, getattr(self, f"members_{lv}"))
                losses.append(
                    F.cross_entropy(part, target, ignore_index=-1, label_smoothing=self.label_smoothing)
                )
        return torch.stack(losses).mean()
