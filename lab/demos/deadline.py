"""deadline, work that must stop on time: `tasks` tasks that would each run `work` seconds, of a
`kind` (`sleep`: a wait; `cpu`: pure-Python rounds; `io`: one GET the lab's server answers after
`work` seconds), started together and stopped `deadline` seconds in, each model by its own means
(`lab.models.base.Workers.halt`, its option `stop`):

    asyncio     `Task.cancel` on every task: a wait is cancelled at once and its `finally` runs;
                CPU work inline never awaits, so the loop cannot cancel it until it ends
    threads     stop event: each task checks a `threading.Event` between steps (cooperative);
                stop none: the bare pool, whose `shutdown(cancel_futures=True)` drops only the
                tasks not yet started, so each running one is waited out
    processes   stop event: a `multiprocessing.Event`, checked between steps; stop terminate:
                SIGTERM to every worker, SIGKILL after a grace: no `finally` runs
    dask, interpreters, a plug-in's model: no means of their own here (a running task on a dask
                worker cannot be interrupted, `Future.cancel` drops only what has not started;
                an interpreter runs until its code returns): each task runs to its end

A sleep or CPU task steps `step` seconds at a time, checking its stop signal between steps; an
`io` task is one blocking call (`urllib.request.urlopen`; asyncio awaits `aiohttp`), which no
stop signal reaches until it returns: cooperation stops only what it gets to check. Each returns
`("finished" or "stopped", when)`; its `finally` adds one to the kit's shared integer under the
kit's lock, so the counter is the number of tasks whose cleanup ran. A task its model killed or
cancelled comes back as a `lab.models.base.Stopped`. The figures (each result's metrics, `lab run --json`):

    stopped_after_s      from the deadline to the map's end: every task stopped, the pool free
    stopped_after_p50_s  the median task's end, after the deadline
    cleaned_up           tasks whose `finally` ran
    ran_past_s           CPU seconds the run used after the deadline
    left_behind          worker threads and processes still alive, and TCP connections still
                         open in the lab's process, once the run ended
"""

from __future__ import annotations

import importlib
import multiprocessing
import statistics
import threading
import time
import urllib.request
from typing import Any

from lab.demos.base import AnswerRow, AtScale, Demo, Params, Section
from lab.models.base import THREAD_NAME, AsyncKit, Kit, Measured, Stopped, now
from lab.params import Param

KINDS = ("sleep", "cpu", "io")
SLACK_S = 30.0  # an io task's GET times out this long after the server was due to answer


def address(url: str, index: int, seconds: float) -> str:
    """The GET of task `index`: the lab's server waits `seconds`, then answers with no body."""
    return f"{url.rstrip('/')}/{index}?latency={seconds:g}&size=0"


def get(url: str, index: int, seconds: float) -> None:
    """One blocking GET on the lab's server, answered after `seconds`."""
    with urllib.request.urlopen(address(url, index, seconds), timeout=seconds + SLACK_S) as response:
        response.read()


async def get_async(url: str, index: int, seconds: float) -> None:
    """`get` awaited (aiohttp, asyncio's client): `Task.cancel` reaches it while it waits."""
    import aiohttp  # noqa: PLC0415 (imported already by `items`, before the clock)

    timeout = aiohttp.ClientTimeout(total=seconds + SLACK_S)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(address(url, index, seconds)) as response,
    ):
        await response.read()


def spin(seconds: float) -> int:
    """Pure-Python rounds for about `seconds` of wall time (holding the GIL all along)."""
    end, total = time.perf_counter() + seconds, 0
    while time.perf_counter() < end:
        for i in range(500):
            total += i * i
    return total


def until_stopped(item: Task, kit: Kit) -> tuple[str, float]:
    """One task: `work` seconds of its kind, `step` at a time, checking the model's stop signal
    between steps (an io task: once, before its one GET); its cleanup counted in the kit's shared
    integer."""
    index, kind, work, step, url = item
    began = now()
    try:
        if kind == "io":
            if kit.stopped():
                return "stopped", now()
            get(url, index, work)
            return "finished", now()
        while now() - began < work:
            if kit.stopped():
                return "stopped", now()
            if kind == "sleep":
                kit.sleep(step)
            else:
                spin(step)
        return "finished", now()
    finally:
        with kit.lock:
            kit.value += 1


async def until_cancelled(item: Task, kit: AsyncKit) -> tuple[str, float]:
    """`until_stopped` on the event loop: a wait or a GET awaits (where `Task.cancel` reaches it),
    CPU work never does (so nothing reaches it until it ends)."""
    index, kind, work, step, url = item
    began = now()
    try:
        if kind == "io":
            await get_async(url, index, work)
            return "finished", now()
        while now() - began < work:
            if kind == "sleep":
                await kit.sleep(step)
            else:
                spin(step)
        return "finished", now()
    finally:
        async with kit.lock:
            kit.value += 1


Task = tuple[int, str, float, float, str]  # index, kind, work, step, the server's URL ("" but for io)


def items(p: Params) -> tuple[Task, ...]:
    """One `(index, kind, work, step, url)` per task; for io, aiohttp imported here, in the lab's
    process before the clock starts: inside it, its 0.1 s would delay asyncio's first cancel. (Not
    with the module: every `lab` command imports each demo, and the interpreters model imports
    this one in subinterpreters, where aiohttp does not load.)"""
    url = p.get("server") or ""
    if p["kind"] == "io":
        importlib.import_module("aiohttp")
    return tuple((i, p["kind"], float(p["work"]), float(p["step"]), url) for i in range(int(p["tasks"])))


def ended_at(output: Any) -> float:
    """When a task ended: its own word, or its model's (`Stopped`)."""
    return output.at if isinstance(output, Stopped) else float(output[1])


