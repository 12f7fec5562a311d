"""threads: a pool of OS threads (`concurrent.futures.ThreadPoolExecutor`).

One cook switching between orders. The GIL lets one thread run Python at a time, but a thread
that waits (`time.sleep`, I/O) lets go of it, so waiting tasks overlap while computing ones take
turns. Every thread sees the same objects: the counter is a plain object, handed to each task,
and the lock is a `threading.Lock`.

A thread cannot be killed. When a task hangs past the timeout, or Ctrl-C arrives, the pool is
shut down without waiting and its threads are abandoned; `stuck_threads()` counts them, and the
command line ends the process with `os._exit` when any is left, so the lab still exits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from lab.models.base import Counter, Fault, Measured, Model, Work, crunch_rounds, misbehave, now

THREAD_NAME = "lab-thread"


@dataclass(frozen=True)
class Shared:
    """What every worker of one run shares: the counter, the lock, and the start line."""

    counter: Counter
    lock: AbstractContextManager[Any]
    start: threading.Barrier


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
            # (0 lost updates in 50 trials of 5 x 10,000): sleep(0) lets go of the GIL here, as
            # real I/O between the two would, so the race the article describes can happen.
            time.sleep(0)
            shared.counter.value = value + 1


def crunch(rounds: int, sleep: float, fault: Fault | None, shared: Shared) -> int:
    """cpu-bound's task: pure-Python arithmetic; the GIL lets one thread at a time do it."""
    time.sleep(sleep)
    if fault:
        misbehave(fault)
    return crunch_rounds(rounds)


TASKS: dict[str, Callable[..., Any]] = {"echo": echo, "count": count, "crunch": crunch}


class Threads(Model):
    """Runs the work on a `ThreadPoolExecutor` of `workers` threads."""

    name: ClassVar[str] = "threads"
    description: ClassVar[str] = (
        "a pool of OS threads; waits with time.sleep, shares a plain object, locks with threading.Lock"
    )
    max_workers: ClassVar[int] = 1024

    def run(self, work: Work) -> Measured:
        """Start every thread, then time the map alone."""
        started = now()
        lock = threading.Lock() if work.locked else nullcontext()
        shared = Shared(Counter(), lock, threading.Barrier(work.workers, timeout=work.timeout))
        task = partial(TASKS[work.task], sleep=work.sleep, fault=work.fault, shared=shared)
        pool = ThreadPoolExecutor(work.workers, thread_name_prefix=THREAD_NAME)
        try:
            # The executor starts a thread per submit until it has `workers`: one barrier round
            # makes sure they all exist before the clock starts.
            list(pool.map(lambda _: shared.start.wait(), range(work.workers)))
            begin = now()
            outputs = list(pool.map(task, work.items, timeout=work.timeout))
            elapsed = now() - begin
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)  # a hung thread cannot be joined
            raise
        pool.shutdown()
        return Measured(outputs, shared.counter.value, elapsed, now() - started - elapsed)


def stuck_threads() -> int:
    """How many worker threads of abandoned pools are still running (hung or still sleeping)."""
    return sum(t.name.startswith(THREAD_NAME) for t in threading.enumerate())
