"""processes: a pool of OS processes (`concurrent.futures.ProcessPoolExecutor`).

Several cooks. Each process has its own interpreter and its own GIL, so tasks run in parallel on
the cores. Nothing is shared unless made so: the counter is a `multiprocessing.Value` in shared
memory, the lock a `multiprocessing.Lock` (option `lock=mp`) or, as in the article, a
`Manager().Lock()` (`lock=manager`): a proxy to a lock that lives in a manager process, one socket
round trip per acquire and per release. The queue a demo's messages travel on (`Kit.put`, `get`)
is a `multiprocessing.Queue` (`queue=pipe`: a pipe, fed by a thread of the putting process) or a
`Manager().Queue()` (`queue=manager`: a `queue.Queue` in the manager, a round trip a message).
Each process has its own HTTP session (`requests.Session` or `httpx.Client`, option `client`),
made on its first request.

    caller ── items, in chunks ──> call queue ──> worker 1..N ──> result queue ──> caller
       └── Value, Lock, Barrier ── pool initializer, once per worker at its start ──┘

`ProcessPoolExecutor` rather than `multiprocessing.Pool`: when a worker dies, `Pool` waits
forever, while the executor raises `BrokenProcessPool`. Works under every start method: `fork`,
`spawn` and `forkserver` (the tasks are module-level functions, the shared objects travel through
the initializer while the worker is being started, which is when multiprocessing allows it).
"""

from __future__ import annotations

import math
import multiprocessing
import multiprocessing.util
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from multiprocessing import shared_memory
from multiprocessing.process import BaseProcess
from typing import Any, ClassVar

from lab._compat import kill_workers, pool_pids, pool_processes, use_forkserver
from lab.http.clients import SYNC_CLIENTS, Outcome, SyncClient, Target, load, sync_client
from lab.measure.locks import median_us, per_round
from lab.models.base import (
    GRACE_S,
    NETWORK_TASKS,
    Fault,
    Kernel,
    Kit,
    Model,
    Option,
    Stopped,
    Tasks,
    Work,
    Workers,
    cpu_seconds,
    now,
)
from lab.models.tasks import apply, crunch_job, misbehave, timed, work_on
from lab.signals import die_with_parent, sigint_deferred

START_METHODS = ("fork", "spawn", "forkserver")


@dataclass(frozen=True)
class Shared:
    """What every worker of one run shares: the counter, the lock, and the start line."""

    counter: Any  # multiprocessing.sharedctypes.Synchronized[int]
    lock: AbstractContextManager[Any]
    start: Any  # multiprocessing.synchronize.Barrier
    target: Target | None = None
    library: str = SYNC_CLIENTS[0]
    function: Callable[..., Any] | None = None  # pickled by reference: a module-level function
    queue: Any = None  # multiprocessing.Queue, when the function takes a kit (`Work.kit`)
    timeout: float = 60.0
    lock_name: str = "multiprocessing.Lock"
    queue_name: str = "multiprocessing.Queue"
    data: tuple[str, int] | None = None  # the run's payload: its shared_memory block's name, and size
    stop: Any = None  # a multiprocessing.Event set at the deadline (option stop event), or None
    lab: int = field(default_factory=os.getpid)  # the lab's pid: a worker ends when it is gone


shared: Shared | None = None  # set in each worker by `join_pool`
kit: Kit | None = None  # made in each worker by `join_pool`, from `shared`, when the work has one
session: SyncClient | None = None  # this worker's own HTTP client, made by its first `fetch`


def join_pool(what: Shared) -> None:
    """The pool's initializer: keep the shared objects in this worker's globals, as the article does.

    A `multiprocessing.Value` cannot travel in a task's arguments ("Synchronized objects should
    only be shared between processes through inheritance"): it reaches a worker here, once, as
    the worker starts.
    """
    global shared, kit
    die_with_parent(what.lab)
    # Ctrl-C goes to the whole process group: the parent decides what to stop, and a worker
    # must not die in the middle of a task and break the pool while the parent cleans up.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGTERM ends a worker at once (a forked one inherits the command line's handler, which would
    # raise in its task and send that back as the run's own SIGTERM): option stop terminate, and
    # `kill_workers`, mean it.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked by `sigint_deferred`
    shared = what
    if what.queue is not None:
        kit = Kit(
            # No deadline on `get`: the parent kills its workers when the run's timeout passes.
            what.queue,
            what.lock,
            what.counter,
            time.sleep,
            None,
            {**KIT, "lock": what.lock_name, "queue": what.queue_name},
            attach(*what.data) if what.data else None,
            what.stop,
        )
    if what.target:
        load(what.library)  # before the clock (under fork, the parent's import is inherited)


