"""transfer, big data handed to workers: each of `tasks` tasks receives a payload of `size` bytes
that the caller built, does `rounds` of pure-Python work per KiB of it and returns a small result.

How the payload reaches a task is the lesson, and `via` chooses it:

    argument  each task's argument, handed over as the model hands any argument: threads and
              asyncio pass the object itself (no copy), processes pickle it through the pool's
              pipe once per task, interpreters copy it through their queue, dask sends it with
              each task (through the scheduler);
    shared    once per run, where every worker reads it (`lab.models.base.Kit.data`): threads and
              asyncio the object itself, processes a `multiprocessing.shared_memory` block filled
              inside the clock, interpreters a `memoryview` of the caller's bytes, dask scattered
              to every worker (`Client.scatter(broadcast=True)`).

With `rounds` 0 the time is the moving alone (and a read of every page, which every `via` pays:
a task reads one byte of each KiB, so that nothing is moved lazily and never paid for). Each task
returns what it saw: the payload's length, a CRC-32 of a byte every 4 KiB, and its work's value.
"""

from __future__ import annotations

import functools
import zlib
from typing import Any

from lab.demos.base import AnswerRow, AtScale, Demo, Params, Section
from lab.models.base import AsyncKit, Kit, Measured, Model
from lab.models.tasks import crunch_rounds
from lab.params import Param

PERIOD = 251  # the payload's bytes repeat with a prime period: no 4 KiB sample sees one value
PAGE = 4096  # the sample's stride: a byte of every page
KIB = 1024


def payload(size: int) -> bytes:
    """`size` bytes, the same for the same size (so that a check can rebuild what it expects),
    built in one copy (`join`: a repeat cut to size would hold two at its peak)."""
    whole, rest = divmod(size, PERIOD)
    return b"".join([bytes(range(PERIOD))] * whole + [bytes(range(rest))])


def items(p: Params) -> tuple[Any, ...]:
    """One `(payload, rounds)` per task; with `via` shared the payload is None (it is `Kit.data`).
    Every task's payload is the one object: what each model makes of it is the lesson."""
    data = payload(p["size"]) if p["via"] == "argument" else None
    return ((data, int(p["rounds"])),) * int(p["tasks"])


def shared_payload(p: Params) -> bytes | None:
    """The run's one payload, placed once by the model (`Kit.data`), with `via` shared."""
    return payload(p["size"]) if p["via"] == "shared" else None


