"""mixed, waiting then computing in one job: `tasks` items each GET a response (`latency` s on
the server) and then do `rounds` of pure-Python work on it; a heartbeat in the caller measures how
long it could not run."""

from __future__ import annotations

import functools
from typing import Any

from lab.demos.base import AnswerRow, AtScale, Demo, Params, Section
from lab.http.clients import body
from lab.models.base import Measured
from lab.models.tasks import verified, work_on


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


DEMO = Demo(
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
    scales={
        # The CPU share from none to a quarter of the item (about 6 ms of CPU at 100,000 here,
        # against the 20 ms wait): where offloading starts to pay (the section's last table).
        "quick": AtScale(
            [{"tasks": 16, "latency": 0.02, "rounds": r, "workers": 8} for r in (100_000, 0, 20_000)],
            timelines=[{"tasks": 8, "latency": 0.02, "rounds": 100_000, "workers": 4}],
        ),
        "article": AtScale(
            [
                {"tasks": 32, "latency": 0.05, "rounds": r, "workers": 8}
                for r in (300_000, 0, 30_000, 100_000)
            ],
            timelines=[{"tasks": 16, "latency": 0.05, "rounds": 300_000, "workers": 8}],
        ),
        "smoke": AtScale(
            [{"tasks": 4, "latency": 0.001, "rounds": 2_000, "workers": 2}],
            timelines=[{"tasks": 2, "latency": 0.001, "rounds": 2_000, "workers": 2}],
        ),
    },
    rank=70,
    answers=(AnswerRow("waiting and computing", "waiting and computing in one job"),),
    section=Section("heartbeat", "Waiting and computing in one job"),
    timeline_caption="Wait, then compute, in each variant. asyncio's coroutines hold the first lanes (one "
    "per slot, no CPU time of their own); the lanes after them are where each item's CPU part ran: "
    "with `offload` none, the lab's own process, one bar after another while every coroutine waits; "
    "with `thread`, asyncio's threads, each on a CPU about half its time (the GIL); with `process`, "
    "a pool's processes, on both cores while the coroutines wait on the network. Threads and "
    "processes run each item whole, wait and CPU in one bar.",
)
