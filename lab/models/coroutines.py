"""asyncio: coroutines on one event loop, at most `workers` of them at a time.

One cook, and a cook who only turns to another order when the current one says "I'm waiting":
coroutines switch only at an `await`. Waiting tasks (`asyncio.sleep`, network I/O) overlap as
well as threads do, at a fraction of the cost; computing tasks run one after the other. Every
coroutine sees the same objects: the counter is a plain object and the lock an `asyncio.Lock`.
Every coroutine shares one HTTP session too (`aiohttp.ClientSession` or `httpx.AsyncClient`,
option `client`), as aiohttp's documentation asks: one session per application.

The loop is started with `anyio.run` (which also picks uvloop, option `loop`) and timed out with
`anyio.fail_after`; the tasks themselves run on bare asyncio (`gather` and a `Semaphore`), which
costs a third of an anyio task group per task.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, nullcontext
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import anyio

from lab.clients import ASYNC_CLIENTS, AsyncClient, Outcome, async_client
from lab.models.base import (
    Counter,
    Fault,
    Measured,
    Model,
    Span,
    TaskName,
    Work,
    cpu_seconds,
    crunch_rounds,
    failed,
    misbehave,
    now,
    split,
)


@dataclass(frozen=True)
class Shared:
    """What every coroutine of one run shares: the counter, the lock, the start line, and the slots.

    Coroutines have no pool: `slots`, a semaphore of `workers`, is what lets at most `workers`
    of them run at a time. Each task holds a slot itself, so that one coroutine per item is all
    the lab creates, as hand-written `gather`-with-a-semaphore code does.
    """

    counter: Counter
    lock: AbstractAsyncContextManager[Any]
    start: asyncio.Barrier
    slots: asyncio.Semaphore
    http: AsyncClient | None = None
    lanes: list[int] = field(default_factory=list)  # free slot numbers, when recording
    inner: Any = None  # when recording: what the task is handed (its slot is already held)
    function: Callable[..., Any] | None = None  # bench's coroutine function
    pause: bool = True  # yield_point sleep0: an await between the counter's read and its write


async def echo(item: str, sleep: float, fault: Fault | None, shared: Shared) -> str:
    """pool-map's task: wait `sleep` seconds, then return the item."""
    async with shared.slots:
        await asyncio.sleep(sleep)
        if fault:
            await amisbehave(fault)
        return item


async def count(increments: int, sleep: float, fault: Fault | None, shared: Shared) -> None:
    """The counter demos' task: `increments` times, read the counter, then write it plus one."""
    async with shared.slots:
        await shared.start.wait()  # every worker is running before anyone counts: a race needs overlap
        await asyncio.sleep(sleep)
        if fault:
            await amisbehave(fault)
        for _ in range(increments):
            async with shared.lock:
                value = shared.counter.value
                # Coroutines only switch at an await: without this one (yield_point none), no
                # other coroutine can run between the read and the write, and none is ever lost.
                if shared.pause:
                    await asyncio.sleep(0)
                shared.counter.value = value + 1


async def crunch(rounds: int, sleep: float, fault: Fault | None, shared: Shared) -> int:
    """cpu-bound's task: pure-Python arithmetic, during which the loop runs nothing else."""
    async with shared.slots:
        await asyncio.sleep(sleep)
        if fault:
            await amisbehave(fault)
        return crunch_rounds(rounds)


async def fetch(request_id: int, sleep: float, fault: Fault | None, shared: Shared) -> Outcome:
    """http-get's task: GET one request with the run's one session, and verify the response."""
    async with shared.slots:
        if fault:
            await amisbehave(fault)
        assert shared.http is not None, "fetch runs with a session"
        return await shared.http.get(request_id)


async def call(pair: tuple[int, Any], sleep: float, fault: Fault | None, shared: Shared) -> Any:
    """bench's task: await the user's coroutine function on one item, a failure naming the item."""
    async with shared.slots:
        assert shared.function is not None, "call runs with a function"
        index, item = pair
        try:
            return await shared.function(item)
        except Exception as exc:
            raise failed(index, item, exc) from exc


