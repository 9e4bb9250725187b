"""The annotator contract of :class:`~bamboo.sdk.loop.ActiveLoop`: answers, or "not yet".

An annotator is called as ``annotate(round, keys, queries)`` with a round's sampled images and
their query concepts. It returns one answer per image (the image's label, or ``None`` for "not a
valid image of its query"), or an :class:`Awaiting` when the answers are not in yet. Waiting for
people is a state of the loop, not an error: the loop records the round as :data:`AWAITING` and
returns; running it again asks the annotator again. Kept apart from the loop so the service can use
the task store without importing the samplers' dependencies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["AWAITING", "Annotate", "Awaiting"]

#: The state a round is in while its annotators have not answered (not a phase: nothing is done).
AWAITING = "awaiting annotations"


@dataclass(frozen=True)
class Awaiting:
    """An annotator's answer while some of a round's images are not answered yet.

    Attributes:
        message: What the annotators still have to do, and where.

    Example:
        >>> str(Awaiting("3 tasks open"))
        '3 tasks open'
    """

    message: str

    def __str__(self) -> str:
        return self.message


Annotate = Callable[[int, list[str], list[str]], Sequence[int | None] | Awaiting]
