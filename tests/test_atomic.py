"""The one atomic-write helper: complete or absent, never half-written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bamboo.atomic import atomic_path, write_bytes_atomic, write_text_atomic


def test_file_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "state.json"
    write_text_atomic(target, "one")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "one"  # untouched
    assert sorted(p.name for p in target.parent.iterdir()) == ["state.json"]  # no temporary left
    assert write_bytes_atomic(target, b"two").read_bytes() == b"two"


def test_folders_and_writers_that_want_an_extension(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    for n in (1, 2):
        with atomic_path(folder) as tmp:
            tmp.mkdir()
            (tmp / f"part{n}.txt").write_text(str(n))
    assert [p.name for p in folder.iterdir()] == ["part2.txt"]  # replaced as a whole
    with atomic_path(tmp_path / "v.npy", ".part.npy") as tmp:
        np.save(tmp, np.arange(3))
    assert np.load(tmp_path / "v.npy").tolist() == [0, 1, 2]
