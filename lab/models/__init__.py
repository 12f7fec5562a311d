"""The models: the contract (`base`), what their tasks share (`tasks`), the registry of every
model installed (`registry`: the entry point group `lab.models`), and one module per built-in
model, named after it: `asyncio`, `threads`, `processes`, `interpreters`, `dask`."""

from __future__ import annotations

from lab.models.base import Measured, Model, Option, Work, Workers
from lab.models.registry import BROKEN, MODELS

__all__ = ["BROKEN", "MODELS", "Measured", "Model", "Option", "Work", "Workers"]
