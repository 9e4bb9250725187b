"""glibc malloc settings of the service process: the arena cap, and giving freed heap back.

Both are no-ops off glibc (they return False / None). ``benchmarks/soak.py`` measures their effect:
the service's RSS over graph changes that each replace the whole in-memory view.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
import time

__all__ = ["limit_malloc_arenas", "release_free_memory"]


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None  # musl has no malloc_trim


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas for this process (what ``MALLOC_ARENA_MAX`` does), unless the
    environment sets it. The service's request threads each got an arena of their own, and every
    rebuilt view left memory behind in them: over 32 graph changes in ``benchmarks/soak.py`` the
    service grew 496 -> 773 MB (1.56x); with 2 arenas it stayed flat (446 -> 533 MB, 1.20x, peaking
    at 585 MB), equally fast. Call it before threads start. Returns whether the cap was set (only on
    glibc).
    """
    libc = _glibc()
    if os.environ.get("MALLOC_ARENA_MAX") or libc is None:
        return False
    m_arena_max = -8  # glibc's malloc.h
    return bool(libc.mallopt(m_arena_max, arenas))


def release_free_memory() -> float | None:
    """Give the pages glibc's malloc holds free back to the system (``malloc_trim(0)``); returns
    the seconds it took, or None off glibc.

    A view swap frees a whole view, but glibc gives back to the system only the free memory at the
    top of a heap; the rest stays in the process as free chunks between live ones. In
    ``benchmarks/soak.py`` that was most of the service's growth: 155-180 MB free inside malloc's
    heaps (``mallinfo2().fordblks``) beside 105-150 MB in use, for as long as the service ran.
    ``malloc_trim`` also releases the free pages in the middle of each heap (``MADV_DONTNEED``):
    there, 23-98 MB per call, in 6.5-71 ms (median 18 ms) on a busy 2-core box. It holds each
    arena's lock while it walks it, so it runs once per view swap, off the request path.
    """
    libc = _glibc()
    if libc is None:
        return None
    t0 = time.perf_counter()
    libc.malloc_trim(0)
    return time.perf_counter() - t0
