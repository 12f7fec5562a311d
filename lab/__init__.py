"""lab: the article's demos run as asyncio coroutines, threads and processes, measured side by side.

    >>> import lab
    >>> r = lab.run("pool-map", "threads", sleep=0.1)
    >>> r.outputs_ok, round(r.elapsed_s, 1)
    (True, 0.1)

`run` runs one trial, `run_trials` several; `list_demos()` and `list_models()` list what exists (both
are plug-ins: `lab.plugins`). Each study is one call returning a `ResultsFile`: `report` (the
whole report), `run_models` (one demo in each model), `sweep` (one demo at several worker
counts), `races` (the racy counter's statistics); `publish` writes any of them (charts, JSON,
markdown). `bench` runs your own function serially and in each model, with a verdict
(`lab.benching`). Errors the lab raises on purpose derive from `LabError`; Ctrl-C stops a study
with `StudyInterrupted`, carrying what it measured (see `lab.errors`).
"""

from __future__ import annotations

import typing as _typing

from lab.errors import (
    BadJob,
    BadResultsFile,
    InvalidParameter,
    LabError,
    StudyInterrupted,
    Unavailable,
    UnknownName,
)

if _typing.TYPE_CHECKING:
    from lab.benching import Bench, bench
    from lab.reporting import publish, races, report, resume, run_models, sweep
    from lab.results import Result, ResultsFile
    from lab.runner import run, run_trials
else:
    _LAZY = {"bench": "lab.benching", "Bench": "lab.benching", "report": "lab.reporting",
             "publish": "lab.reporting", "run_models": "lab.reporting", "sweep": "lab.reporting",
             "resume": "lab.reporting",
             "races": "lab.reporting", "run": "lab.runner", "run_trials": "lab.runner",
             "Result": "lab.results", "ResultsFile": "lab.results"}  # fmt: skip

    def __getattr__(name: str) -> _typing.Any:
        """`__version__` and the library, on first use: worker processes and subinterpreters import `lab`
        too (a task's module is in it), and need none of that machinery; a subinterpreter could not
        even load some of it (psutil and msgspec refuse to load in one)."""
        if name == "__version__":
            from lab.journal import lab_version  # noqa: PLC0415

            return lab_version()
        if name in _LAZY:
            import importlib  # noqa: PLC0415

            return getattr(importlib.import_module(_LAZY[name]), name)
        raise AttributeError(f"module 'lab' has no attribute {name!r}")


def list_demos() -> dict[str, str]:
    """Every demo's name with a one-line description (plug-ins included; a broken one is in
    `lab.demos.BROKEN`, with why)."""
    from lab.demos import DEMOS  # noqa: PLC0415 (here: a worker importing `lab` needs no demo)

    return {name: demo.description for name, demo in DEMOS.items()}


def list_models() -> dict[str, str]:
    """Every model's name with a one-line description (plug-ins included; a broken one is in
    `lab.models.BROKEN`, with why)."""
    from lab.models import MODELS  # noqa: PLC0415 (here: see list_demos)

    return {name: model.description for name, model in MODELS.items()}


__all__ = [
    "BadJob",
    "BadResultsFile",
    "Bench",
    "InvalidParameter",
    "LabError",
    "Result",
    "ResultsFile",
    "StudyInterrupted",
    "Unavailable",
    "UnknownName",
    "__version__",
    "bench",
    "list_demos",
    "list_models",
    "publish",
    "races",
    "report",
    "resume",
    "run",
    "run_models",
    "run_trials",
    "sweep",
]