def attach(name: str, size: int) -> memoryview:
    """The run's payload, in a worker: the parent's `shared_memory` block, opened by name and
    mapped (its pages are read where a task reads them), as a read-only view.

    Opening it registers the name with the resource tracker before Python 3.13 (gh-82300), but
    this pool's workers share their parent's tracker, whose record of a name is one entry: the
    parent's `unlink` removes it for everyone, and nothing is reported leaked. The view and the
    mapping are let go as the worker exits (a `Finalize`: a mapping closed with a view still
    exported raises `BufferError` in `__del__` under spawn's orderly exit)."""
    block = shared_memory.SharedMemory(name)
    assert block.buf is not None, "an open block has a buffer"
    view = block.buf[:size].toreadonly()

    def let_go() -> None:
        view.release()
        block.close()

    multiprocessing.util.Finalize(block, let_go, exitpriority=10)
    return view


@contextmanager
def data_block(data: bytes | None) -> Iterator[shared_memory.SharedMemory | None]:
    """The run's payload's `shared_memory` block (empty: it is filled inside the clock), unlinked
    when the run ends, whatever ended it (a failure, a timeout, Ctrl-C): no block outlives its run."""
    if data is None:
        yield None
        return
    block = shared_memory.SharedMemory(create=True, size=max(1, len(data)))
    try:
        yield block
    finally:
        block.close()
        block.unlink()


def echo(item: str, sleep: float, fault: Fault | None) -> str:
    """pool-map's task: wait `sleep` seconds, then return the item."""
    time.sleep(sleep)
    if fault:
        misbehave(fault)
    return item


def count(increments: int, sleep: float, fault: Fault | None) -> None:
    """The counter demos' task: `increments` times, read the counter, then write it plus one."""
    assert shared is not None, "count runs in a worker started by join_pool"
    shared.start.wait()  # every worker is running before anyone counts: a race needs overlap
    time.sleep(sleep)
    if fault:
        misbehave(fault)
    for _ in range(increments):
        with shared.lock:
            # The Value's getter and its setter each take the Value's own lock, but separately:
            # another process can write between this read and this write, and its update is lost.
            # No yield point is needed for that (`yield_point` changes nothing here): processes
            # run at once, and the window is there.
            shared.counter.value = shared.counter.value + 1


def crunch(job: tuple[Kernel, int], sleep: float, fault: Fault | None) -> int | str:
    """cpu-bound's task (pure-Python arithmetic or hashlib), in parallel with the other processes."""
    time.sleep(sleep)
    if fault:
        misbehave(fault)
    return crunch_job(job)


def own_session() -> SyncClient:
    """This process's own HTTP client, made on its first request."""
    global session
    assert shared is not None and shared.target is not None, "a request runs in a worker started by join_pool"
    if session is None:
        session = sync_client(shared.library, shared.target)
    return session


def fetch(request_id: int, sleep: float, fault: Fault | None) -> Outcome:
    """http-get's task: GET one request with this process's own session, and verify the response."""
    if fault:
        misbehave(fault)
    return own_session().get(request_id)


def mix(item: tuple[int, int], sleep: float, fault: Fault | None) -> tuple[Outcome, int]:
    """mixed's task: GET one request, then compute on its body, in parallel with the other processes."""
    if fault:
        misbehave(fault)
    request_id, rounds = item
    outcome, data = own_session().receive(request_id)
    return outcome, work_on(data, rounds)


