"""lab: the article's demos run as asyncio coroutines, threads and processes, measured side by side.

    >>> import lab
    >>> r = lab.run("pool-map", "threads", sleep=0.1)
    >>> r.outputs_ok, round(r.elapsed_s, 1)
    (True, 0.1)

`run` runs one trial, `run_trials` several; `demos()` and `models()` list what exists. `bench`
runs your own function serially and in each model, with a verdict (`lab.benching`). Errors the
lab raises on purpose derive from `LabError` (see `lab.errors`).
"""

from __future__ import annotations

import importlib.metadata as _metadata
import typing as _typing

from lab.demos import DEMOS as _DEMOS
from lab.errors import BadJob, BadResultsFile, InvalidParameter, LabError, Unavailable, UnknownName
from lab.models import MODELS as _MODELS
from lab.results import Result, ResultsFile
from lab.runner import run, run_trials

if _typing.TYPE_CHECKING:
    from lab.benching import Bench, bench
else:

    def __getattr__(name: str) -> _typing.Any:
        """`bench` and `Bench`, imported on first use: worker processes import `lab` too, and
        need none of `lab bench`'s machinery (a tenth of a second per worker)."""
        if name in ("bench", "Bench"):
            import lab.benching  # noqa: PLC0415

            return getattr(lab.benching, name)
        raise AttributeError(f"module 'lab' has no attribute {name!r}")


try:
    __version__ = _metadata.version("lab")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"


def demos() -> dict[str, str]:
    """Every demo's name with a one-line description."""
    return {name: demo.description for name, demo in _DEMOS.items()}


def models() -> dict[str, str]:
    """Every model's name with a one-line description."""
    return {name: model.description for name, model in _MODELS.items()}


__all__ = [
    "BadJob",
    "BadResultsFile",
    "Bench",
    "InvalidParameter",
    "LabError",
    "Result",
    "ResultsFile",
    "Unavailable",
    "UnknownName",
    "__version__",
    "bench",
    "demos",
    "models",
    "run",
    "run_trials",
]
