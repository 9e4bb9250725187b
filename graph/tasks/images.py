"""Reading a verification task's local image only when it is safe to hand out.

A task names its image by path (``bamboo.graph.tasks.db``); whoever can add tasks could otherwise have
the service read any file it can: a link named ``x.jpg`` to ``/etc/passwd``, a FIFO that blocks a
worker, a device. :func:`read_image` resolves the path, keeps it inside the allowed folders and
reads a regular file of bounded size from the very file it checked.
"""

from __future__ import annotations

import mimetypes
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

from bamboo.errors import FileRefused, printable

__all__ = ["MAX_IMAGE_BYTES", "ImageFile", "read_image"]

#: The largest task image read (a photo shown to an annotator is far smaller).
MAX_IMAGE_BYTES = 20 * 2**20

# Open without following a last link (a file swapped for one after the check) and without
# waiting (a FIFO would block until a writer came).
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class ImageFile:
    """A task image read by :func:`read_image`.

    Attributes:
        path: Its real path (links resolved).
        media_type: Its type from its name, ``image/...``.
        data: Its bytes.
    """

    path: Path
    media_type: str
    data: bytes


def _image_type(name: str) -> str | None:
    kind = mimetypes.guess_type(name)[0]
    return kind if kind and kind.startswith("image/") else None


def read_image(
    image: str | os.PathLike[str],
    roots: Sequence[str | os.PathLike[str]],
    *,
    max_bytes: int = MAX_IMAGE_BYTES,
) -> ImageFile:
    """Read a local task image that lies inside ``roots`` and is a regular image file.

    The path may not contain ``..``; it is resolved (every link followed) and the result must lie
    inside one of ``roots`` (resolved too) and keep an image name. The file is then opened without
    following links or blocking, and its type and size are checked on the open file before it is
    read, so what is read is what was checked.

    Args:
        image: The task's image path.
        roots: The folders images may be read from; none allows nothing.
        max_bytes: The largest file read.

    Raises:
        FileNotFoundError: no file at ``image`` (or a link to nothing).
        FileRefused: anything else that is not a regular image file of at most ``max_bytes``
            inside ``roots``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     cat = Path(folder, "cat.png")
    ...     _ = cat.write_bytes(b"a photo")
    ...     found = read_image(cat, [folder])
    ...     try:
    ...         read_image(cat, [Path(folder, "elsewhere")])
    ...     except FileRefused as exc:
    ...         refused = str(exc)
    >>> found.media_type, found.data, refused.endswith("lies outside the folders task images are read from")
    ('image/png', b'a photo', True)
    """
    shown = printable(os.fspath(image), 200)
    if ".." in PurePath(image).parts:
        raise FileRefused(f"{shown}: an image path may not contain '..'")
    kind = _image_type(PurePath(image).name)
    if kind is None:
        raise FileRefused(f"{shown} is not named as an image (.jpg, .png, ...)")
    try:
        real = Path(image).resolve(strict=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"{shown}: no such file") from None
    except (OSError, RuntimeError) as exc:  # a link loop (RuntimeError before Python 3.13)
        raise FileRefused(f"{shown} cannot be resolved: {exc.__class__.__name__}") from None
    if not any(real.is_relative_to(Path(root).resolve()) for root in roots):
        raise FileRefused(f"{shown} lies outside the folders task images are read from")
    if not stat.S_ISREG(real.stat().st_mode):  # no open at all of a folder, FIFO or device
        raise FileRefused(f"{shown} is not a regular file")
    if _image_type(real.name) is None:
        raise FileRefused(f"{shown} links to a file not named as an image")
    try:
        fd = os.open(real, _OPEN_FLAGS)
    except OSError as exc:
        raise FileRefused(f"{shown} cannot be opened: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise FileRefused(f"{shown} is not a regular file")
        if st.st_size > max_bytes:
            raise FileRefused(f"{shown} is {st.st_size:,} bytes, above the {max_bytes:,} an image may have")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew while being read
        raise FileRefused(f"{shown} is above the {max_bytes:,} bytes an image may have")
    return ImageFile(path=real, media_type=kind, data=data)