def call(pair: tuple[int, Any], sleep: float, fault: Fault | None) -> Any:
    """bench's task: the user's function on one item, in this process."""
    assert shared is not None and shared.function is not None, "call runs in a worker started by join_pool"
    if fault:
        misbehave(fault)
    return apply(shared.function, pair, kit)


def ready() -> None:
    """The warm-up task: returns once every worker has started and reached the start line."""
    assert shared is not None, "ready runs in a worker started by join_pool"
    shared.start.wait()


TASKS = Tasks(echo=echo, count=count, crunch=crunch, fetch=fetch, mix=mix, call=call)
KIT = {"queue": "multiprocessing.Queue", "value": "multiprocessing.Value", "sleep": "time.sleep",
       "data": "a multiprocessing.shared_memory block"}  # fmt: skip


def default_chunksize(tasks: int, workers: int) -> int:
    """`multiprocessing.Pool.map`'s default: about four chunks per worker."""
    return max(1, math.ceil(tasks / (workers * 4)))


class ProcessWorkers(Workers):
    """A started process pool, every worker past the initializer, and the run's shared objects."""

    def __init__(
        self,
        pool: ProcessPoolExecutor,
        task: Callable[..., Any],
        what: Shared,
        work: Work,
        block: shared_memory.SharedMemory | None = None,
    ):
        self.pool, self.task, self.what, self.work, self.block = pool, task, what, work, block
        self.pids = pool_pids(pool)  # as kill_workers reads them
        self.terminating = False  # option stop terminate: the deadline passed and the workers are killed
        self.dead = threading.Event()  # ... and every one is gone (`halt`), at `self.ended`
        self.ended = 0.0
        self.pending: list[Future[Any]] = []  # the map's futures, which `settle` waits for

    def map(self, items: Sequence[Any], record: bool) -> list[Any]:
        """`Executor.map` in chunks (`mapped`), recording each task with `timed` if asked; the
        run's payload copied into its shared block first, inside the clock (the one copy it costs)."""
        if self.block is not None and self.block.buf is not None and self.work.data is not None:
            self.block.buf[: len(self.work.data)] = self.work.data
        chunksize = self.work.chunksize or default_chunksize(len(items), self.work.workers)
        task = partial(timed, self.task) if record else self.task
        if self.work.deadline is None or self.what.stop is not None:
            return mapped(self.pool, task, items, timeout=self.work.timeout, chunksize=chunksize,
                          kept=self.pending)  # fmt: skip
        # Option stop terminate: a task at a time, so that each one killed at the deadline is a
        # `Stopped` and each finished before it keeps its output.
        until, began = time.monotonic() + self.work.timeout, now()
        futures: list[Future[Any] | None] = []
        for item in items:
            try:
                futures.append(self.pool.submit(call_chunk, task, [item]))
            except BrokenProcessPool:  # the deadline came first: the pool's workers are gone
                if not self.terminating:
                    raise
                futures.append(None)
        self.pending.extend(f for f in futures if f is not None)
        outputs: list[Any] = []
        for index, future in enumerate(futures):
            try:
                if future is None:
                    raise BrokenProcessPool("not submitted: the pool was terminated")
                outputs.extend(future.result(until - time.monotonic()))
            except BrokenProcessPool:
                if not self.terminating:
                    raise
                self.dead.wait(self.work.timeout)
                stopped = Stopped(self.ended, "terminated")
                # Recorded: a span from the map's start (its task's own start died with it) to
                # the kill, in a lane of its own.
                span = (f"terminated {index}", None, index, began, self.ended, None)
                outputs.append((stopped, span) if record else stopped)
        return outputs

    def halt(self) -> None:
        """Set the shared event (each task stops at its next check), or, with option stop
        terminate, SIGTERM every worker, and SIGKILL the ones still alive after a grace of
        `GRACE_S`: no `finally` runs in a task killed so."""
        if self.what.stop is not None:
            self.what.stop.set()
            return
        self.terminating = True
        workers = pool_processes(self.pool)
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.join(GRACE_S)
            if worker.is_alive():
                worker.kill()
                worker.join(GRACE_S)
        self.ended = now()
        self.dead.set()

    def settle(self, seconds: float) -> None:
        """With option stop event: wait for the tasks to see it (their `finally` runs) before
        the workers are killed. Terminated ones are gone already."""
        if self.what.stop is not None:
            wait(self.pending, timeout=seconds)

    def counter(self) -> int:
        """The shared `Value`'s final value."""
        value: int = self.what.counter.value
        return value

    def cpu_seconds(self) -> float:
        """The lab's CPU time and its workers'."""
        return cpu_seconds(self.pids)


