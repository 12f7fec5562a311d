"""Which models exist: every class registered under the entry point group `lab.models`.

The built-in models are registered there by the lab's own `pyproject.toml`, exactly as a third
party's would be (pytest's `pytest11`, dask.distributed's `distributed.comm.backends`):

    [project.entry-points."lab.models"]
    mythreads = "labplug:MyThreads"

The group is read once, on first use. A plug-in that fails to import, is not a `Model` subclass
or names itself differently from its entry point is not a model: it is listed in `BROKEN` with
one line saying why, `lab list` shows it as unavailable, and asking for it by name raises
`Unavailable` with that line; every other model keeps working.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING

from lab.errors import Unavailable, UnknownName
from lab.models.base import Model

if TYPE_CHECKING:
    import importlib.metadata

GROUP = "lab.models"


class Registry(MutableMapping[str, type[Model]]):
    """Model name -> class, from the entry points (loaded on first use); writable, for tests."""

    def __init__(self) -> None:
        self._models: dict[str, type[Model]] | None = None
        self.broken: dict[str, str] = {}

    def _loaded(self) -> dict[str, type[Model]]:
        if self._models is None:
            import importlib.metadata  # noqa: PLC0415 (on first use: 40 ms a worker need not pay)

            self._models = {}
            for point in importlib.metadata.entry_points(group=GROUP):
                if point.name in self._models or point.name in self.broken:
                    continue  # the same distribution seen twice on sys.path: the first one wins
                found = load(point)
                if isinstance(found, str):
                    self.broken[point.name] = found
                else:
                    self._models[point.name] = found
            ranked = sorted(self._models.items(), key=lambda item: (item[1].rank, item[0]))
            self._models = dict(ranked)  # the order every list and table shows them in
        return self._models

    def __getitem__(self, name: str) -> type[Model]:
        return self._loaded()[name]

    def __setitem__(self, name: str, model: type[Model]) -> None:
        self._loaded()[name] = model

    def __delitem__(self, name: str) -> None:
        del self._loaded()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())

    def runnable(self) -> list[str]:
        """The models whose default variant can run here (what a command runs when none is named)."""
        return [
            name
            for name, model in self._loaded().items()
            if model.unavailable(model.default_options()) is None
        ]

    def get_model(self, name: str) -> type[Model]:
        """The model called `name`; Unavailable for a broken plug-in, UnknownName for none."""
        models = self._loaded()
        if name in models:
            return models[name]
        if name in self.broken:
            raise Unavailable(self.broken[name])
        raise UnknownName("model", name, models)


def load(point: importlib.metadata.EntryPoint) -> type[Model] | str:
    """The model class an entry point names, or one line saying why it is not one."""
    where = f"model plug-in {point.name!r} ({point.value})"
    try:
        found = point.load()
    except Exception as exc:  # whatever a third party's import raises, it is that plug-in's fault
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"{where} failed to import: {type(exc).__name__}: {first}"
    if not (isinstance(found, type) and issubclass(found, Model)):
        return f"{where} is not a lab.models.Model subclass: {found!r}"
    if getattr(found, "name", None) != point.name:
        return f"{where} names itself {getattr(found, 'name', None)!r}, not {point.name!r}"
    try:
        found.default_options()
        _ = found.description, found.max_workers
    except Exception as exc:
        return f"{where} is incomplete: {type(exc).__name__}: {exc}"
    return found


MODELS = Registry()
BROKEN = MODELS.broken
