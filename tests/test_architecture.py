"""The house's import contract (import-linter, configured in pyproject.toml) holds, would catch an
upward import, and the SDK's import path loads no database driver."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"]


def lint() -> subprocess.CompletedProcess[str]:
    return subprocess.run(LINT, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_the_import_contract_holds() -> None:
    out = lint()
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_an_upward_import_breaks_the_contract() -> None:
    """The pure taxonomy importing the store is refused, named by module and line."""
    probe = ROOT / "graph" / "taxonomy" / "_upward_probe.py"
    probe.write_text(
        '"""Written by a test; imports upward on purpose."""\n\nimport bamboo.graph.store.graph_store\n'
    )
    try:
        out = lint()
    finally:
        probe.unlink()
    assert out.returncode != 0
    assert "BROKEN" in out.stdout
    assert "bamboo.graph.taxonomy._upward_probe -> bamboo.graph.store.graph_store" in out.stdout


def test_the_sdk_and_the_snapshot_path_load_no_driver() -> None:
    code = (
        "import sys, bamboo.sdk, bamboo.sdk.labels, bamboo.sdk.ood, bamboo.sdk.samplers\n"
        "import bamboo.graph.taxonomy.snapshot, bamboo.graph.taxonomy.invariants\n"
        "import bamboo.graph.taxonomy.wordnet\n"
        "from bamboo.graph import Taxonomy\n"
        "drivers = {'neo4j', 'arcadedb_embedded', 'fastapi'}\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in drivers"
        " or m.startswith(('bamboo.graph.store', 'bamboo.api', 'pydantic_settings')))\n"
        "print(loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
