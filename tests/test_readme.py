"""Every code block of the README and of ``docs/`` runs as written, in page order, against what
``make run`` serves.

The module runs ``make run`` itself, the README's first command, with a fresh data folder, free ports
for the embedded store and ``DATASETS_DIR`` empty (WordNet plus timm's ImageNet lists: the class
lists of the team's shared folder would add a minute and nothing the blocks use), and waits until the
API answers on http://127.0.0.1:8000, where the tour talks to it. Then each block runs:

- ``bash`` blocks with bash in a scratch folder that links ``.venv`` to this virtual environment, as a
  user's second terminal in the clone would be (blocks are extracted by pytest-codeblocks);
- ``python`` blocks with pytest-examples, in the same folder, where the SDK guide also finds the
  ``pool.txt`` and ``testset/`` it de-duplicates (real photos from scikit-image, one in both);
- the quick start's ``make test`` is CI itself (``.ci/run``), checked as such.

A block that cannot run in a test says so on the line before it,
``<!--pytest.mark.skip(reason="...")-->``, and the reason shows in the test report. A block of any
other language must be ``text`` (diagrams, synopses), so nothing escapes by having no language.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
from pytest_codeblocks import extract_from_file
from pytest_examples import CodeExample, EvalExample, find_examples

from conftest import IN_CI, free_port

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
TOUR_URL = "http://127.0.0.1:8000"
RUNS = {"bash", "sh", "python", "py"}
SKIP = re.compile(r'pytest\.mark\.skip\(reason="([^"]+)"\)')


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    code: str
    skip: str | None

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}:{self.lang}"


def _blocks() -> list[Block]:
    out = []
    for page in PAGES:
        for b in extract_from_file(page):
            lang = (b.syntax or "").split()[0] if b.syntax else ""
            skips = [m.group(1) for mark in b.marks if (m := SKIP.fullmatch(mark))]
            assert len(skips) == len(b.marks), f"{page}:{b.lineno}: only skip(reason=...) marks: {b.marks}"
            out.append(Block(page, b.lineno, lang, b.code, skips[0] if skips else None))
    return out


BLOCKS = _blocks()
RUNNABLE = [b for b in BLOCKS if b.lang in RUNS]


def test_every_block_is_run_or_text() -> None:
    assert any(b.page.name == "README.md" and b.lang == "python" for b in RUNNABLE)
    others = [f"{b} ({b.lang or 'no language'})" for b in BLOCKS if b.lang not in RUNS | {"text"}]
    assert not others, f"blocks that would not run: {others}; give them bash/python, or text if not code"


def _port_taken(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass(frozen=True)
class Tour:
    workdir: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tour]:
    if _port_taken(8000):
        why = "port 8000 is taken; the tour talks to make run's service on http://127.0.0.1:8000"
        if IN_CI:
            pytest.fail(why)
        pytest.skip(why)
    folder = tmp_path_factory.mktemp("tour")
    workdir = folder / "clone"
    workdir.mkdir()
    (workdir / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAMBOO_")}
    env.update(
        BAMBOO_GRAPH_DATA_DIR=str(folder / "store"),
        BAMBOO_GRAPH_BOLT_PORT=str(free_port()),
        BAMBOO_GRAPH_HTTP_PORT=str(free_port()),
        PATH=f"{Path(sys.prefix) / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    log = folder / "make-run.log"
    with log.open("w") as sink:
        make = subprocess.Popen(
            ["make", "run", "DATASETS_DIR="],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: make, bamboo serve and its children
        )
    try:
        deadline = time.monotonic() + 900
        while True:
            if make.poll() is not None:
                pytest.fail(f"make run exited {make.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{TOUR_URL}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"make run did not serve within 900 s:\n{log.read_text()[-3000:]}")
            time.sleep(1)
        _sdk_guide_files(workdir)
        yield Tour(workdir, env)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGTERM)
            try:
                make.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(make.pid, signal.SIGKILL)
                make.wait(30)
        bamboo = Path(sys.prefix) / "bin" / "bamboo"
        subprocess.run([bamboo, "db", "stop"], env=env, capture_output=True, timeout=120)


def _sdk_guide_files(workdir: Path) -> None:
    """The pool the SDK guide de-duplicates: three real photos, one of them also in ``testset/``."""
    from PIL import Image
    from skimage import data

    (workdir / "testset").mkdir()
    photos = {"astronaut": data.astronaut(), "coffee": data.coffee(), "chelsea": data.chelsea()}
    for name, pixels in photos.items():
        Image.fromarray(np.asarray(pixels)).save(workdir / f"{name}.png")
    Image.fromarray(np.asarray(photos["astronaut"])).save(workdir / "testset" / "astronaut.png")
    (workdir / "pool.txt").write_text("".join(f"{workdir / n}.png {i}\n" for i, n in enumerate(photos)))


def _python_example(block: Block) -> CodeExample:
    examples = [e for e in find_examples(str(block.page)) if abs(e.start_line - block.line) <= 1]
    assert len(examples) == 1, f"{block}: pytest-examples found {len(examples)} blocks here"
    return examples[0]


def _bash(block: Block, tour: Tour) -> str:
    out = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", block.code],
        cwd=tour.workdir,
        env=tour.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    printed = f"{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
    assert out.returncode == 0, f"{block} exited {out.returncode}:\n{printed}"
    return out.stdout


def _commands(code: str) -> list[str]:
    return [line.split("#")[0].strip() for line in code.splitlines() if line.split("#")[0].strip()]


@pytest.mark.slow
@pytest.mark.parametrize(
    "block",
    [pytest.param(b, marks=pytest.mark.skip(reason=b.skip)) if b.skip else b for b in RUNNABLE],
    ids=str,
)
def test_block_runs_as_written(
    block: Block, tour: Tour, eval_example: EvalExample, capsys: pytest.CaptureFixture[str]
) -> None:
    if block.lang in {"bash", "sh"} and _commands(block.code) == ["make run", "make test"]:
        # make run is what the tour fixture ran (and is serving); make test is what CI runs.
        assert httpx.get(f"{TOUR_URL}/concepts/wn:n02084071", timeout=30).json()["name"] == "dog"
        assert _commands((ROOT / ".ci" / "run").read_text())[-1] == "make test"
        return
    if block.lang in {"bash", "sh"}:
        printed = _bash(block, tour)
    else:
        if "taxonomy.npz" in block.code and not (tour.workdir / "taxonomy.npz").exists():
            # written by the tour's CLI block; this runs when a block is selected alone
            _bash(Block(block.page, 0, "bash", "bamboo snapshot taxonomy.npz\n", None), tour)
        here = Path.cwd()
        os.chdir(tour.workdir)
        try:
            eval_example.run(_python_example(block))
        finally:
            os.chdir(here)
        printed = capsys.readouterr().out
    # what the blocks' comments promise
    if "/lca?ids=wn:n02099601,wn:n02121620" in block.code:
        assert '"lca":"wn:n02075296"' in printed, printed
    if "client.related" in block.code:
        assert "wn:n02099029" in printed and "related to dog" in printed, printed
    if "tax.lowest_common_ancestor" in block.code:
        assert "dog" in printed and "wn:n02075296" in printed, printed
    if "bamboo review list" in block.code:
        assert "bamboo:stop-sign" in printed, printed
    if "rectify_detection" in block.code:
        assert "[True, False]" in printed and "[True, False, True]" in printed, printed
        assert "kept=2" in printed and "duplicates=1" in printed, printed
        assert (tour.workdir / "pool.filtered.txt").read_text().count("\n") == 2
