"""The demo registry: the article's four demos, the CPU-bound one its sleeping tasks hide, and
real network I/O against the lab's own HTTP server (http-get).

A demo says which parameters it takes (with their defaults), turns them into the `Work` a model
runs, and judges what came back: the ideal time, the expected counter (for http-get: the
requests sent, against the responses verified), whether outputs are right, and its metrics.
"""

from __future__ import annotations

import functools
import math
import statistics
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lab.clients import Target
from lab.models.base import Measured, TaskName, Work, verified

Params = Mapping[str, Any]


@functools.lru_cache(maxsize=8)
def letters(n: int) -> tuple[str, ...]:
    """The article's items, 'a'..'e', continued as 'f'.. 'z', 'a1', 'b1', ... for larger n.

    Cached (the tuple is immutable): building 10,000 of them takes 3 ms, which every trial and
    every check of the outputs would otherwise pay again (a profile of `lab.run` found it)."""
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
        """Whether the demo's result is a count to check (observed against expected)."""
        return "increments" in self.defaults or self.task == "fetch"

    def work(
        self, params: Params, timeout: float, fault: Any, chunksize: int | None, url: str | None = None
    ) -> Work:
        """The work a model runs for these (validated, complete) parameters; `url`: the server's."""
        assert self.task is not None
        target = Target(url, params["latency"], params["size"]) if url else None
        return Work(
            task=self.task,
            items=self.items(params),
            workers=params["workers"],
            sleep=params.get("sleep", 0.0),
            locked=self.locked,
            timeout=timeout,
            chunksize=chunksize,
            fault=fault,
            target=target,
            yield_point=params.get("yield_point", "sleep0"),
        )

    def ideal_s(self, params: Params) -> float | None:
        """The time a perfect pool would take: the waits alone, `workers` at a time."""
        if self.name == "pool-map":
            return float(params["sleep"]) * math.ceil(int(params["tasks"]) / int(params["workers"]))
        if self.task == "fetch":
            return float(params["latency"]) * math.ceil(int(params["requests"]) / int(params["workers"]))
        return None

    def expected(self, params: Params) -> int | None:
        """The counter's right final value (http-get: the requests sent), or None."""
        if self.task == "fetch":
            return int(params["requests"])
        if not self.counts:
            return None
        return int(params["increments"]) * int(params.get("workers", 1))

    def observed(self, measured: Measured) -> int | None:
        """What the counter ended at (http-get: the responses verified)."""
        if self.task == "fetch":
            return verified(measured.outputs)
        return measured.counter if self.counts else None

    def metrics(self, params: Params, measured: Measured) -> dict[str, Any] | None:
        """http-get's requests/s, per-request latency (median, p99) and failures by kind."""
        if self.task != "fetch" or not measured.outputs:
            return None
        seconds = sorted(t for _, t in measured.outputs)
        failures: dict[str, int] = {}
        for what, _ in measured.outputs:
            if what:
                failures[what] = failures.get(what, 0) + 1
        return {
            "requests_per_s": round(len(seconds) / measured.elapsed_s, 1) if measured.elapsed_s else None,
            "latency_p50_s": statistics.median(seconds),
            "latency_p99_s": seconds[min(len(seconds) - 1, math.ceil(0.99 * len(seconds)) - 1)],
            "failures": failures,
        }

    def outputs_ok(self, params: Params, measured: Measured) -> bool:
        """Whether every task's output came back, in input order."""
        if self.task == "echo":
            return measured.outputs == list(self.items(params))
        if self.task == "crunch":
            return len(measured.outputs) == params["tasks"] and len(set(measured.outputs)) <= 1
        if self.task == "fetch":
            return len(measured.outputs) == int(params["requests"])
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
    {"workers": 5, "increments": 1, "sleep": 0.0, "yield_point": "sleep0"},
    "count",
    per_worker,
)
LOCKED_COUNTER = Demo(
    "locked-counter",
    "article demo 4: the same, with the model's lock around the read and the write; always exact",
    {"workers": 5, "increments": 1, "sleep": 0.0, "yield_point": "sleep0"},
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
HTTP_GET = Demo(
    "http-get",
    "real network I/O: `requests` GETs against the lab's local HTTP server, `workers` in flight; "
    "each waits `latency` s on the server and brings back `size` verified bytes",
    {"requests": 160, "latency": 0.05, "size": 2000, "workers": 5, "server": None},
    "fetch",
    lambda p: tuple(range(p["requests"])),
)

DEMOS: dict[str, Demo] = {
    d.name: d for d in (POOL_MAP, SERIAL_COUNTER, RACY_COUNTER, LOCKED_COUNTER, CPU_BOUND, HTTP_GET)
}
