"""asyncio: coroutines on one event loop, at most `workers` of them at a time.

One cook, and a cook who only turns to another order when the current one says "I'm waiting":
coroutines switch only at an `await`. Waiting tasks (`asyncio.sleep`, network I/O) overlap as
well as threads do, at a fraction of the cost; computing tasks run one after the other. Every
coroutine sees the same objects: the counter is a plain object and the lock an `asyncio.Lock`.
Every coroutine shares one HTTP session too (`aiohttp.ClientSession` or `httpx.AsyncClient`,
option `client`), as aiohttp's documentation asks: one session per application.

The loop is an `asyncio.Runner` (uvloop's, option `loop`), started before the clock and closed
after it, so that the base class times the map alone; the map is timed out with
`anyio.fail_after`, and the tasks run on bare asyncio (`gather` and a `Semaphore`), which costs a
third of an anyio task group per task.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractAsyncContextManager, AsyncExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, ClassVar

import anyio

from lab._compat import kill_workers
from lab.http.clients import ASYNC_CLIENTS, AsyncClient, Outcome, async_client
from lab.measure import heartbeat
from lab.measure.environment import usable_cores
from lab.measure.heartbeat import Beats
from lab.measure.locks import in_new_loop, median_us
from lab.models.base import (
    NETWORK_TASKS,
    AsyncKit,
    Fault,
    Kernel,
    Model,
    Option,
    Span,
    Stopped,
    Tasks,
    Work,
    Workers,
    now,
)
from lab.models.tasks import Counter, crunch_job, failed, misbehave, work_on
from lab.models.tasks import timed as timed_task
from lab.signals import die_with_parent

OFFLOADS = ("none", "thread", "process", "interpreter")


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
    offload: Offload | None = None  # mixed: where the CPU part runs (option `offload`)
    side: list[Span] | None = None  # when recording: the spans of work handed elsewhere (offload)
    kit: AsyncKit | None = None  # the demo's coroutine function takes it (`Work.kit`)


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


async def crunch(job: tuple[Kernel, int], sleep: float, fault: Fault | None, shared: Shared) -> int | str:
    """cpu-bound's task (pure-Python arithmetic or hashlib), during which the loop runs nothing else."""
    async with shared.slots:
        await asyncio.sleep(sleep)
        if fault:
            await amisbehave(fault)
        return crunch_job(job)


async def fetch(request_id: int, sleep: float, fault: Fault | None, shared: Shared) -> Outcome:
    """http-get's task: GET one request with the run's one session, and verify the response."""
    async with shared.slots:
        if fault:
            await amisbehave(fault)
        assert shared.http is not None, "fetch runs with a session"
        return await shared.http.get(request_id)


async def mix(
    item: tuple[int, int], sleep: float, fault: Fault | None, shared: Shared
) -> tuple[Outcome, int]:
    """mixed's task: GET one request with the run's session, then compute on its body where the
    option `offload` says: inline (the loop runs nothing else meanwhile), or handed to a thread,
    a process or an interpreter while the loop goes on."""
    async with shared.slots:
        if fault:
            await amisbehave(fault)
        assert shared.http is not None and shared.offload is not None, "mix runs with a session"
        request_id, rounds = item
        outcome, data = await shared.http.receive(request_id)
        if shared.side is None:
            return outcome, await shared.offload(work_on, data, rounds)
        # Recording: the CPU part is a span of its own, on whichever thread, process or
        # interpreter computed it (request ids are the items' indexes).
        value, span = await shared.offload(timed_task, partial(work_on, data), (request_id, rounds))
        shared.side.append(span)
        return outcome, value


async def call(pair: tuple[int, Any], sleep: float, fault: Fault | None, shared: Shared) -> Any:
    """bench's task: await the user's coroutine function on one item, a failure naming the item."""
    async with shared.slots:
        assert shared.function is not None, "call runs with a function"
        if fault:
            await amisbehave(fault)
        index, item = pair
        try:
            if shared.kit is not None:
                return await shared.function(item, shared.kit)
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


