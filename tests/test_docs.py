"""The documentation site builds with ``mkdocs build --strict`` (a broken link, a reference that does
not resolve or a generator that fails is an error), and the user docs stay what a user reads: a short
README, no issue numbers and no history of how the code got here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
USER_DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# Issue references ("#19") and session history; a URL fragment or a Markdown heading does not match.
HISTORY = re.compile(
    r"(?<![\w/&])#\d+\b|previous session|before #|the old cleaner|last round|this issue", re.IGNORECASE
)


@pytest.mark.slow
def test_docs_site_builds_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    # mkdocs-material prints a banner about MkDocs 2 unless told not to; it is no warning of ours.
    env = os.environ | {"NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    rest = (site / "reference" / "rest" / "index.html").read_text()
    assert "/concepts/{concept_id}" in rest and "/crawl/classification" in rest
    cli = (site / "reference" / "cli" / "index.html").read_text()
    assert "bamboo serve" in cli and "bamboo snapshot" in cli
    sdk = (site / "reference" / "sdk" / "index.html").read_text()
    assert "OfflineLabels" in sdk and "BambooClient" in sdk
    assert (site / "reference" / "openapi.json").stat().st_size > 10_000
    for page in ("getting-started", "results/2026-12-01-crawl", "guides/sdk"):
        assert (site / page / "index.html").exists(), page


def test_readme_is_short() -> None:
    lines = (ROOT / "README.md").read_text().count("\n")
    why = "guides go under docs/guides/, figures under docs/results/"
    assert lines <= 300, f"README.md has {lines} lines; {why}"


@pytest.mark.parametrize("page", USER_DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_user_docs_carry_no_history(page: Path) -> None:
    hits = [
        f"{page.relative_to(ROOT)}:{n}: {line.strip()[:100]}"
        for n, line in enumerate(page.read_text().splitlines(), 1)
        if HISTORY.search(line)
    ]
    assert not hits, "issue numbers or history belong in CHANGELOG.md:\n" + "\n".join(hits)


def test_every_page_is_in_the_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = [p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")]
    assert pages
    missing = [p for p in pages if p not in nav]
    assert not missing, f"pages not in mkdocs.yml's nav: {missing}"
