"""The study's arms: a sampler with or without an OOD rectifier, as typed values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["NO_RECTIFIER", "Arm", "arm_name", "arms"]

#: The rectifier name of an arm without OOD rectification.
NO_RECTIFIER = "none"


@dataclass(frozen=True)
class Arm:
    """One arm of the study: an active-learning sampler, with an OOD rectifier or ``none``.

    Attributes:
        sampler: A sampler name (one of ``SAMPLERS``).
        rectifier: A rectifier name (one of ``RECTIFIERS``), or ``none``.

    >>> Arm("margin", "none").name
    'margin'
    >>> Arm("margin", "imagenet").name
    'margin + OOD rect. (imagenet)'
    """

    sampler: str
    rectifier: str = NO_RECTIFIER

    @property
    def name(self) -> str:
        """The arm's name in tables and figures."""
        return (
            self.sampler
            if self.rectifier == NO_RECTIFIER
            else f"{self.sampler} + OOD rect. ({self.rectifier})"
        )

    @property
    def rectified(self) -> bool:
        """Whether the arm rectifies OOD images before sampling."""
        return self.rectifier != NO_RECTIFIER

    @property
    def folder(self) -> str:
        """The name of the arm's state folder under a seed's run folder."""
        return f"{self.sampler}-{self.rectifier}"


def arms(rectifiers: Sequence[str], samplers: Sequence[str]) -> list[Arm]:
    """Every sampler without rectification, then every sampler with each rectifier in turn.

    Args:
        rectifiers: Rectifier names (``none`` is always added first).
        samplers: Sampler names.

    Returns:
        The arms, in the order they run and are reported.

    >>> [a.name for a in arms(["learner"], ["random", "margin"])]
    ['random', 'margin', 'random + OOD rect. (learner)', 'margin + OOD rect. (learner)']
    """
    return [Arm(s, rect) for rect in (NO_RECTIFIER, *rectifiers) for s in samplers]


def arm_name(sampler: str, rectifier: str) -> str:
    """The name of the arm of ``sampler`` and ``rectifier`` (see :attr:`Arm.name`).

    Args:
        sampler: A sampler name.
        rectifier: A rectifier name, or ``none``.
    """
    return Arm(sampler, rectifier).name
