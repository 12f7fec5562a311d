"""Which models exist: every class registered under the entry point group `lab.models`
(`lab.plugins.Registry`, which the demos' registry shares):

    [project.entry-points."lab.models"]
    mythreads = "labplug:MyThreads"

A plug-in that fails to import, is not a `Model` subclass, names itself differently from its
entry point or lacks what a model declares is listed in `BROKEN` with one line saying why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lab.errors import in_one_line
from lab.models.base import Model, TaskName
from lab.plugins import Registry

GROUP = "lab.models"


def not_a_model(found: Any) -> str | None:
    """Why a loaded object is not a model (None: it is one)."""
    if not (isinstance(found, type) and issubclass(found, Model)):
        return f"is not a lab.models.Model subclass: {found!r}"
    try:
        found.default_options()
        _ = found.description, found.max_workers
    except Exception as exc:
        return f"is incomplete: {in_one_line(exc)}"
    return None


class Models(Registry[type[Model]]):
    """Model name -> class, from the entry points (loaded on first use); writable, for tests."""

    def __init__(self) -> None:
        super().__init__(GROUP, "model", not_a_model, lambda model: model.rank)

    def runnable(self) -> list[str]:
        """The models whose default variant can run here (what a command runs when none is named)."""
        return [name for name, model in self.items() if model.unavailable(model.default_options()) is None]

    def owners(
        self, task: TaskName | None = None, uses: Callable[[str], bool] | None = None
    ) -> dict[str, list[str]]:
        """Which models declare each option (with `task`: only options that apply to it, in work
        that `uses` those primitives: `Model.options_for`), so that a request for every model hands
        each model only its own."""
        found: dict[str, list[str]] = {}
        for name, model in self.items():
            for option in model.options_for(task, uses) if task else model.takes:
                found.setdefault(option.name, []).append(name)
        return found

    def get_model(self, name: str) -> type[Model]:
        """The model called `name`; Unavailable for a broken plug-in, UnknownName for none."""
        return self.find(name)


MODELS = Models()
BROKEN = MODELS.broken
