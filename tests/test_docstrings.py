"""Every public definition in the package's source has a docstring.

Walks the source with :mod:`ast` (nothing is imported): the modules of the subpackages plus
``errors.py``, ``atomic.py`` and ``__init__.py``. Modules, classes and functions whose name starts
with ``_`` are private and skipped, and so is everything inside a private class.
"""

from __future__ import annotations

import ast
from pathlib import Path

import bamboo

ROOT = Path(bamboo.__file__).resolve().parent
SUBPACKAGES = ("graph", "loaders", "api", "sdk", "training", "cli")
TOP_LEVEL = ("errors.py", "atomic.py", "__init__.py")


def _sources() -> list[Path]:
    files = [ROOT / name for name in TOP_LEVEL]
    for sub in SUBPACKAGES:
        for path in sorted((ROOT / sub).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if any(part.startswith("_") and part != "__init__.py" for part in rel.parts):
                continue
            files.append(path)
    return files


def _public_definitions(path: Path) -> list[tuple[str, bool]]:
    """``(where, has_docstring)`` for each public class, function and method in ``path``."""
    found: list[tuple[str, bool]] = []
    rel = path.relative_to(ROOT)

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if child.name.startswith("_"):
                continue
            where = f"{rel}:{child.lineno} {prefix}{child.name}"
            found.append((where, ast.get_docstring(child) is not None))
            if isinstance(child, ast.ClassDef):
                walk(child, f"{prefix}{child.name}.")

    walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), "")
    return found


DEFINITIONS = [d for path in _sources() for d in _public_definitions(path)]


def test_the_walk_finds_the_package() -> None:
    assert all((ROOT / name).is_file() for name in TOP_LEVEL)
    assert all((ROOT / sub / "__init__.py").is_file() for sub in SUBPACKAGES)
    assert len(DEFINITIONS) > 300, f"only {len(DEFINITIONS)} public definitions found under {ROOT}"


def test_every_public_definition_has_a_docstring() -> None:
    missing = [where for where, documented in DEFINITIONS if not documented]
    assert not missing, f"{len(missing)} public definitions lack a docstring:\n" + "\n".join(missing)