async def timed(
    task: Callable[..., Any], pair: tuple[int, Any], sleep: float, fault: Fault | None, shared: Shared
) -> tuple[Any, Span]:
    """Run one task in a slot, and say which slot (its lane) and which asyncio task ran it, when.

    The slot is taken here, so that the span starts when the task may run; the task itself is
    handed `shared.inner`, the same objects but for a semaphore it never waits on. No CPU time:
    every coroutine shares one thread.
    """
    index, item = pair
    async with shared.slots:
        lane = shared.lanes.pop()
        start = now()
        try:
            output = await task(item, sleep, fault, shared.inner)
        finally:
            shared.lanes.append(lane)
        current = asyncio.current_task()
        return output, (current.get_name() if current else "coroutine", lane, index, start, now(), None)


async def amisbehave(fault: Fault | None) -> None:
    """`misbehave` for coroutines: here a hang is an await that never completes (a stuck read)."""
    if fault == "hang":
        await asyncio.Event().wait()
    misbehave(fault)


TASKS: dict[str, Callable[..., Any]] = {
    "echo": echo,
    "count": count,
    "crunch": crunch,
    "fetch": fetch,
    "call": call,
}


async def run_async(work: Work, client: str = ASYNC_CLIENTS[0]) -> Measured:
    """Run `work` on the running event loop (startup_s is 0: the loop is the caller's)."""
    lock = asyncio.Lock() if work.locked else nullcontext()
    async with AsyncExitStack() as stack:
        http = None
        if work.target is not None:
            http = await stack.enter_async_context(async_client(client, work.target, work.workers))
        lanes = list(range(work.workers))[::-1]
        start, slots = asyncio.Barrier(work.workers), asyncio.Semaphore(work.workers)
        pause = work.yield_point == "sleep0"
        shared = Shared(Counter(), lock, start, slots, http, lanes, function=work.function, pause=pause)
        task, sleep, fault = TASKS[work.task], work.sleep, work.fault
        spans = None
        with anyio.fail_after(work.timeout):
            cpu = cpu_seconds()
            begin = now()
            if work.record:
                free = asyncio.Semaphore(max(1, len(work.items)))  # never waited on: `timed` holds the slot
                shared = replace(shared, inner=replace(shared, slots=free))
                each = (timed(task, pair, sleep, fault, shared) for pair in enumerate(work.items))
                outputs, spans = split(await asyncio.gather(*each))
            else:
                outputs = await asyncio.gather(*(task(item, sleep, fault, shared) for item in work.items))
            elapsed = now() - begin
            cpu = cpu_seconds() - cpu
    return Measured(outputs, shared.counter.value, elapsed, 0.0, spans, begin, cpu)


class Coroutines(Model):
    """Runs the work as coroutines on a new event loop (asyncio's own, or uvloop's)."""

    name: ClassVar[str] = "asyncio"
    description: ClassVar[str] = (
        "coroutines on one event loop; waits with asyncio.sleep, shares a plain object, "
        "locks with asyncio.Lock"
    )
    option_choices: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "loop": ("asyncio", "uvloop"),
        "client": ASYNC_CLIENTS,
    }
    task_options: ClassVar[Mapping[str, TaskName]] = {"client": "fetch"}
    max_workers: ClassVar[int] = 100_000

    @classmethod
    def unavailable(cls, options: Mapping[str, str]) -> str | None:
        """uvloop is a dependency, but it does not install everywhere (Windows)."""
        if options.get("loop") == "uvloop" and importlib.util.find_spec("uvloop") is None:
            return "loop 'uvloop' needs uvloop, not installed here: pip install uvloop (not on Windows)"
        return None

    def run(self, work: Work) -> Measured:
        """Start a loop, run the work on it, close the loop; the loop's start and end are start-up."""
        started = now()
        use_uvloop = self.options["loop"] == "uvloop"
        measured = anyio.run(
            run_async,
            work,
            self.options["client"],
            backend="asyncio",
            backend_options={"use_uvloop": use_uvloop},
        )
        total = now() - started
        return replace(measured, startup_s=total - measured.elapsed_s)
