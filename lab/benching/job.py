"""What `lab bench` is given: the user's function (`MODULE:FUNCTION`) and its items, checked.

Every check raises `BadJob` (a `LabError`) with one line naming what was given and what would do.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pickle
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from lab.errors import BadJob, UnknownName, in_one_line

MAX_ITEMS = 10_000_000


def add_paths(paths: Sequence[str | Path] = ()) -> None:
    """Make the user's modules importable: each of `paths`, then the current folder, first on
    `sys.path` (the `lab` script's own folder is there instead of the current one). Worker
    processes inherit it: spawn and forkserver pass `sys.path` to the interpreters they start."""
    for path in [*reversed([str(Path(p).resolve()) for p in paths]), os.getcwd()]:
        if not Path(path).is_dir():
            raise BadJob(f"--path {path!r} is not a folder")
        if path not in sys.path:
            sys.path.insert(0, path)


def resolve(spec: str, *, coroutine: bool = False) -> Callable[..., Any]:
    """The function `spec` names (`package.module:function`, or `module:Class.method`).

    `coroutine` says which kind is wanted: a plain function (False) or an `async def` (True).
    """
    module_name, sep, name = spec.partition(":")
    if not sep or not module_name or not name:
        raise BadJob(f"expected MODULE:FUNCTION, like examples.jobs:arithmetic, not {spec!r}")
    obj: Any = load_module(module_name)
    for part in name.split("."):
        if not hasattr(obj, part):
            names = [n for n, v in vars(obj).items() if callable(v) and not n.startswith("_")]
            raise UnknownName(f"function in {module_name}", name, names or ["(none)"])
        obj = getattr(obj, part)
    if not callable(obj):
        raise BadJob(f"{spec} is a {type(obj).__name__}, not a function")
    if coroutine and not inspect.iscoroutinefunction(obj):
        raise BadJob(f"--async {spec} is not a coroutine function (async def): give it as the sync function")
    if not coroutine and inspect.iscoroutinefunction(obj):
        raise BadJob(f"{spec} is a coroutine function (async def): give it with --async, and a sync one too")
    return obj  # type: ignore[no-any-return]


def load_module(name: str) -> Any:
    """Import module `name`, or raise BadJob saying where it was looked for, or why it failed."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise BadJob(
                f"module {name!r} not found in the current folder, --path or the installed packages"
            ) from None
        raise BadJob(f"module {name!r} failed to import: {in_one_line(exc)}") from None
    except Exception as exc:  # the user's module raised while importing
        raise BadJob(f"module {name!r} failed to import: {in_one_line(exc)}") from None


def items_from(
    *, file: str | None = None, count: int | None = None, source: str | None = None
) -> tuple[Any, ...]:
    """The items, from exactly one of: `file` (one string per line, blank lines skipped),
    `count` (the integers 0..count-1) or `source` (`MODULE:NAME`, an iterable or a function
    returning one)."""
    given = [what for what in (file, count, source) if what is not None]
    if len(given) != 1:
        raise BadJob("give the items with exactly one of --items FILE, --range N or --items-from MODULE:NAME")
    if count is not None:
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_ITEMS:
            raise BadJob(f"--range must be a whole number from 1 to {MAX_ITEMS}, not {count!r}")
        return tuple(range(count))
    if file is not None:
        try:
            lines = Path(file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise BadJob(f"cannot read --items {file!r}: {getattr(exc, 'strerror', None) or exc}") from None
        return checked(tuple(line for line in lines if line.strip()), f"--items {file}")
    assert source is not None
    module_name, sep, name = source.partition(":")
    if not sep or not module_name or not name:
        raise BadJob(f"expected --items-from MODULE:NAME, like examples.jobs:paths, not {source!r}")
    module = load_module(module_name)
    if not hasattr(module, name):
        raise UnknownName(f"name in {module_name}", name, [n for n in vars(module) if not n.startswith("_")])
    value = getattr(module, name)
    try:
        value = value() if callable(value) else value
        if not isinstance(value, Iterable) or isinstance(value, (str, bytes)):
            raise TypeError(f"{type(value).__name__} is not a collection of items")
        return checked(tuple(value), f"--items-from {source}")
    except Exception as exc:
        raise BadJob(f"--items-from {source}: {type(exc).__name__}: {exc}") from None


def checked(items: tuple[Any, ...], where: str) -> tuple[Any, ...]:
    """`items`, unless there are none (BadJob naming `where`)."""
    if not items:
        raise BadJob(f"{where} gave no items")
    return items


def unpicklable(function: Callable[..., Any], items: Sequence[Any]) -> str | None:
    """Why processes cannot be handed `function` and `items`, or None if they can.

    A worker process gets the function by reference (its module and name) and every item by
    value: a lambda, a closure or a nested function has no name to import, and a lock, a file
    or a socket cannot be copied. Checked under every start method alike: fork would carry a
    lambda along, spawn and forkserver (3.14's default on Linux) would not."""
    try:
        pickle.dumps(function)
    except Exception as exc:
        return (
            "the function cannot be pickled for another process (a lambda, closure or nested "
            f"function: define it at module level): {type(exc).__name__}: {exc}"
        )
    try:
        pickle.dumps(items)
    except Exception:
        for index, item in enumerate(items):  # only now, item by item, to name the first bad one
            try:
                pickle.dumps(item)
            except Exception as exc:
                return f"item {index} cannot be pickled for another process: {type(exc).__name__}: {exc}"
    return None


def name_of(function: Callable[..., Any]) -> str:
    """`module:qualname` of a function, as `lab bench` takes it."""
    return f"{getattr(function, '__module__', '?')}:{getattr(function, '__qualname__', repr(function))}"
