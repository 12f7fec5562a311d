"""threads: a pool of OS threads (`concurrent.futures.ThreadPoolExecutor`).

One cook switching between orders. The GIL lets one thread run Python at a time, but a thread
that waits (`time.sleep`, I/O) lets go of it, so waiting tasks overlap while computing ones take
turns. Every thread sees the same objects: the counter is a plain object, handed to each task,
and the lock is a `threading.Lock`. Each thread has its own HTTP session (`requests.Session` or
`httpx.Client`, option `client`), made on its first request: Real Python's thread-local session.

A thread cannot be killed. When a task hangs past the timeout, or Ctrl-C arrives, the pool is
shut down without waiting and its threads are abandoned; `stuck_threads()` counts them, and the
command line ends the process with `os._exit` when any is left, so the lab still exits.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar

from lab.http.clients import SYNC_CLIENTS, Outcome, SyncClient, Target, load, sync_client
from lab.measure.locks import median_us, per_round
from lab.models.base import (
    NETWORK_TASKS,
    THREAD_NAME,
    Fault,
    Kernel,
    Kit,
    Model,
    Option,
    Tasks,
    Work,
    Workers,
)
from lab.models.tasks import Counter, apply, crunch_job, misbehave, timed, work_on


@dataclass(frozen=True)
class Shared:
    """What every worker of one run shares: the counter, the lock, and the start line."""

    counter: Counter
    lock: AbstractContextManager[Any]
    start: threading.Barrier
    target: Target | None = None
    library: str = SYNC_CLIENTS[0]
    function: Callable[..., Any] | None = None
    pause: bool = True  # yield_point sleep0: a sleep(0) between the counter's read and its write
    kit: Kit | None = None  # the demo's function takes it (`Work.kit`)
    local: threading.local = field(default_factory=threading.local)
    opened: list[SyncClient] = field(default_factory=list)

    def session(self) -> SyncClient:
        """This thread's own HTTP client, made on its first request."""
        client: SyncClient | None = getattr(self.local, "client", None)
        if client is None:
            assert self.target is not None, "fetch runs with a target"
            client = self.local.client = sync_client(self.library, self.target)
            self.opened.append(client)  # list.append is atomic: the run closes them all at its end
        return client


def echo(item: str, sleep: float, fault: Fault | None, shared: Shared) -> str:
    """pool-map's task: wait `sleep` seconds, then return the item."""
    time.sleep(sleep)
    if fault:
        misbehave(fault)
    return item


def count(increments: int, sleep: float, fault: Fault | None, shared: Shared) -> None:
    """The counter demos' task: `increments` times, read the counter, then write it plus one."""
    shared.start.wait()  # every worker is running before anyone counts: a race needs overlap
    time.sleep(sleep)
    if fault:
        misbehave(fault)
    for _ in range(increments):
        with shared.lock:
            value = shared.counter.value
            # CPython threads practically never switch between a read and a write on their own
            # (yield_point none: see docs/races.md): sleep(0) lets go of the GIL here, as real I/O
            # between the two would, so the race the article describes can happen.
            if shared.pause:
                time.sleep(0)
            shared.counter.value = value + 1


def crunch(job: tuple[Kernel, int], sleep: float, fault: Fault | None, shared: Shared) -> int | str:
    """cpu-bound's task: pure Python holds the GIL (one thread at a time); hashlib lets go of it."""
    time.sleep(sleep)
    if fault:
        misbehave(fault)
    return crunch_job(job)


def fetch(request_id: int, sleep: float, fault: Fault | None, shared: Shared) -> Outcome:
    """http-get's task: GET one request with this thread's own session, and verify the response."""
    if fault:
        misbehave(fault)
    return shared.session().get(request_id)


def mix(item: tuple[int, int], sleep: float, fault: Fault | None, shared: Shared) -> tuple[Outcome, int]:
    """mixed's task: GET one request, then compute on its body, holding the GIL (other threads wait)."""
    if fault:
        misbehave(fault)
    request_id, rounds = item
    outcome, data = shared.session().receive(request_id)
    return outcome, work_on(data, rounds)


def call(pair: tuple[int, Any], sleep: float, fault: Fault | None, shared: Shared) -> Any:
    """bench's task: the user's function on one item, in this thread."""
    assert shared.function is not None, "call runs with a function"
    if fault:
        misbehave(fault)
    return apply(shared.function, pair, shared.kit)


class Closed(Exception):
    """A `get` on the run's queue after the run ended (failed, timed out, interrupted or stopped)."""


class Channel(queue.Queue[Any]):
    """The threads' kit queue: a `queue.Queue` whose waiting `get`s the run can end (`close`).

    A consumer then waits with a plain `get`, no deadline: a timed wait costs a timed lock acquire
    per message (the lab's pipeline 1.09x a hand-written one's on one core, 1.00x without), and a
    thread blocked without end would outlive its run. Python 3.13's `Queue.shutdown` does this;
    3.11 and 3.12 have none."""

    def close(self) -> None:
        """Make every `get`, waiting or to come, raise `Closed` (ahead of any message left)."""
        with self.mutex:
            self.queue.appendleft(CLOSED)
            self.not_empty.notify_all()

    def _get(self) -> Any:
        item = self.queue.popleft()
        if item is CLOSED:
            self.queue.appendleft(CLOSED)  # it stays first: the next `get` raises too
            raise Closed("the run ended: no more messages on the queue.Queue")
        return item


CLOSED = object()  # the marker `Channel.close` puts first on the queue

