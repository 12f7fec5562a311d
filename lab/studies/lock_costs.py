"""What one acquire and release of each lock a report's models use costs, uncontended, in the
calling process: each model measures its own (`Model.lock_costs`, with `lab.measure.locks`'s
helpers); this asks every model of the report and keeps each lock once."""

from __future__ import annotations

from collections.abc import Iterable

from lab.models import Model


def measure(models: Iterable[type[Model]]) -> dict[str, float]:
    """Microseconds per acquire and release of each lock the models use (available ones only)."""
    costs: dict[str, float] = {}
    for model in models:
        if model.unavailable(model.default_options()) is None:
            costs |= {name: us for name, us in model.lock_costs().items() if name not in costs}
    return costs