class Processes(Model):
    """Runs the work on a `ProcessPoolExecutor` of `workers` processes."""

    name: ClassVar[str] = "processes"
    description: ClassVar[str] = (
        "a pool of OS processes; waits with time.sleep, shares a multiprocessing.Value, "
        "locks with multiprocessing.Lock or Manager().Lock()"
    )
    takes: ClassVar[tuple[Option, ...]] = (
        # The platform's default start method comes first: it is the default here too.
        Option(
            "start_method",
            tuple(dict.fromkeys([*multiprocessing.get_all_start_methods(), *START_METHODS])),
            "how worker processes start",
            fixed_for=NETWORK_TASKS,
            # What a start method changes is start-up and memory per worker, the same for every
            # demo: the quick report shows it on pool-map, the article's demo (the article scale
            # runs it everywhere, race rates included).
            shown_by=("echo",),
        ),
        Option(
            "lock", ("mp", "manager"), "the lock: multiprocessing.Lock, or Manager().Lock()", only_locked=True
        ),
        Option(
            "queue",
            ("pipe", "manager"),
            "the queue (pipeline): multiprocessing.Queue (a pipe), or Manager().Queue()",
            tasks=("call",),
            needs="queue",
        ),
        Option(
            "client",
            SYNC_CLIENTS,
            "the HTTP library (http-get, mixed)",
            tasks=NETWORK_TASKS,
            fixed_for=("mix",),
            # The same synchronous libraries as threads', one per process: the quick report
            # compares them in threads only.
            shown_by=(),
        ),
        Option(
            "stop",
            ("event", "terminate"),
            "how work stops at its deadline: event (each task checks a multiprocessing.Event between "
            "steps) or terminate (SIGTERM to every worker, SIGKILL after a grace: no cleanup runs)",
            tasks=("call",),
            needs="stop",
            recorded=True,
            every_row=True,  # stopping a wait and CPU work differ: the quick report runs both
        ),
    )
    max_workers: ClassVar[int] = 64
    children: ClassVar[bool] = True
    pickles: ClassVar[bool] = True
    parallel: ClassVar[bool] = True
    mismatch_means: ClassVar[str] = "the outputs depend on the process that computes them"
    rank: ClassVar[int] = 30
    colour: ClassVar[str] = "#2ca02c"
    approach: ClassVar[str | None] = "processes"
    # multiprocessing's default (`__main__`), and this module: a script's `__main__` imports its
    # tasks, so the forkserver has them and its children share those pages; the `lab` script
    # does not, and each worker imported this module after the fork (5 started in 0.27 s against
    # a hand-written script's 0.12 s, and held 13.7 MB each instead of 6.5: benchmarks/alone.py).
    forkserver_preload: ClassVar[tuple[str, ...]] = ("__main__", __name__)

    @classmethod
    def unavailable(cls, options: Mapping[str, str]) -> str | None:
        """A start method the platform lacks (fork and forkserver on Windows, say)."""
        method = options.get("start_method")
        if method is not None and method not in multiprocessing.get_all_start_methods():
            have = ", ".join(multiprocessing.get_all_start_methods())
            return f"start method {method!r} is not available on this platform (it has: {have})"
        return None

    @classmethod
    def lock_costs(cls) -> dict[str, float]:
        """A `multiprocessing.Lock`, and a `Manager().Lock()`: a socket round trip per call."""
        context = multiprocessing.get_context()
        costs = {"multiprocessing.Lock": median_us(lambda: per_round(context.Lock(), 20_000))}
        with context.Manager() as manager:
            lock = manager.Lock()
            costs["Manager().Lock()"] = median_us(lambda: per_round(lock, 300))
        return costs

    @contextmanager
    def start(self, work: Work) -> Iterator[ProcessWorkers]:
        """Start every process (one barrier round); kill the workers if anything goes wrong."""
        method = self.options["start_method"]
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            use_forkserver(self.forkserver_preload)
        with ExitStack() as stack:
            starting = stack.enter_context(ExitStack())
            starting.enter_context(sigint_deferred(method))
            lock: AbstractContextManager[Any] = nullcontext()
            manager = (work.locked or work.kit) and self.options["lock"] == "manager"
            queued = work.kit and self.options["queue"] == "manager"
            # One manager process serves both proxies when both are asked for.
            managed = stack.enter_context(context.Manager()) if manager or queued else None
            if work.locked or work.kit:
                lock = managed.Lock() if managed is not None and manager else context.Lock()
            queue: Any = None
            if work.kit:
                queue = managed.Queue() if managed is not None and queued else context.Queue()
                if not queued:
                    stack.callback(queue.close)
            barrier = context.Barrier(work.workers, timeout=work.timeout)
            block = stack.enter_context(data_block(work.data))  # unlinked last, after the pool stops
            cooperative = work.deadline is not None and self.options["stop"] == "event"
            what = Shared(
                context.Value("i", 0), lock, barrier, work.target, self.options["client"], work.function,
                queue, work.timeout, "Manager().Lock()" if manager else "multiprocessing.Lock",
                "Manager().Queue()" if queued else "multiprocessing.Queue",
                (block.name, len(work.data)) if block is not None and work.data is not None else None,
                context.Event() if cooperative else None,
            )  # fmt: skip
            if work.target:
                load(what.library)  # once in the parent: forked workers share its pages
            pool = ProcessPoolExecutor(
                work.workers, mp_context=context, initializer=join_pool, initargs=(what,)
            )
            stack.callback(pool.shutdown, cancel_futures=True)
            started: list[BaseProcess] = []  # after the barrier round: kill these too (kill_workers)
            stack.push(lambda kind, exc, tb: kill_workers(pool, started) if kind else None)
            task = partial(TASKS[work.task], sleep=work.sleep, fault=work.fault)
            # The executor may start its processes lazily: one barrier round makes sure they all
            # exist and have run the initializer before the clock starts.
            mapped(pool, partial(invoke, ready), range(work.workers), timeout=work.timeout)
            started.extend(pool_processes(pool))
            starting.close()  # every worker is up: a Ctrl-C held back meanwhile arrives now
            yield ProcessWorkers(pool, task, what, work, block)


