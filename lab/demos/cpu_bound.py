"""cpu-bound, the article's two cooks: `tasks` tasks of `rounds` of CPU work, pure-Python
arithmetic (which holds the GIL) or, with `kernel` hashlib, SHA-256 in C (which lets go of it)."""

from __future__ import annotations

from lab.demos.base import AnswerRow, AtScale, Demo, Params, cheap_and_sync
from lab.models.base import Measured


def one_answer(demo: Demo, params: Params, measured: Measured) -> bool:
    """cpu-bound's outputs: one per task, all the same number."""
    return len(measured.outputs) == params["tasks"] and len(set(measured.outputs)) <= 1


def both_kernels(shape: Params) -> list[Params]:
    """The rows of a scale: `shape` on a worker per task and on one, with each kernel."""
    return [
        {**shape, "workers": workers, **kernel}
        for kernel in ({}, {"kernel": "hashlib"})
        for workers in (shape["tasks"], 1)
    ]


# About 30 ms of arithmetic per task here: at 300,000 the pool's fixed cost hid half the speedup.
QUICK_ROUNDS = 500_000

DEMO = Demo(
    "cpu-bound",
    "the article's two cooks: `tasks` tasks of `rounds` of CPU work, pure-Python arithmetic (which "
    "holds the GIL) or, with `kernel` hashlib, SHA-256 in C (which lets go of it)",
    {"tasks": 4, "rounds": 3_000_000, "kernel": "python", "workers": None, "sleep": 0.0, "chunksize": None},
    "crunch",
    lambda p: ((p["kernel"], p["rounds"]),) * p["tasks"],
    outputs_right=one_answer,
    scales={
        # The noise run (the A/A pair): CPU work in one thread, what a busy or drifting machine
        # slows, at 0.1 s a trial.
        "quick": AtScale(
            both_kernels({"tasks": 4, "rounds": QUICK_ROUNDS}),
            ({"tasks": 4, "rounds": QUICK_ROUNDS}, (1, 2, 4)),
            timelines=[{"tasks": 2, "rounds": 2 * QUICK_ROUNDS, "workers": 2}],
            timeline_models=cheap_and_sync,
            noise=({"tasks": 4, "rounds": QUICK_ROUNDS, "workers": 1}, cheap_and_sync),
        ),
        "article": AtScale(
            both_kernels({"tasks": 4}),
            ({"tasks": 4}, (1, 2, 4)),
            timelines=[{"tasks": 2, "workers": 2}],
            timeline_models=cheap_and_sync,
            noise=({"tasks": 4, "workers": 1}, cheap_and_sync),
        ),
        "smoke": AtScale(
            both_kernels({"tasks": 2, "rounds": 20_000}),
            ({"tasks": 2, "rounds": 20_000}, (1, 2)),
            timelines=[{"tasks": 2, "rounds": 20_000, "workers": 2}],
            timeline_models=cheap_and_sync,
        ),
    },
    rank=50,
    computes=True,
    answers=(
        AnswerRow("computing", "pure-Python CPU work"),
        AnswerRow("computing", "CPU work in C that lets go of the GIL", kernel="hashlib"),
    ),
    roles=frozenset({"speed", "computing"}),
    timeline_caption="Two computing tasks on 2 workers: threads take turns on one GIL (each on a CPU about "
    "half its time, so each lasts about twice as long), processes run on two cores at once.",
)
