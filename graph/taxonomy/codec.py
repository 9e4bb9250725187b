"""The one string-column codec of the project's ``.npz`` files (the taxonomy snapshot and the
service's saved view): a list of strings as one UTF-8 byte array, and the taxonomy's own arrays.

Rows are separated by :data:`ROW_SEP`; a missing value (None) is written as :data:`NONE_ROW`; the
lemmas of one concept are joined by :data:`LEMMA_SEP` inside its row. No pickled objects: a file is
read with ``allow_pickle=False``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

__all__ = ["LEMMA_SEP", "NONE_ROW", "ROW_SEP", "join_rows", "split_rows"]

ROW_SEP = "\x1e"
LEMMA_SEP = "\x1f"
NONE_ROW = "\x00"


def join_rows(rows: Iterable[str | None]) -> npt.NDArray[np.uint8]:
    """Strings (None allowed) as one UTF-8 byte array, rows separated by :data:`ROW_SEP`.

    Raises:
        ValueError: a string holds :data:`ROW_SEP` or is :data:`NONE_ROW` (it could not be read back).
    """
    out: list[str] = []
    for row in rows:
        if row is None:
            out.append(NONE_ROW)
        elif ROW_SEP in row or row == NONE_ROW:
            raise ValueError(f"a string holds a control separator: {row!r}")
        else:
            out.append(row)
    return np.frombuffer(ROW_SEP.join(out).encode(), dtype=np.uint8)


def split_rows(data: npt.NDArray[np.uint8], n: int) -> list[str | None]:
    """The ``n`` strings :func:`join_rows` joined.

    Raises:
        ValueError: the array holds another number of rows.
    """
    rows: list[str | None] = [None if r == NONE_ROW else r for r in data.tobytes().decode().split(ROW_SEP)]
    if not n:
        rows = []
    if len(rows) != n:
        raise ValueError(f"a text column holds {len(rows)} rows where {n} are expected")
    return rows
