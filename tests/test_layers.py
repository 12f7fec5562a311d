"""Imports point down: every module of `lab` imports only from its own layer or the layers below.

The layers, from the ground up (a module is in the layer of its package, or of itself):
records (results files and their journals) and plumbing; the HTTP server and clients, the
measuring helpers and pictures; the models; the parameters and the demos; the runner; the
studies (runs that produce records); the views (the report's sections, `lab bench`); the report
as one call (`lab.reporting`); the command line and the package's own face. Every import
counts, those inside functions and under TYPE_CHECKING too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

LAB = Path(__file__).parent.parent / "lab"
LAYERS = [
    ("lab.errors", "lab.signals", "lab._compat"),
    ("lab.results", "lab.journal", "lab.plugins"),
    ("lab.http", "lab.measure", "lab.pictures"),
    ("lab.models",),
    ("lab.params", "lab.demos"),
    ("lab.runner",),
    ("lab.studies",),
    ("lab.render", "lab.benching"),
    ("lab.reporting",),
    ("lab.cli", "lab", "lab.__main__"),
]


def layer(module: str) -> int:
    """The layer of a module of the lab: its longest declared prefix's."""
    best = max((p for group in LAYERS for p in group if module == p or module.startswith(p + ".")), key=len)
    return next(i for i, group in enumerate(LAYERS) if best in group)


def module_of(path: Path) -> str:
    parts = path.relative_to(LAB.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every module of the lab that a file imports (`from lab import x` as `lab.x` where x is one)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "lab"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "lab":
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                is_module = (LAB.parent / sub.replace(".", "/")).with_suffix(".py").is_file() or (
                    LAB.parent / sub.replace(".", "/") / "__init__.py"
                ).is_file()
                found.add(sub if is_module else node.module)
    return found


def test_every_import_points_down_or_sideways() -> None:
    upward = []
    for path in sorted(LAB.rglob("*.py")):
        here = module_of(path)
        upward += [f"{here} -> {other}" for other in sorted(imported(path)) if layer(other) > layer(here)]
    assert not upward, upward


def test_every_module_is_in_a_layer() -> None:
    for path in LAB.rglob("*.py"):
        layer(module_of(path))  # max() of nothing raises: a package no layer names


def docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring constants (a module's, a class's, a function's): documentation."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def test_no_demo_is_named_outside_its_own_module() -> None:
    # What differs per demo is declared on the demo: a view, a study or a model that wrote a
    # demo's name would be an `if` on it (docstrings' examples are documentation, not code).
    names = {path.stem.replace("_", "-"): path for path in (LAB / "demos").glob("*.py")}
    named = []
    for path in sorted(LAB.rglob("*.py")):
        tree = ast.parse(path.read_text())
        skip = docstrings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and id(node) not in skip
                and isinstance(node.value, str)
                and names.get(node.value, path) != path
            ):
                named.append(f"{path.relative_to(LAB.parent)}:{node.lineno}: {node.value!r}")
    assert "pool-map" in names and "http-get" in names
    assert not named, named


def test_a_spawned_worker_imports_no_demo_and_no_asyncio() -> None:
    # A worker started by spawn or forkserver imports the module of its pool's initializer and
    # tasks (`lab.models.processes`) and re-runs the `lab` script (`lab.cli`) as `__mp_main__`:
    # whatever those pull in is start-up the report charges to the start method. Importing the
    # demos from `lab/__init__.py` brought in asyncio, the HTTP server and urllib.request, and
    # 5 spawned workers started in 0.57 s instead of 0.40 s (medians of 7).
    heavy = ["asyncio", "lab.demos", "lab.http.server", "lab.studies", "urllib.request", "tabulate"]
    code = f"import sys, lab.cli, lab.models.processes; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_a_forkserver_holds_the_processes_task_module_before_it_forks() -> None:
    # A script's `__main__` imports its tasks, so multiprocessing's default preload puts them in
    # the forkserver and its children share them; the `lab` script does not, and each worker
    # imported the task module after the fork: 2.2x a hand-written pool's start-up, and 13.7 MB
    # a worker instead of 6.5 (benchmarks/alone.py --only start-up).
    from lab.models.processes import Processes, call_chunk, join_pool  # noqa: PLC0415

    assert "__main__" in Processes.forkserver_preload
    assert {join_pool.__module__, call_chunk.__module__} <= set(Processes.forkserver_preload)
