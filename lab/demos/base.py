"""The demo registry: the article's four demos, the CPU-bound one its sleeping tasks hide, and
real network I/O against the lab's own HTTP server (http-get).

A demo says which parameters it takes (with their defaults; the parameters themselves are
declared in `lab.params`), turns them into the `Work` a model runs, and judges what came back:
the ideal time, the expected counter (for http-get: the requests sent, against the responses
verified), whether outputs are right, and its metrics. What differs per demo is a field of the
demo, never an `if` on its name.
"""

from __future__ import annotations

import functools
import math
import statistics
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lab.http.clients import Target, body
from lab.models.base import Measured, TaskName, Work
from lab.models.tasks import verified, work_on

Params = Mapping[str, Any]


@functools.lru_cache(maxsize=8)
def letters(n: int) -> tuple[str, ...]:
    """The article's items, 'a'..'e', continued as 'f'.. 'z', 'a1', 'b1', ... for larger n.

    Cached (the tuple is immutable): building 10,000 of them takes 3 ms, which every trial and
    every check of the outputs would otherwise pay again (a profile of `lab.run` found it)."""
    abc = string.ascii_lowercase
    return tuple(abc[i % 26] + (str(i // 26) if i >= 26 else "") for i in range(n))


def no_ideal(params: Params) -> float | None:
    """A demo whose time has no ideal to compare with."""
    return None


def waits_ideal(params: Params) -> float:
    """pool-map's ideal: the waits alone, `workers` at a time."""
    return float(params["sleep"]) * math.ceil(int(params["tasks"]) / int(params["workers"]))


def latency_ideal(params: Params) -> float:
    """http-get's ideal: the server's latency alone, `workers` requests at a time."""
    return float(params["latency"]) * math.ceil(int(params["requests"]) / int(params["workers"]))


def no_count(params: Params) -> int | None:
    """A demo with no counter to check."""
    return None


def increments_count(params: Params) -> int:
    """The counters' right value: every increment of every worker."""
    return int(params["increments"]) * int(params.get("workers", 1))


def requests_count(params: Params) -> int:
    """http-get's: every request sent."""
    return int(params["requests"])


def tasks_count(params: Params) -> int:
    """mixed's: every item's request."""
    return int(params["tasks"])


def mixed_observed(measured: Measured) -> int:
    """mixed's: the responses verified."""
    return verified([outcome for outcome, _ in measured.outputs])


def mixed_metrics(params: Params, measured: Measured) -> dict[str, Any] | None:
    """mixed's: the caller's heartbeat (`lab.measure.heartbeat`) and the failed requests by kind."""
    failures: dict[str, int] = {}
    for (what, _), _ in measured.outputs:
        if what:
            failures[what] = failures.get(what, 0) + 1
    return {**(measured.heartbeat or {}), "failures": failures}


@functools.lru_cache(maxsize=4)
def serial_values(tasks: int, size: int, rounds: int) -> tuple[int, ...]:
    """What mixed's CPU part gives for each item, computed serially here, once per shape (it is
    as much CPU as the run's, outside its clock)."""
    return tuple(work_on(body(i, size), rounds) for i in range(tasks))


def mixed_values_right(demo: Demo, params: Params, measured: Measured) -> bool:
    """mixed's outputs: every computed value equal to the serial run's, in input order."""
    values = tuple(value for _, value in measured.outputs)
    return values == serial_values(params["tasks"], params["size"], params["rounds"])


def counter_observed(measured: Measured) -> int | None:
    """What the shared counter ended at."""
    return measured.counter


def verified_observed(measured: Measured) -> int:
    """http-get's: the responses verified."""
    return verified(measured.outputs)


def no_metrics(params: Params, measured: Measured) -> dict[str, Any] | None:
    """A demo with no figures of its own."""
    return None


def http_metrics(params: Params, measured: Measured) -> dict[str, Any] | None:
    """http-get's requests/s, per-request latency (median, p99), the mean number of requests in
    flight and failures by kind."""
    if not measured.outputs:
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
        # Little's law: the requests' own times over the batch's is how many were in flight on
        # average, whatever the machine's speed; the workers asked for are only the ceiling.
        "in_flight_mean": round(sum(seconds) / measured.elapsed_s, 1) if measured.elapsed_s else None,
        "failures": failures,
    }


@dataclass(frozen=True)
class Demo:
    """One demo: its name, what it teaches, its parameters and how to build and judge its work.

    `ideal`: the time a perfect pool would take; `expected` and `observed`: the counter's right
    and final values (None: the demo counts nothing); `metrics`: its own figures; `outputs_ok`:
    whether every output came back right, in input order."""

    name: str
    description: str
    defaults: Mapping[str, Any]
    task: TaskName | None  # None: runs in the calling thread, in no model (serial-counter)
    items: Callable[[Params], tuple[Any, ...]] = field(repr=False)
    locked: bool = False
    ideal: Callable[[Params], float | None] = field(default=no_ideal, repr=False)
    expected: Callable[[Params], int | None] = field(default=no_count, repr=False)
    observed_by: Callable[[Measured], int | None] = field(default=counter_observed, repr=False)
    metrics: Callable[[Params, Measured], dict[str, Any] | None] = field(default=no_metrics, repr=False)
    outputs_right: Callable[[Demo, Params, Measured], bool] | None = field(default=None, repr=False)
    heartbeat: bool = False  # measure the caller's responsiveness while the work runs
    # Its own figures that `lab run` prints beside the time: (metric key, label, unit), the unit
    # "ms" (a value in seconds), "%" (a share) or "" (a number).
    headline: tuple[tuple[str, str, str], ...] = ()

    def headline_of(self, metrics: Mapping[str, Any] | None) -> str:
        """The `headline` figures of one result's metrics, e.g. `beat worst 155.3 ms · blocked 88%`."""
        shown = []
        for key, label, unit in self.headline:
            value = (metrics or {}).get(key)
            if isinstance(value, int | float):
                number = (
                    f"{value * 1000:.1f} ms"
                    if unit == "ms"
                    else f"{value:.0%}"
                    if unit == "%"
                    else f"{value:g}"
                )
                shown.append(f"{label} {number}")
        return " · ".join(shown)

    @property
    def counts(self) -> bool:
        """Whether the demo's result is a count to check (observed against expected)."""
        return self.expected is not no_count

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
            heartbeat=self.heartbeat,
        )

    def ideal_s(self, params: Params) -> float | None:
        """The time a perfect pool would take (None where there is no such ideal)."""
        return self.ideal(params)

    def observed(self, measured: Measured) -> int | None:
        """What the counter ended at (http-get: the responses verified)."""
        return self.observed_by(measured) if self.counts else None

    def outputs_ok(self, params: Params, measured: Measured) -> bool:
        """Whether every task's output came back, in input order."""
        if self.outputs_right is not None:
            return self.outputs_right(self, params, measured)
        return len(measured.outputs) == len(self.items(params))


def same_items(demo: Demo, params: Params, measured: Measured) -> bool:
    """pool-map's outputs: its items, in order."""
    return measured.outputs == list(demo.items(params))


def one_answer(demo: Demo, params: Params, measured: Measured) -> bool:
    """cpu-bound's outputs: one per task, all the same number."""
    return len(measured.outputs) == params["tasks"] and len(set(measured.outputs)) <= 1


def per_worker(params: Params) -> tuple[int, ...]:
    """The counter demos' items: one task per worker, each of `increments` increments."""
    return (int(params["increments"]),) * int(params["workers"])


POOL_MAP = Demo(
    "pool-map",
    "article demo 1: `tasks` tasks each wait `sleep` s and return their letter; workers overlap the waits",
    {"tasks": 5, "sleep": 5.0, "workers": None, "chunksize": None},
    "echo",
    lambda p: letters(p["tasks"]),
    ideal=waits_ideal,
    outputs_right=same_items,
)
SERIAL_COUNTER = Demo(
    "serial-counter",
    "article demo 2: a plain loop adds 1 `increments` times; no concurrency, the reference",
    {"increments": 10, "sleep": 0.0},
    None,
    lambda p: (),
    expected=increments_count,
)
RACY_COUNTER = Demo(
    "racy-counter",
    "article demo 3: `workers` workers add 1 to a shared counter with no lock; updates get lost",
    {"workers": 5, "increments": 1, "sleep": 0.0, "yield_point": "sleep0"},
    "count",
    per_worker,
    expected=increments_count,
)
LOCKED_COUNTER = Demo(
    "locked-counter",
    "article demo 4: the same, with the model's lock around the read and the write; always exact",
    {"workers": 5, "increments": 1, "sleep": 0.0, "yield_point": "sleep0"},
    "count",
    per_worker,
    locked=True,
    expected=increments_count,
)
CPU_BOUND = Demo(
    "cpu-bound",
    "the article's two cooks: `tasks` tasks of `rounds` of CPU work, pure-Python arithmetic (which "
    "holds the GIL) or, with `kernel` hashlib, SHA-256 in C (which lets go of it)",
    {"tasks": 4, "rounds": 3_000_000, "kernel": "python", "workers": None, "sleep": 0.0, "chunksize": None},
    "crunch",
    lambda p: ((p["kernel"], p["rounds"]),) * p["tasks"],
    outputs_right=one_answer,
)
HTTP_GET = Demo(
    "http-get",
    "real network I/O: `requests` GETs against the lab's local HTTP server, `workers` in flight; "
    "each waits `latency` s on the server and brings back `size` verified bytes",
    {"requests": 160, "latency": 0.05, "size": 2000, "workers": 5, "server": None},
    "fetch",
    lambda p: tuple(range(p["requests"])),
    ideal=latency_ideal,
    expected=requests_count,
    observed_by=verified_observed,
    metrics=http_metrics,
    headline=(
        ("requests_per_s", "req/s", ""),
        ("latency_p99_s", "p99", "ms"),
        ("in_flight_mean", "held", ""),
    ),
)

MIXED = Demo(
    "mixed",
    "waiting, then computing, in one job: `tasks` items each GET a response (`latency` s on the "
    "server) and then do `rounds` of pure-Python work on it; a heartbeat in the caller measures how "
    "long it could not run",
    {"tasks": 32, "latency": 0.05, "size": 2000, "rounds": 300_000, "workers": 8, "server": None},
    "mix",
    lambda p: tuple((i, p["rounds"]) for i in range(p["tasks"])),
    expected=tasks_count,
    observed_by=mixed_observed,
    metrics=mixed_metrics,
    outputs_right=mixed_values_right,
    heartbeat=True,
    headline=(("heartbeat_max_s", "beat worst", "ms"), ("heartbeat_blocked_share", "blocked", "%")),
)

DEMOS: dict[str, Demo] = {
    d.name: d for d in (POOL_MAP, SERIAL_COUNTER, RACY_COUNTER, LOCKED_COUNTER, CPU_BOUND, HTTP_GET, MIXED)
}
