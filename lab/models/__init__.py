"""The model registry: one line per model. A fourth model is one new module and one line here."""

from __future__ import annotations

from lab.models.base import Measured, Model, Work
from lab.models.cluster import Dask
from lab.models.coroutines import Coroutines
from lab.models.processes import Processes
from lab.models.threads import Threads

MODELS: dict[str, type[Model]] = {
    Coroutines.name: Coroutines,
    Threads.name: Threads,
    Processes.name: Processes,
    Dask.name: Dask,
}

__all__ = ["MODELS", "Measured", "Model", "Work"]
