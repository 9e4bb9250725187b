# The names this room re-exports, read by lazy_loader.attach_stub (and by type checkers).

from .db import (
    DEFAULT_SKILL as DEFAULT_SKILL,
    TaskDecision as TaskDecision,
    TaskStore as TaskStore,
    VerificationTask as VerificationTask,
)
from .images import MAX_IMAGE_BYTES as MAX_IMAGE_BYTES, ImageFile as ImageFile, read_image as read_image
