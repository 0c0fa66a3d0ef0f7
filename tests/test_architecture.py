"""The import rules of DESIGN.md, enforced: import-linter contracts (`.importlinter`) plus two checks
it cannot express — heavy libraries never imported at module level in the core, and never loaded by
`import curator` or by building the `curate` command line."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "transformers", "trl", "peft", "datasets", "accelerate", "ray", "textual")


def test_import_linter_contracts_hold():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if exe is None:
        pytest.fail("lint-imports is not installed: `pip install -e .[dev]` brings import-linter")
    r = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "BROKEN" not in r.stdout


def _top_level_imports(path: Path) -> list[str]:
    """Modules imported when `path` is imported: module-level statements, not function bodies."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []

    def visit(stmts):
        for node in stmts:
            if isinstance(node, ast.Import):
                names.extend(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.append(node.module)
            elif isinstance(node, (ast.If, ast.Try)):  # still runs at import time
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for h in getattr(node, "handlers", []):
                    visit(h.body)
                visit(getattr(node, "finalbody", []))
    visit(tree.body)
    return names


def test_core_imports_no_heavy_library_at_module_level():
    offenders = []
    for pkg in ("curator", "rubrics"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT)
            allowed = {"textual"} if rel.parts[:2] == ("curator", "review") else set()
            for name in _top_level_imports(path):
                top = name.split(".")[0]
                if top in HEAVY and top not in allowed:
                    offenders.append(f"{rel}: import {name}")
    assert not offenders, "import these inside the function that needs them:\n" + "\n".join(offenders)


def test_import_curator_and_cli_stay_light():
    code = ("import sys, curator, curator.cli, curator.recipe_run; "
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]", f"heavy modules loaded by `import curator`: {r.stdout}"


# No cycle is left (the last ones were broken by leaf modules: `formats.record_formats`,
# `raw_row`, `filters.from_params`, `filters.repeats`). New code must not add one: move the piece
# both sides need into a leaf module, and a stage names its engine driver (`ray_driver`) instead of
# importing it.
KNOWN_CYCLES: list[set[str]] = []


def _import_cycles() -> list[set[str]]:
    """Groups of modules that import each other, counting every import (also inside functions)."""
    import grimp

    graph = grimp.build_graph("curator", "rubrics", "trainer", cache_dir=None)
    edges = {m: {x for x in graph.find_modules_directly_imported_by(m) if x in graph.modules} for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for m in sorted(edges):
        if m not in index:
            visit(m)
    return groups


def test_no_new_import_cycles():
    cycles = _import_cycles()
    new = [sorted(g) for g in cycles if g not in KNOWN_CYCLES]
    assert not new, f"import cycles: {new}"