TASKS = Tasks(echo=echo, count=count, crunch=crunch, fetch=fetch, mix=mix, call=call)
KIT = {"queue": "asyncio.Queue", "lock": "asyncio.Lock", "value": "a plain object", "sleep": "asyncio.sleep",
       "data": "the object itself"}  # fmt: skip


@dataclass
class Running:
    """With a deadline, the run's tasks and whether `LoopWorkers.halt` stopped them. Both change
    on the loop's thread alone, so a halt that comes before `gather` has made its tasks (a
    deadline shorter than the loop's start) still cancels each one as it is made."""

    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    halted: bool = False

    def start(self, coroutines: Sequence[Coroutine[Any, Any, Any]]) -> list[asyncio.Task[Any]]:
        """A task for each coroutine, cancelled at once if the halt came first."""
        self.tasks.extend(asyncio.create_task(c) for c in coroutines)
        if self.halted:
            self.cancel()
        return self.tasks

    def cancel(self) -> None:
        """`Task.cancel` on every task, now and on each made from now on."""
        self.halted = True
        for task in self.tasks:
            task.cancel()


class LoopWorkers(Workers):
    """An event loop, kept between calls (`asyncio.Runner`), and the run's shared objects."""

    def __init__(self, runner: asyncio.Runner, shared: Shared, work: Work):
        self.runner, self.shared, self.work = runner, shared, work
        # With a deadline, the running tasks (`gather` fills it), which `halt` cancels.
        self.running: Running | None = None if work.deadline is None else Running()

    beats: Beats | None = None
    side: list[Span] | None = None

    def map(self, items: Sequence[Any], record: bool) -> list[Any]:
        """Every item as a coroutine, `gather`ed on the loop, within the timeout (and, when watched,
        the heartbeat beside them on the same loop)."""
        self.side = [] if record else None
        shared = replace(self.shared, side=self.side)
        outputs: list[Any] = self.runner.run(
            beating(gather(shared, self.work, items, record, self.running), self.beats)
        )
        return outputs

    def halt(self) -> None:
        """`Task.cancel` on every task, from the loop's own thread: each is cancelled at its
        next `await` (its `finally` runs), and a task that computes without awaiting runs on
        until it does, the loop with it."""
        if self.running is not None:
            self.runner.get_loop().call_soon_threadsafe(self.running.cancel)

    def side_spans(self) -> list[Span]:
        """The CPU parts mixed handed to `offload` (or ran inline), when recording."""
        return list(self.side or ())

    @contextmanager
    def watch(self) -> Iterator[Beats]:
        """The caller here is the loop: the heartbeat is a coroutine on it, run by `map`."""
        self.beats = Beats()
        try:
            yield self.beats
        finally:
            self.beats = None

    def counter(self) -> int:
        """The plain object's final value."""
        return self.shared.counter.value


async def beating(work: Awaitable[list[Any]], beats: Beats | None) -> list[Any]:
    """`work`, with the heartbeat running on the loop beside it when `beats` is given."""
    if beats is None:
        return await work
    stop = asyncio.Event()
    pulse = asyncio.create_task(heartbeat.on_the_loop(beats, stop))
    try:
        return await work
    finally:
        stop.set()
        await pulse


async def gather(
    shared: Shared,
    work: Work,
    items: Sequence[Any],
    record: bool = False,
    running: Running | None = None,
) -> list[Any]:
    """One coroutine per item on the running loop; each holds a slot (`Shared.slots`) while it
    runs. With `running` (a deadline), each is a task listed there, which `LoopWorkers.halt` cancels."""
    task, sleep, fault = TASKS[work.task], work.sleep, work.fault
    with anyio.fail_after(work.timeout):
        if record:
            free = asyncio.Semaphore(max(1, len(items)))  # never waited on: `timed` holds the slot
            shared = replace(shared, inner=replace(shared, slots=free))
            coroutines = [timed(task, pair, sleep, fault, shared) for pair in items]
        else:
            coroutines = [task(item, sleep, fault, shared) for item in items]
        if running is None:
            outputs: list[Any] = await asyncio.gather(*coroutines)
            return outputs
        began = now()
        tasks = running.start(coroutines)
        return await asyncio.gather(
            *(until_cancelled(t, index, began if record else None) for index, t in enumerate(tasks))
        )


