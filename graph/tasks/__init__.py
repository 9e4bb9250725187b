"""Verification tasks (paper §3.4): the SQLite task store and the task images it serves."""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader

if TYPE_CHECKING:
    from bamboo.graph.tasks.db import (
        DEFAULT_SKILL as DEFAULT_SKILL,
        TaskDecision as TaskDecision,
        TaskStore as TaskStore,
        VerificationTask as VerificationTask,
    )
    from bamboo.graph.tasks.images import (
        MAX_IMAGE_BYTES as MAX_IMAGE_BYTES,
        ImageFile as ImageFile,
        read_image as read_image,
    )

# Re-exported lazily: importing the room loads none of its modules until a name is used.
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "db": ["DEFAULT_SKILL", "TaskDecision", "TaskStore", "VerificationTask"],
        "images": ["ImageFile", "MAX_IMAGE_BYTES", "read_image"],
    },
)
