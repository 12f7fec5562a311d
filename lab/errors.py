"""The exceptions the lab raises.

    LabError                      every error the lab itself raises
    ├── InvalidParameter          (also ValueError) a parameter's value is out of range
    ├── UnknownName               (also LookupError) no demo, model or option choice of that name
    ├── Unavailable               (also LookupError) a variant that cannot run on this machine
    ├── BadResultsFile            (also ValueError) `--from` is missing, not JSON or of another kind
    └── BadJob                    (also ValueError) `lab bench`'s function or items cannot be used

    Interrupted                   (a KeyboardInterrupt) Ctrl-C; as its subclass Terminated, SIGTERM
    StudyInterrupted              (a KeyboardInterrupt) Ctrl-C or SIGTERM stopped a study; it
                                  carries what was measured, marked partial

A task that fails while a demo runs is not an exception of the lab: it is recorded in the
`Result.error` of that run, so the other models still run, in the words of `in_one_line`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class LabError(Exception):
    """Base class of every error the lab raises on purpose; the message is one line for a user."""


class InvalidParameter(LabError, ValueError):
    """A parameter has a value outside its valid range (workers < 1, a negative sleep, ...)."""


class UnknownName(LabError, LookupError):
    """No demo, model or option choice has that name; the message lists the valid ones."""

    def __init__(self, what: str, name: object, valid: Iterable[str]) -> None:
        choices = list(valid)
        message = f"unknown {what} {name!r}; valid: {', '.join(choices)}"
        close = difflib.get_close_matches(str(name), choices, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
        super().__init__(message)
        self.name = name
        self.valid = tuple(choices)


class Unavailable(LabError, LookupError):
    """A variant exists but cannot run here (uvloop not installed, a start method the OS lacks)."""


class BadResultsFile(LabError, ValueError):
    """A results file cannot be read back: missing, not JSON, or another kind or version."""


class BadJob(LabError, ValueError):
    """`lab bench` cannot use the function or items it was given (no such module, an async
    function given as the sync one, no items, ...)."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (status 130) or, as a subclass, SIGTERM (status 143)."""

    status = 130
    signal_name = "Ctrl-C"


class Terminated(Interrupted):
    """SIGTERM, turned into an exception (by the command line's handler) so that the same
    clean-up runs as for Ctrl-C."""

    status = 143
    signal_name = "SIGTERM"


class StudyInterrupted(KeyboardInterrupt, Generic[T]):
    """Ctrl-C or SIGTERM stopped a study (`lab.report`, `lab.run_models`, `lab.sweep`, `lab.races`,
    `lab.bench`): `partial` is what it had measured, marked partial (a `ResultsFile`, or for
    `bench` a `Bench`), ready to publish; `signal_name` and `status` say which signal stopped it.

    A KeyboardInterrupt, so that code that does not look for it still stops as on Ctrl-C."""

    def __init__(self, partial: T, cause: KeyboardInterrupt) -> None:
        super().__init__()
        self.partial = partial
        self.cause = signal_of(cause)

    @property
    def signal_name(self) -> str:
        """`Ctrl-C` or `SIGTERM`."""
        return self.cause.signal_name

    @property
    def status(self) -> int:
        """The exit status a command stopped by that signal ends with: 130 or 143."""
        return self.cause.status


def signal_of(cause: KeyboardInterrupt) -> Interrupted:
    """The signal behind a KeyboardInterrupt: itself if the command line's handler raised it
    (SIGTERM is `Terminated`), else a plain Ctrl-C."""
    return cause if isinstance(cause, Interrupted) else Interrupted()


def first_line(text: str) -> str:
    """The first line of `text` with something on it ("" where none has)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


# Where a formatted chain of exceptions passes from one exception to the next.
CHAINED = re.compile(
    r"\n\s*(?:The above exception was the direct cause|During handling of the above exception)"
)


def first_raised(traceback: str) -> str | None:
    """The exception that began a formatted chain (`traceback.format_exception`'s text, as a
    process pool's `_RemoteTraceback` or an interpreter's `errdisplay` carries it): the first
    traceback's exception, `Type: the first line of its message`; None if the text has none."""
    block = CHAINED.split(traceback, maxsplit=1)[0]
    if "Traceback (most recent call last):" not in block:
        return None
    lines = block.strip().strip('"').strip().splitlines()
    # A frame's lines are indented; the exception is what follows the last of them.
    last = max((i for i, line in enumerate(lines) if line[:1] in (" ", "\t")), default=-1)
    said = "\n".join(lines[last + 1 :]).strip()
    if not said or said.startswith("Traceback"):
        return None
    kind, _, message = said.partition(":")
    kind = kind.strip().rsplit(".", 1)[-1]  # `lab.models.tasks.InjectedFault`: its `__name__`
    return f"{kind.strip()}: {first_line(message)}" if first_line(message) else kind.strip()


def in_one_line(exc: BaseException) -> str:
    """An exception as one line for a user: its type and the first line of its message that says
    something (a message that starts with blank lines, as numpy's import error does, keeps its
    words), and, where it was raised from another exception, that first one's type and line:
    `ImportError: IMPORTANT: ... (raised from ImportError: module numpy._core._multiarray_umath
    does not support loading in subinterpreters)`.

    The first exception is found where each kind of worker leaves it: the chain of `__cause__`
    and unsuppressed `__context__` (threads, asyncio, dask's re-raised exception), a process
    pool's `_RemoteTraceback` (the worker's whole chain, as text), an interpreter's
    `ExecutionFailed` (its `excinfo`: the type, message and formatted chain)."""
    info = getattr(exc, "excinfo", None)  # an interpreter's ExecutionFailed: the error inside it
    kind = getattr(getattr(info, "type", None), "__name__", None) or type(exc).__name__
    message = first_line(str(getattr(info, "msg", None) if info is not None else exc))
    said = f"{kind}: {message}" if message else f"{kind} (with no message)"
    root = raised_from(exc)
    return f"{said} (raised from {root})" if root and root not in said else said


def raised_from(exc: BaseException) -> str | None:
    """The first exception of `exc`'s chain, in words (`in_one_line`), or None if it is `exc`."""
    seen, first = {id(exc)}, exc
    while True:
        nxt = first.__cause__ or (None if first.__suppress_context__ else first.__context__)
        if nxt is None or id(nxt) in seen:
            break
        seen.add(id(nxt))
        first = nxt
    info = getattr(first, "excinfo", None)
    if (display := getattr(info, "errdisplay", None)) and (found := first_raised(str(display))):
        return found
    if type(first).__name__ == "_RemoteTraceback":  # a process pool's: the worker's chain, as text
        return first_raised(str(first))
    if first is exc:
        return None
    message = first_line(str(first))
    return f"{type(first).__name__}: {message}" if message else type(first).__name__
