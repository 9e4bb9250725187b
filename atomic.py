"""Atomic writes: a file (or folder) appears complete under its name or not at all, so a crash or an
error mid-write never leaves a half-written checkpoint, export or cache behind."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "write_bytes_atomic", "write_text_atomic"]


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str = ".part") -> Iterator[Path]:
    """Yield a temporary path beside ``target`` (its name + ``suffix``) to write a file or a folder to.
    When the block ends without an error it replaces ``target`` (a folder target is removed first);
    on an error the temporary is removed and ``target`` is left as it was.

    ``suffix`` lets writers that insist on an extension keep it, e.g. ``".part.npy"`` for ``np.save``.
    """
    final = Path(target)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(final.name + suffix)
    _remove(tmp)
    try:
        yield tmp
    except BaseException:
        _remove(tmp)
        raise
    if final.is_dir() and not final.is_symlink():
        shutil.rmtree(final)
    os.replace(tmp, final)


def write_text_atomic(target: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` as UTF-8 to ``target`` atomically (see :func:`atomic_path`).

    Returns:
        ``target`` as a path.
    """
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_bytes_atomic(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically (see :func:`atomic_path`).

    Returns:
        ``target`` as a path.
    """
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)
