"""A third party's model and demo, as a separate package would ship them: a subclass of a
built-in model and a demo of the pool's `echo` work, registered by its distribution's entry
points (`labplug-0.1.dist-info/entry_points.txt`), with no change to the lab."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from lab.demos import AnswerRow, Demo
from lab.models import Measured
from lab.models.threads import Threads


class MyThreads(Threads):
    """The threads model under another name: everything else it inherits."""

    name: ClassVar[str] = "mythreads"
    description: ClassVar[str] = "the threads model, registered by a plug-in package"
    colour: ClassVar[str] = "#9467bd"


class NotAModel:
    """What a mistaken entry point names: a class that is not a `Model`."""


def in_order(demo: Demo, params: Mapping[str, Any], measured: Measured) -> bool:
    """Every word back, in input order."""
    return measured.outputs == list(demo.items(params))


# It names no scale: every scale runs it at these defaults (one row, no sweep or timeline).
WORDS = Demo(
    "words",
    "a plug-in's demo: each of `tasks` tasks waits `sleep` s and returns its word",
    {"tasks": 3, "sleep": 0.01, "workers": None, "chunksize": None},
    "echo",
    lambda p: tuple(f"word{i}" for i in range(p["tasks"])),
    outputs_right=in_order,
    answers=(AnswerRow("fastest at most workers", "echoing words"),),  # a row of the answer table
)
