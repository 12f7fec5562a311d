"""The exceptions the lab raises.

    LabError                      every error the lab itself raises
    ├── InvalidParameter          (also ValueError) a parameter's value is out of range
    ├── UnknownName               (also LookupError) no demo, model or option choice of that name
    ├── Unavailable               (also LookupError) a variant that cannot run on this machine
    ├── BadResultsFile            (also ValueError) `--from` is missing, not JSON or of another kind
    └── BadJob                    (also ValueError) `lab bench`'s function or items cannot be used

A task that fails while a demo runs is not an exception of the lab: it is recorded in the
`Result.error` of that run, so the other models still run.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


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
