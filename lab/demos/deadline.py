"""deadline, work that must stop on time: `tasks` tasks that would each run `work` seconds, of a
`kind` (`sleep`: a wait; `cpu`: pure-Python rounds), started together and stopped `deadline`
seconds in, each model by its own means (`lab.models.base.Workers.halt`, its option `stop`):

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

Each task steps `step` seconds at a time and returns `("finished" or "stopped", when)`; its
`finally` adds one to the kit's shared integer under the kit's lock, so the counter is the
number of tasks whose cleanup ran. A task its model killed or cancelled comes back as a
`lab.models.base.Stopped`. The figures (each result's metrics, `lab run --json`):

    stopped_after_s      from the deadline to the map's end: every task stopped, the pool free
    stopped_after_p50_s  the median task's end, after the deadline
    cleaned_up           tasks whose `finally` ran
    ran_past_s           CPU seconds the run used after the deadline
    left_behind          worker threads and processes still alive once the run ended
"""

from __future__ import annotations

import multiprocessing
import statistics
import threading
import time
from typing import Any

from lab.demos.base import AnswerRow, AtScale, Demo, Params, Section
from lab.models.base import THREAD_NAME, AsyncKit, Kit, Measured, Stopped, now
from lab.params import Param

KINDS = ("sleep", "cpu")


def spin(seconds: float) -> int:
    """Pure-Python rounds for about `seconds` of wall time (holding the GIL all along)."""
    end, total = time.perf_counter() + seconds, 0
    while time.perf_counter() < end:
        for i in range(500):
            total += i * i
    return total


def until_stopped(item: tuple[str, float, float], kit: Kit) -> tuple[str, float]:
    """One task: `work` seconds of its kind, `step` at a time, checking the model's stop signal
    between steps; its cleanup counted in the kit's shared integer."""
    kind, work, step = item
    began = now()
    try:
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


async def until_cancelled(item: tuple[str, float, float], kit: AsyncKit) -> tuple[str, float]:
    """`until_stopped` on the event loop: a wait awaits (where `Task.cancel` reaches it), CPU
    work never does (so nothing reaches it until it ends)."""
    kind, work, step = item
    began = now()
    try:
        while now() - began < work:
            if kind == "sleep":
                await kit.sleep(step)
            else:
                spin(step)
        return "finished", now()
    finally:
        async with kit.lock:
            kit.value += 1


def items(p: Params) -> tuple[Any, ...]:
    """One `(kind, work, step)` per task."""
    return ((p["kind"], float(p["work"]), float(p["step"])),) * int(p["tasks"])


def ended_at(output: Any) -> float:
    """When a task ended: its own word, or its model's (`Stopped`)."""
    return output.at if isinstance(output, Stopped) else float(output[1])


def left_behind() -> dict[str, int]:
    """Worker threads (`THREAD_NAME`) and worker processes (`multiprocessing.active_children`,
    which also reaps the ended ones) still alive: none may be, once a run has ended."""
    threads = sum(t.name.startswith(THREAD_NAME) and t.is_alive() for t in threading.enumerate())
    return {"threads": threads, "processes": len(multiprocessing.active_children())}


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
    """What one run did: `4 tasks x 0.6 s of cpu, stopped at 0.15 s`."""
    return (
        f"{params['tasks']} tasks x {params['work']:g} s of {params['kind']}, "
        f"stopped at {params['deadline']:g} s"
    )


# Short enough for the quick report (asyncio runs the CPU tasks one after another: 1.2 s a trial),
# long enough that work waited out (0.4 s) stands well apart from work stopped (0.1 s).
QUICK = [{"kind": kind, "tasks": 3, "work": 0.4, "deadline": 0.1} for kind in KINDS]
SMOKE = [{**row, "tasks": 2, "work": 0.3, "deadline": 0.05} for row in QUICK]

DEMO = Demo(
    "deadline",
    "work that must stop on time: `tasks` tasks of `work` s each (a wait or CPU work), stopped "
    "`deadline` s in, each model by its own means",
    {"tasks": 5, "work": 2.0, "kind": "sleep", "deadline": 0.5, "step": 0.01, "workers": None},
    "call",
    items,
    function=until_stopped,
    async_function=until_cancelled,
    kit=True,
    deadline="deadline",
    ideal=lambda p: float(p["deadline"]),
    outputs_right=all_accounted,
    metrics=deadline_metrics,
    headline=(("stopped_after_s", "stopped after", "ms"), ("cleaned_up", "cleaned up", "")),
    params=(
        Param("work", "seconds", "seconds each task would run if nothing stopped it", "work ", low=0),
        Param(
            "kind",
            "choice",
            "what a task does: sleep (a wait) or cpu (pure-Python rounds)",
            "kind ",
            choices=KINDS,
        ),
        Param("deadline", "seconds", "seconds after the start at which the work must stop", "by ", low=0),
        Param("step", "seconds", "seconds between a task's checks of its stop signal", "step ", low=1e-6),
    ),
    scales={
        "quick": AtScale(QUICK, timelines=QUICK),
        "smoke": AtScale(SMOKE, timelines=SMOKE[:1]),
    },
    rank=95,
    in_words=in_words,
    timeline_caption="Each variant's tasks, the deadline drawn in red: a bar that ends at the line was "
    "stopped there; one that runs past it was waited out (the bare thread pool, dask), or, for CPU work "
    "in asyncio, ran one task after another, the loop unable to cancel what never awaits. A terminated "
    "process's task has no bar of its own: it ended with its worker.",
    section=Section("stops", "Work that must stop on time"),
    answers=(
        AnswerRow("stopping on time", "waits that must stop on time", kernel="sleep"),
        AnswerRow("stopping on time", "CPU work that must stop on time", kernel="cpu"),
    ),
)