def mapped(
    pool: ProcessPoolExecutor,
    function: Callable[[Any], Any],
    items: Iterable[Any],
    *,
    timeout: float,
    chunksize: int = 1,
    kept: list[Future[Any]] | None = None,
) -> list[Any]:
    """`list(pool.map(function, items, ...))`, in chunks, except that it cancels nothing on the way out.

    When `Executor.map` is interrupted (Ctrl-C, a timeout, a task's exception) it cancels the
    futures it has not reached. The lab then kills the workers, and CPython 3.11's pool thread,
    marking every pending future broken, raises `InvalidStateError` on a cancelled one and prints
    a thread traceback (gh-107219, fixed in 3.12). Left uncancelled, each future simply fails with
    `BrokenProcessPool`, and nobody waits for it. `kept`: a list the futures are added to.
    """
    batch = list(items)
    deadline = time.monotonic() + timeout
    futures = [
        pool.submit(call_chunk, function, batch[start : start + chunksize])
        for start in range(0, len(batch), chunksize)
    ]
    if kept is not None:
        kept.extend(futures)
    return [output for future in futures for output in future.result(deadline - time.monotonic())]


def call_chunk(function: Callable[[Any], Any], chunk: list[Any]) -> list[Any]:
    """One chunk, in a worker: what `ProcessPoolExecutor.map` sends as one task."""
    return [function(item) for item in chunk]


def invoke(function: Any, _: object) -> Any:
    """Call `function()`, ignoring the item `map` passes (a module-level helper: it must pickle)."""
    return function()
