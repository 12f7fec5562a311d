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
`Result.error` of that run, so the other models still run.
"""

from __future__ import annotations

import difflib
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