async def until_cancelled(task: asyncio.Task[Any], index: int, began: float | None) -> Any:
    """`task`'s output, or a `Stopped` when `LoopWorkers.halt` cancelled it (recorded, `began`
    given: with a span from the map's start to there, in a lane of its own)."""
    try:
        return await asyncio.shield(task)  # the halt cancels the task itself, not this wait
    except asyncio.CancelledError:
        if not task.cancelled():
            raise  # the run's own timeout (`fail_after`) cancelled this wait: it goes on up
        stopped = Stopped(now(), "cancelled")
        if began is None:
            return stopped
        return stopped, (f"cancelled {index}", None, index, began, stopped.at, None)


async def prepare(work: Work, options: Mapping[str, str], stack: AsyncExitStack) -> Shared:
    """The run's shared objects, made on the loop: the lock, start line, slots, HTTP session, and
    where mixed's CPU part goes (a process pool started here, before the clock)."""
    lock = asyncio.Lock() if work.locked else nullcontext()
    # anyio loads its asyncio backend (26 modules, 25 ms) on its first call on a loop: here, before
    # the clock, rather than in `gather`'s `fail_after`, inside the first timed trial of a process.
    anyio.current_time()
    http = None
    if work.target is not None:
        http = await stack.enter_async_context(async_client(options["client"], work.target, work.workers))
    lanes = list(range(work.workers))[::-1]
    start, slots = asyncio.Barrier(work.workers), asyncio.Semaphore(work.workers)
    pause = work.yield_point == "sleep0"
    offload = await offloading(options["offload"], stack) if work.task == "mix" else None
    counter = Counter()
    kit = (
        AsyncKit(
            asyncio.Queue(),
            asyncio.Lock(),
            counter,
            asyncio.sleep,
            work.timeout,
            KIT,
            None if work.data is None else memoryview(work.data),
        )
        if work.kit
        else None
    )
    return Shared(
        counter,
        lock,
        start,
        slots,
        http,
        lanes,
        function=work.function,
        pause=pause,
        offload=offload,
        kit=kit,
    )


Offload = Callable[..., Awaitable[Any]]  # offload(function, *args): its result, awaited


async def inline(function: Callable[..., Any], *args: Any) -> Any:
    """offload `none`: call it here, on the loop, which runs nothing else until it returns."""
    return function(*args)


async def offloading(how: str, stack: AsyncExitStack) -> Offload:
    """The awaitable call for option `offload`: `none`, `thread` (`asyncio.to_thread`), `process`
    (`loop.run_in_executor` on a pool of one process per usable core, every one started here),
    or `interpreter` (`anyio.to_interpreter.run_sync`: a subinterpreter per call, pooled by anyio)."""
    if how == "thread":
        return asyncio.to_thread
    if how == "process":
        loop = asyncio.get_running_loop()
        pool = ProcessPoolExecutor(usable_cores(), initializer=die_with_parent, initargs=(os.getpid(),))
        stack.push_async_callback(asyncio.to_thread, pool.shutdown, cancel_futures=True)
        stack.push_async_exit(killing(pool))
        await asyncio.gather(*(loop.run_in_executor(pool, int) for _ in range(usable_cores())))
        return partial(loop.run_in_executor, pool)
    if how == "interpreter":
        from anyio import to_interpreter  # noqa: PLC0415 (3.13+ only)

        stack.push_async_callback(stop_interpreters)
        return to_interpreter.run_sync
    return inline