def left_behind() -> dict[str, int]:
    """Worker threads (`THREAD_NAME`), worker processes (`multiprocessing.active_children`, which
    also reaps the ended ones) and TCP connections of this process still alive: none may be, once
    a run has ended (the lab's server runs in a process of its own: its sockets are not these)."""
    import psutil  # noqa: PLC0415 (here: the module is imported in subinterpreters, where psutil is not)

    threads = sum(t.name.startswith(THREAD_NAME) and t.is_alive() for t in threading.enumerate())
    connections = sum(c.status == psutil.CONN_ESTABLISHED for c in psutil.Process().net_connections("tcp"))
    return {
        "threads": threads,
        "processes": len(multiprocessing.active_children()),
        "connections": connections,
    }


def deadline_metrics(params: Params, measured: Measured) -> dict[str, Any] | None:
    """How long after the deadline the work stopped, how it stopped, and what it left."""
    if not measured.outputs:
        return None
    due = measured.begin + float(params["deadline"])
    after = [max(0.0, ended_at(output) - due) for output in measured.outputs]
    how = [output.how if isinstance(output, Stopped) else str(output[0]) for output in measured.outputs]
    left = left_behind()
    cpu_past = None
    if measured.cpu_s is not None and measured.halt is not None:
        cpu_past = round(max(0.0, measured.cpu_s - measured.halt.cpu_s), 4)
    return {
        "stopped_after_s": round(max(0.0, measured.elapsed_s - float(params["deadline"])), 4),
        "stopped_after_p50_s": round(statistics.median(after), 4),
        "ended": {name: how.count(name) for name in sorted(set(how))},
        "cleaned_up": measured.counter,
        "ran_past_s": cpu_past,
        "left_behind": sum(left.values()),
        "left_behind_by_kind": left,
    }


def all_accounted(demo: Demo, params: Params, measured: Measured) -> bool:
    """One output per task, each a task's own word or its model's `Stopped`."""
    return len(measured.outputs) == params["tasks"] and all(
        isinstance(o, Stopped) or (isinstance(o, tuple | list) and o[0] in ("finished", "stopped"))
        for o in measured.outputs
    )


def in_words(params: Params) -> str:
    """What one run did: `4 tasks x 0.6 s of cpu, stopped at 0.15 s`, or for io `4 tasks x a GET
    answered after 0.6 s, stopped at 0.15 s`."""
    work = "a GET answered after " if params["kind"] == "io" else ""
    return (
        f"{params['tasks']} tasks x {work}{params['work']:g} s"
        + ("" if work else f" of {params['kind']}")
        + f", stopped at {params['deadline']:g} s"
    )


# Short enough for the quick report (asyncio runs the CPU tasks one after another: 0.6 s a trial;
# at 0.4 s of work the section took 31 s of it, at 0.3 s 21 s), long enough that work waited out
# (0.1 s past the deadline) stands well apart from work stopped (milliseconds past it). The
# deadline is the answer's yardstick (a tie: within 5% of it): at 0.05 s the processes' event,
# 3.5 ms behind the threads', sat on that line and the waits' verdict changed between two reports.
# The timelines: the CPU work's, where every variant stops differently (the tables show the rest).
QUICK = [{"kind": kind, "tasks": 3, "work": 0.2, "deadline": 0.1} for kind in KINDS]
SMOKE = [{**row, "tasks": 2, "work": 0.15, "deadline": 0.03} for row in QUICK]

DEMO = Demo(
    "deadline",
    "work that must stop on time: `tasks` tasks of `work` s each (a wait, CPU work or a GET), stopped "
    "`deadline` s in, each model by its own means",
    {
        "tasks": 5,
        "work": 2.0,
        "kind": "sleep",
        "deadline": 0.5,
        "step": 0.01,
        "workers": None,
        "server": None,
    },
    "call",
    items,
    function=until_stopped,
    async_function=until_cancelled,
    kit=True,
    deadline="deadline",
    served=lambda p: p["kind"] == "io",
    ideal=lambda p: float(p["deadline"]),
    outputs_right=all_accounted,
    metrics=deadline_metrics,
    headline=(("stopped_after_s", "stopped after", "ms"), ("cleaned_up", "cleaned up", "")),
    params=(
        Param("work", "seconds", "seconds each task would run if nothing stopped it", "work ", low=0),
        Param(
            "kind",
            "choice",
            "what a task does: sleep (a wait), cpu (pure-Python rounds) or io (one GET the lab's "
            "server answers after `work` s)",
            "kind ",
            choices=KINDS,
        ),
        Param("deadline", "seconds", "seconds after the start at which the work must stop", "by ", low=0),
        Param("step", "seconds", "seconds between a task's checks of its stop signal", "step ", low=1e-6),
    ),
    scales={
        "quick": AtScale(QUICK, timelines=[row for row in QUICK if row["kind"] == "cpu"]),
        "smoke": AtScale(SMOKE, timelines=SMOKE[:1]),
    },
    rank=95,
    in_words=in_words,
    timeline_caption="Each variant's tasks on each kind of work, the deadline drawn in red: a bar that "
    "ends at the line was stopped there; one that runs past it was waited out (the bare thread pool, "
    "dask; a GET, which no stop event reaches), or, for CPU work in asyncio, ran one task after "
    "another, the loop unable to cancel what never awaits. A task cancelled (asyncio) or terminated "
    "(processes) is drawn hatched from the map's start to its stop: it could not record its own span.",
    section=Section("stops", "Work that must stop on time"),
    answers=(
        AnswerRow("stopping on time", "waits that must stop on time", kernel="sleep"),
        AnswerRow("stopping on time", "CPU work that must stop on time", kernel="cpu"),
        AnswerRow("stopping on time", "requests that must stop on time", kernel="io"),
    ),
)
