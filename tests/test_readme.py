"""Every Python block of the README runs as written (pytest-examples), next to the small data it names.

The SDK block loads ``taxonomy.npz`` (``bamboo snapshot`` of a store built from WordNet and timm's
ImageNet-1K list, as ``make run`` builds it), de-duplicates ``pool.txt`` against ``testset/`` (real
photos from scikit-image, one of them in both), and prints what its comments promise.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pytest_examples import CodeExample, EvalExample, find_examples

from bamboo.graph.embedded import ServerInfo, create_database, drop_database
from conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = [e for e in find_examples(str(ROOT / "README.md")) if e.prefix.startswith(("py", "python"))]


@pytest.fixture(scope="module")
def workdir(server: ServerInfo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from PIL import Image
    from skimage import data

    folder = tmp_path_factory.mktemp("readme")
    drop_database(server, "readme")
    create_database(server, "readme")
    db = {"BAMBOO_GRAPH_DATABASE": "readme"}
    out = run_cli(server, "build", "--datasets", "imagenet-1k", **db)
    assert out.returncode == 0, out.stderr[-2000:]
    out = run_cli(server, "snapshot", str(folder / "taxonomy.npz"), **db)
    assert out.returncode == 0, out.stderr[-2000:]
    (folder / "testset").mkdir()
    photos = {"astronaut": data.astronaut(), "coffee": data.coffee(), "chelsea": data.chelsea()}
    for name, pixels in photos.items():
        Image.fromarray(np.asarray(pixels)).save(folder / f"{name}.png")
    Image.fromarray(np.asarray(photos["astronaut"])).save(folder / "testset" / "astronaut.png")
    (folder / "pool.txt").write_text("".join(f"{folder / n}.png {i}\n" for i, n in enumerate(photos)))
    yield folder
    drop_database(server, "readme")


def test_the_readme_has_python_blocks() -> None:
    assert EXAMPLES, "no python block found in README.md"


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_readme_block_runs_as_written(
    example: CodeExample, eval_example: EvalExample, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    here = Path.cwd()
    os.chdir(workdir)
    try:
        eval_example.run(example)
    finally:
        os.chdir(here)
    printed = capsys.readouterr().out
    if "rectify_detection" in example.source:
        # what the block's comments say it prints
        assert "[True, False]" in printed and "[True, False, True]" in printed, printed
        assert "kept=2" in printed and "duplicates=1" in printed, printed
        assert (workdir / "pool.filtered.txt").read_text().count("\n") == 2