async def stop_interpreters() -> None:
    """Destroy the subinterpreters anyio keeps for reuse on this loop, at the end of the run.

    anyio destroys them only at exit, and has no public way to do it sooner (its private
    `_idle_workers` and `_stop_workers`, anyio 4.x). The lab leaves no interpreter behind, and a
    process that still has one cannot fork safely: on 3.13, every process forked later crashed
    ("PyThreadState_Get: ... the GIL is released")."""
    from anyio import to_interpreter  # noqa: PLC0415

    try:
        idle = to_interpreter._idle_workers.get()
    except LookupError:  # no call ran on this loop
        return
    to_interpreter._stop_workers(idle)


def killing(pool: ProcessPoolExecutor) -> Callable[..., Awaitable[bool]]:
    """An async exit callback that kills the pool's workers when the run ends with an exception."""

    async def on_exit(kind: Any, exc: Any, tb: Any) -> bool:
        if kind is not None:
            kill_workers(pool)
        return False

    return on_exit


class Asyncio(Model):
    """Runs the work as coroutines on a new event loop (asyncio's own, or uvloop's)."""

    name: ClassVar[str] = "asyncio"
    description: ClassVar[str] = (
        "coroutines on one event loop; waits with asyncio.sleep, shares a plain object, "
        "locks with asyncio.Lock"
    )
    takes: ClassVar[tuple[Option, ...]] = (
        # A loop's own work is timers and sockets: a lean scale shows uvloop where the demo waits on
        # them (pool-map, http-get), not where coroutines compute or count between sleep(0)s.
        Option("loop", ("asyncio", "uvloop"), "the event loop", fixed_for=("mix",),
               shown_by=("echo", "fetch")),
        Option("client", ASYNC_CLIENTS, "the HTTP library (http-get, mixed)", tasks=NETWORK_TASKS,
               fixed_for=("mix",)),
        Option("offload", OFFLOADS, "where mixed's CPU part runs: none (inline, on the loop), thread "
               "(asyncio.to_thread), process (run_in_executor), interpreter (anyio.to_interpreter, 3.13+)",
               tasks=("mix",), recorded=True, every_row=True),
    )  # fmt: skip
    max_workers: ClassVar[int] = 100_000
    asynchronous: ClassVar[bool] = True
    mismatch_means: ClassVar[str] = (
        "the coroutine is not safe to run concurrently (state changes across its awaits)"
    )
    rank: ClassVar[int] = 10
    colour: ClassVar[str] = "#1f77b4"
    approach: ClassVar[str | None] = "asyncio"
    bench_workers: ClassVar[tuple[int, ...]] = (16, 128)  # a waiting coroutine is cheap: go further
    ceiling_options: ClassVar[Mapping[str, str] | None] = {"loop": "uvloop"}

    @classmethod
    def unavailable(cls, options: Mapping[str, str]) -> str | None:
        """uvloop is a dependency, but it does not install everywhere (Windows)."""
        if options.get("loop") == "uvloop" and importlib.util.find_spec("uvloop") is None:
            return "loop 'uvloop' needs uvloop, not installed here: pip install uvloop (not on Windows)"
        if options.get("offload") == "interpreter" and (
            sys.version_info < (3, 13) or importlib.util.find_spec("_interpreters") is None
        ):
            version = ".".join(map(str, sys.version_info[:3]))
            return (
                f"offload 'interpreter' needs Python 3.13+ (anyio.to_interpreter); this is Python {version}"
            )
        return None

    @classmethod
    def lock_costs(cls) -> dict[str, float]:
        """An `asyncio.Lock`."""
        return {"asyncio.Lock": median_us(lambda: in_new_loop(20_000))}

    @contextmanager
    def start(self, work: Work) -> Iterator[LoopWorkers]:
        """A new loop with the run's shared objects on it; closed, with the session, at the end."""
        factory = None
        if self.options["loop"] == "uvloop":
            import uvloop  # noqa: PLC0415 (only when asked: it is not on every platform)

            factory = uvloop.new_event_loop
        with asyncio.Runner(loop_factory=factory) as runner:
            stack = AsyncExitStack()
            shared = runner.run(prepare(work, self.options, stack))
            try:
                yield LoopWorkers(runner, shared, work)
            finally:
                runner.run(stack.aclose())