def seen(data: Any, rounds: int) -> tuple[int, int, int]:
    """What a task computes on a payload: its length, a CRC-32 of a byte of every page, and
    `rounds` per KiB of pure-Python work seeded by a byte of each KiB (every page is read)."""
    view = memoryview(data)
    seed = sum(view[offset] for offset in range(0, len(view), KIB))
    kib = -(-len(view) // KIB)
    work = crunch_rounds(rounds * kib) if rounds else 0
    return len(view), zlib.crc32(bytes(view[::PAGE])), (seed + work) % 1_000_003


def receive(item: tuple[bytes | None, int], kit: Kit) -> tuple[int, int, int]:
    """One task: the payload it was handed (or the run's shared one), worked on."""
    data, rounds = item
    return seen(kit.data if data is None else data, rounds)


async def receive_async(item: tuple[bytes | None, int], kit: AsyncKit) -> tuple[int, int, int]:
    """`receive` on the event loop: CPU work that never awaits (the loop runs nothing else)."""
    data, rounds = item
    return seen(kit.data if data is None else data, rounds)


@functools.lru_cache(maxsize=8)
def expected(size: int, rounds: int) -> tuple[int, int, int]:
    """What every task must return for this size and these rounds (computed once, after the clock)."""
    return seen(payload(size), rounds)


def all_seen(demo: Demo, params: Params, measured: Measured) -> bool:
    """One output per task, each what the payload's owner computes on it."""
    want = expected(params["size"], params["rounds"])
    return len(measured.outputs) == params["tasks"] and all(tuple(o) == want for o in measured.outputs)


def transfer_metrics(params: Params, measured: Measured) -> dict[str, Any] | None:
    """Bytes handed to tasks per second (each task's payload counts, however it was moved)."""
    if not measured.elapsed_s:
        return None
    handed = params["tasks"] * params["size"]
    # Four significant figures: one decimal place made a slow model's 3.357 MB/s 3.4, 1% off.
    return {"handed_bytes": handed, "megabytes_per_s": float(f"{handed / measured.elapsed_s / 1e6:.4g}")}


def peak_bytes(params: Params, model: type[Model]) -> int:
    """The most the run can hold at once: the caller's payload, and where workers have heaps of
    their own (processes, interpreters, dask), a copy per task in flight (`argument`: its pickle
    in the caller's pipe, and the copy a worker made) or the one shared block (`shared`)."""
    size, tasks = int(params["size"]), int(params["tasks"])
    if not model.parallel:
        return size
    return size * (1 + 2 * tasks if params["via"] == "argument" else 2)


def in_words(params: Params) -> str:
    """What one run did: `4 tasks x 10,000,000 bytes (argument), 100 rounds per KiB`."""
    tasks, size, via, rounds = params["tasks"], params["size"], params["via"], params["rounds"]
    return f"{tasks} tasks x {size:,} bytes ({via}), {rounds} rounds per KiB"


def at_the_top(size: int) -> list[dict[str, Any]]:
    """A scale's rows at its largest payload, on a worker per task: with work, handed as an
    argument (the answer's row) and shared, then each with no work (the moving alone)."""
    return [
        {"size": size, "rounds": rounds, "via": via}
        for rounds in (ROUNDS, 0)
        for via in ("argument", "shared")
    ]


def ladder(sizes: tuple[int, ...], top: int) -> list[dict[str, Any]]:
    """The size ladder, handed as arguments with work: each size on one worker, and on one per
    task (at `top` that row is `at_the_top`'s already)."""
    return [
        {"size": size, "rounds": ROUNDS, "via": "argument", **({"workers": 1} if one else {})}
        for size in sizes
        for one in (True, False)
        if one or size != top
    ]


# About 6 us of pure-Python work per KiB here (100 rounds): about what pickling a KiB through a
# pipe costs a process (3-4 us), so that moving and computing weigh alike at every size.
ROUNDS = 100
# The quick report's largest payload, 9 s of its time (8.7 of transfer's 12.5 s here). At 4 MB
# (4.8 s in all) a task's work, 25 ms, was too short for processes: their pool's start-up left
# them out of the answer, which named threads, and no size showed a speedup over one worker.
QUICK_SIZE = 10_000_000

DEMO = Demo(
    "transfer",
    "big data handed to workers: each of `tasks` tasks gets a payload of `size` bytes built by the caller "
    "(via an argument each, or shared once) and does `rounds` of work per KiB of it",
    {"tasks": 4, "size": 1_000_000, "rounds": ROUNDS, "via": "argument", "workers": None},
    "call",
    items,
    function=receive,
    async_function=receive_async,
    kit=True,
    data=shared_payload,
    memory=peak_bytes,
    outputs_right=all_seen,
    metrics=transfer_metrics,
    headline=(("megabytes_per_s", "MB/s", ""),),
    params=(
        # Its own bounds: a payload in memory (up to 1 TiB; what the machine has free is checked
        # per model, `peak_bytes`), not the server's response, which http-get's `size` is.
        Param("size", "bytes", "bytes of each task's payload (1MB, 10MiB)", "size", low=0, high=2**40),
        Param("rounds", "int", "rounds of pure-Python work per KiB of payload", "r", low=0, high=1_000_000),
        Param(
            "via",
            "choice",
            "how the payload reaches a task: argument (each task's own, as the model "
            "passes arguments) or shared (once, where every worker reads it)",
            "via ",
            choices=("argument", "shared"),
        ),
    ),
    scales={
        # The first row is the answer's (and a costly model's, dask's, at the quick scale); then
        # the other `via` and the moving alone at that size; then the ladder of sizes, each on
        # one worker and on one per task (the section's speedups: where handing data over eats them).
        "quick": AtScale(
            [*at_the_top(QUICK_SIZE), *ladder((10_000, 100_000, 1_000_000, QUICK_SIZE), QUICK_SIZE)],
            timelines=[{"size": QUICK_SIZE, "tasks": 2, "via": via} for via in ("argument", "shared")],
        ),
        "article": AtScale(
            [*at_the_top(100_000_000), *ladder((1_000, 100_000, 10_000_000, 100_000_000), 100_000_000)],
            timelines=[{"size": 100_000_000, "tasks": 2}],
        ),
        "smoke": AtScale(
            [*at_the_top(100_000), *ladder((10_000, 100_000), 100_000)],
            timelines=[{"size": 100_000, "tasks": 2}],
        ),
    },
    rank=90,
    in_words=in_words,
    answers=(AnswerRow("big data", "CPU work on big data"),),
    section=Section("sizes", "Big data handed to workers"),
    timeline_caption="Two tasks, each handed 10 MB: as an argument, a process's task starts only once its "
    "pickle has crossed the pipe (the gap before each bar), a thread's at once, on the object itself; "
    "shared, a process's task starts as soon as the block is filled.",
)
