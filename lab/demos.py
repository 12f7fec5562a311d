"""The demo registry: the article's four demos, plus the CPU-bound one its sleeping tasks hide.

A demo says which parameters it takes (with their defaults), turns them into the `Work` a model
runs, and judges what came back: the ideal time, the expected counter, whether outputs are right.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lab.models.base import Measured, TaskName, Work

Params = Mapping[str, Any]


def letters(n: int) -> tuple[str, ...]:
    """The article's items, 'a'..'e', continued as 'f'.. 'z', 'a1', 'b1', ... for larger n."""
    abc = string.ascii_lowercase
    return tuple(abc[i % 26] + (str(i // 26) if i >= 26 else "") for i in range(n))


@dataclass(frozen=True)
class Demo:
    """One demo: its name, what it teaches, its parameters and how to build and judge its work."""

    name: str
    description: str
    defaults: Mapping[str, Any]
    task: TaskName | None  # None: runs in the calling thread, in no model (serial-counter)
    items: Callable[[Params], tuple[Any, ...]] = field(repr=False)
    locked: bool = False

    @property
    def counts(self) -> bool:
        """Whether the demo's result is a counter to check (observed against expected)."""
        return "increments" in self.defaults

    def work(self, params: Params, timeout: float, fault: Any, chunksize: int | None) -> Work:
        """The work a model runs for these (validated, complete) parameters."""
        assert self.task is not None
        return Work(
            task=self.task,
            items=self.items(params),
            workers=params["workers"],
            sleep=params["sleep"],
            locked=self.locked,
            timeout=timeout,
            chunksize=chunksize,
            fault=fault,
        )

    def ideal_s(self, params: Params) -> float | None:
        """The time a perfect pool would take: the waits alone, `workers` at a time."""
        if self.name != "pool-map":
            return None
        return float(params["sleep"]) * math.ceil(int(params["tasks"]) / int(params["workers"]))

    def expected(self, params: Params) -> int | None:
        """The counter's right final value, or None for demos without a counter."""
        if not self.counts:
            return None
        return int(params["increments"]) * int(params.get("workers", 1))

    def outputs_ok(self, params: Params, measured: Measured) -> bool:
        """Whether every task's output came back, in input order."""
        if self.task == "echo":
            return measured.outputs == list(self.items(params))
        if self.task == "crunch":
            return len(measured.outputs) == params["tasks"] and len(set(measured.outputs)) <= 1
        return len(measured.outputs) == len(self.items(params))


def per_worker(params: Params) -> tuple[int, ...]:
    """The counter demos' items: one task per worker, each of `increments` increments."""
    return (int(params["increments"]),) * int(params["workers"])


POOL_MAP = Demo(
    "pool-map",
    "article demo 1: `tasks` tasks each wait `sleep` s and return their letter; workers overlap the waits",
    {"tasks": 5, "sleep": 5.0, "workers": None, "chunksize": None},
    "echo",
    lambda p: letters(p["tasks"]),
)
SERIAL_COUNTER = Demo(
    "serial-counter",
    "article demo 2: a plain loop adds 1 `increments` times; no concurrency, the reference",
    {"increments": 10, "sleep": 0.0},
    None,
    lambda p: (),
)
RACY_COUNTER = Demo(
    "racy-counter",
    "article demo 3: `workers` workers add 1 to a shared counter with no lock; updates get lost",
    {"workers": 5, "increments": 1, "sleep": 0.0},
    "count",
    per_worker,
)
LOCKED_COUNTER = Demo(
    "locked-counter",
    "article demo 4: the same, with the model's lock around the read and the write; always exact",
    {"workers": 5, "increments": 1, "sleep": 0.0},
    "count",
    per_worker,
    locked=True,
)
CPU_BOUND = Demo(
    "cpu-bound",
    "the article's two cooks: `tasks` tasks of pure-Python arithmetic; only processes run them in parallel",
    {"tasks": 4, "rounds": 3_000_000, "workers": None, "sleep": 0.0, "chunksize": None},
    "crunch",
    lambda p: (p["rounds"],) * p["tasks"],
)

DEMOS: dict[str, Demo] = {
    d.name: d for d in (POOL_MAP, SERIAL_COUNTER, RACY_COUNTER, LOCKED_COUNTER, CPU_BOUND)
}