TASKS = Tasks(echo=echo, count=count, crunch=crunch, fetch=fetch, mix=mix, call=call)
KIT = {"queue": "queue.Queue", "lock": "threading.Lock", "value": "a plain object", "sleep": "time.sleep",
       "data": "the object itself"}  # fmt: skip
CLIENT = Option(
    "client", SYNC_CLIENTS, "the HTTP library (http-get, mixed)", tasks=NETWORK_TASKS, fixed_for=("mix",)
)
# A thread cannot be stopped from outside: it stops when its task checks a `threading.Event`
# (cooperative, the right way), or not at all (the bare pool: `shutdown(cancel_futures=True)`
# drops only the tasks not yet started, and each running one is waited out).
STOP = Option(
    "stop",
    ("event", "none"),
    "how work stops at its deadline: event (each task checks a threading.Event between steps) or "
    "none (the bare pool: shutdown(cancel_futures=True), which cannot stop a running task)",
    tasks=("call",),
    needs="stop",
    recorded=True,
    every_row=True,  # stopping a wait and CPU work differ: the quick report runs both
)


class ThreadWorkers(Workers):
    """A started thread pool and the task bound to the run's shared objects."""

    def __init__(self, pool: ThreadPoolExecutor, task: Callable[..., Any], shared: Shared, work: Work):
        self.pool, self.task, self.shared, self.timeout = pool, task, shared, work.timeout
        self.pending: list[Future[Any]] = []  # the map's futures, which `settle` waits for

    def map(self, items: Sequence[Any], record: bool) -> list[Any]:
        """`Executor.map` (a future per item, all within the timeout), recording each task with
        `timed` if asked."""
        task = partial(timed, self.task) if record else self.task
        until = time.monotonic() + self.timeout
        self.pending = [self.pool.submit(task, item) for item in items]
        return [future.result(until - time.monotonic()) for future in self.pending]

    def settle(self, seconds: float) -> None:
        """With option stop event: wait for the tasks to see it (they end at their next check,
        their `finally` run). The bare pool's running tasks would not end: no wait."""
        if self.shared.kit is not None and self.shared.kit.stop is not None:
            wait(self.pending, timeout=seconds)

    def counter(self) -> int:
        """The plain object's final value."""
        return self.shared.counter.value

    def halt(self) -> None:
        """Set the kit's event (the tasks stop at their next check) and close its queue (a task
        waiting on it raises `Closed`), or, with option stop none, what the bare pool offers: drop
        the tasks not yet started."""
        kit = self.shared.kit
        if kit is not None and kit.stop is not None:
            kit.stop.set()
            kit.queue.close()
        else:
            self.pool.shutdown(wait=False, cancel_futures=True)


class Threads(Model):
    """Runs the work on a `ThreadPoolExecutor` of `workers` threads."""

    name: ClassVar[str] = "threads"
    description: ClassVar[str] = (
        "a pool of OS threads; waits with time.sleep, shares a plain object, locks with threading.Lock"
    )
    takes: ClassVar[tuple[Option, ...]] = (CLIENT, STOP)
    # 10,000 threads start here in 3.3 s and hold 16 KB of memory each; more is possible (the
    # kernel allows 96,365 per user) but a pool that takes longer to start than to work teaches little.
    max_workers: ClassVar[int] = 10_000
    mismatch_means: ClassVar[str] = "the function is not thread-safe"
    rank: ClassVar[int] = 20
    colour: ClassVar[str] = "#ff7f0e"
    approach: ClassVar[str | None] = "threads"

    @classmethod
    def lock_costs(cls) -> dict[str, float]:
        """A `threading.Lock`."""
        return {"threading.Lock": median_us(lambda: per_round(threading.Lock(), 20_000))}

    @contextmanager
    def start(self, work: Work) -> Iterator[ThreadWorkers]:
        """Start every thread (one barrier round), and shut the pool down at the end."""
        lock: AbstractContextManager[Any] = threading.Lock() if work.locked else nullcontext()
        barrier = threading.Barrier(work.workers, timeout=work.timeout)
        pause = work.yield_point == "sleep0"
        counter = Counter()
        kit = None
        if work.kit:
            data = memoryview(work.data) if work.data is not None else None  # shared, no copy
            cooperative = work.deadline is not None and self.options["stop"] == "event"
            stop = threading.Event() if cooperative else None
            # No timeout on `get`: the run closes the queue when it ends otherwise than by its end.
            kit = Kit(Channel(), threading.Lock(), counter, time.sleep, None, KIT, data, stop)
        shared = Shared(
            counter, lock, barrier, work.target, self.options["client"], work.function, pause, kit
        )
        if work.target:
            load(shared.library)
        task = partial(TASKS[work.task], sleep=work.sleep, fault=work.fault, shared=shared)
        pool = ThreadPoolExecutor(work.workers, thread_name_prefix=THREAD_NAME)
        try:
            # The executor starts a thread per submit until it has `workers`: one barrier round
            # makes sure they all exist before the clock starts.
            list(pool.map(lambda _: shared.start.wait(), range(work.workers)))
            yield ThreadWorkers(pool, task, shared, work)
        except BaseException:
            if kit is not None:
                kit.queue.close()  # a task waiting on it ends
            pool.shutdown(wait=False, cancel_futures=True)  # a hung thread cannot be joined
            raise
        pool.shutdown()
        for client in shared.opened:
            client.close()


def stuck_threads() -> int:
    """How many worker threads of abandoned pools are still running (hung or still sleeping)."""
    return sum(t.name.startswith(THREAD_NAME) for t in threading.enumerate())
