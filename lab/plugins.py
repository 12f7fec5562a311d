"""Plug-ins: what an entry point group registers, read once, on first use.

The lab's models (`lab.models`) and demos (`lab.demos`) are both found this way; the built-ins
are registered by the lab's own `pyproject.toml`, exactly as a third party's would be (pytest's
`pytest11`, dask.distributed's `distributed.comm.backends`):

    [project.entry-points."lab.demos"]
    mydemo = "labdemo:DEMO"

A plug-in that fails to import, is not what its group holds or names itself differently from its
entry point is not registered: it is listed in `broken` with one line saying why (`lab list`
shows it as unavailable), asking for it by name raises `Unavailable` with that line, and every
other plug-in keeps working.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from lab.errors import Unavailable, UnknownName, in_one_line

if TYPE_CHECKING:
    import importlib.metadata

T = TypeVar("T")


class Registry(MutableMapping[str, T], Generic[T]):
    """Name -> plug-in, from an entry point group (loaded on first use, in `rank` order);
    writable, for tests.

    `kind` names a plug-in in messages ("model", "demo"); `check(found)` says why a loaded object
    is not one (None: it is), and `rank(found)` where it stands in every list and table."""

    def __init__(
        self, group: str, kind: str, check: Callable[[Any], str | None], rank: Callable[[T], int]
    ) -> None:
        self.group, self.kind, self.check, self.rank = group, kind, check, rank
        self._found: dict[str, T] | None = None
        self.broken: dict[str, str] = {}

    def _loaded(self) -> dict[str, T]:
        if self._found is None:
            import importlib.metadata  # noqa: PLC0415 (on first use: 40 ms a worker need not pay)

            found: dict[str, T] = {}
            for point in importlib.metadata.entry_points(group=self.group):
                if point.name in found or point.name in self.broken:
                    continue  # the same distribution seen twice on sys.path: the first one wins
                loaded = self.load(point)
                if isinstance(loaded, str):
                    self.broken[point.name] = loaded
                else:
                    found[point.name] = loaded
            # the order every list and table shows them in
            self._found = dict(sorted(found.items(), key=lambda item: (self.rank(item[1]), item[0])))
        return self._found

    def load(self, point: importlib.metadata.EntryPoint) -> T | str:
        """What an entry point names, or one line saying why it is not a plug-in of this group."""
        where = f"{self.kind} plug-in {point.name!r} ({point.value})"
        try:
            found = point.load()
        except Exception as exc:  # whatever a third party's import raises, it is that plug-in's fault
            return f"{where} failed to import: {in_one_line(exc)}"
        if (why := self.check(found)) is not None:
            return f"{where} {why}"
        if getattr(found, "name", None) != point.name:
            return f"{where} names itself {getattr(found, 'name', None)!r}, not {point.name!r}"
        loaded: T = found
        return loaded

    def __getitem__(self, name: str) -> T:
        return self._loaded()[name]

    def __setitem__(self, name: str, plugin: T) -> None:
        self._loaded()[name] = plugin

    def __delitem__(self, name: str) -> None:
        del self._loaded()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())

    def find(self, name: str) -> T:
        """The plug-in called `name`; Unavailable for a broken one, UnknownName for none."""
        found = self._loaded()
        if name in found:
            return found[name]
        if name in self.broken:
            raise Unavailable(self.broken[name])
        raise UnknownName(self.kind, name, found)
