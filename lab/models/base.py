"""The contract every model implements, and the small pieces the models share.

A *model* is a way to run work concurrently: coroutines, threads or processes. A demo describes
its work as a `Work` (which task, over which items, with how many workers, sharing which
counter); a model runs it and hands back a `Measured`: the task outputs, the final counter and two
timings taken with `time.perf_counter`:

    elapsed_s   the map alone, with every worker already started (what the article timed)
    startup_s   everything else the model needed: starting the pool or loop, and shutting it down

With `Work.record`, a model also hands back one `Span` per task: who ran it, when, and (threads
and processes) its CPU time, on the same clock in every process (`now`, `time.perf_counter`,
which is CLOCK_MONOTONIC, system-wide, on Linux and macOS). Recording wraps each task in `timed`
(or the asyncio model's `timed`); with it off, the tasks run exactly as before.

Each model module defines the same task functions under the same names (`echo`, `count`,
`crunch`, `fetch`), so the three modules can be read side by side: they differ only in how they
wait, what their counter, lock and HTTP client are, and how these reach the workers.
"""

from __future__ import annotations

import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from multiprocessing import forkserver
from typing import Any, ClassVar, Literal

import psutil

from lab.clients import Outcome, Target
from lab.errors import UnknownName

TaskName = Literal["echo", "count", "crunch", "fetch", "call"]
Fault = Literal["raise", "exit", "hang"]
FAULTS: tuple[Fault, ...] = ("raise", "exit", "hang")
# What the counter tasks do between reading the counter and writing it back: `sleep0` yields
# (`sleep(0)`, or `await asyncio.sleep(0)`), as real I/O there would; `none` is the bare
# read-modify-write, where only the interpreter's own switching can come between. It matters for
# coroutines and threads, which take turns; processes and dask workers run at once, and their
# read and write (shared memory, or the scheduler) race without a yield point, with either.
YieldPoint = Literal["sleep0", "none"]
YIELD_POINTS: tuple[YieldPoint, ...] = ("sleep0", "none")


@dataclass(frozen=True)
class Work:
    """One demo's work, as a model runs it (built by a demo from validated parameters).

    `task` is applied to every item of `items` by `workers` workers, in order:
    `echo` waits `sleep` seconds and returns its item (pool-map); `count` adds 1 to the shared
    counter `item` times, after waiting `sleep` (the counter demos, one item per worker);
    `crunch` does `item` rounds of pure-Python arithmetic (cpu-bound); `fetch` GETs request
    `item` from `target` with the model's HTTP client and returns its `Outcome` (http-get);
    `call` applies the user's `function` to the item of each `(index, item)` pair (`lab bench`).
    `yield_point` says what `count` does between its read and its write (`YIELD_POINTS`).
    """

    task: TaskName
    items: tuple[Any, ...]
    workers: int
    sleep: float = 0.0
    locked: bool = False
    timeout: float = 60.0
    chunksize: int | None = None
    fault: Fault | None = None
    target: Target | None = None
    record: bool = False
    function: Callable[..., Any] | None = None
    yield_point: YieldPoint = "sleep0"


@dataclass(frozen=True)
class Measured:
    """What a model hands back: outputs in input order, the final counter, and two timings.

    For `fetch`, the counter is the number of responses verified. With `Work.record`, `spans`
    holds one `Span` per task and `begin` the clock's reading when the timed region began.
    `cpu_s` is the CPU time (user + system) the lab process and its worker processes used during
    the timed region: over `elapsed_s`, the number of cores kept busy.
    """

    outputs: list[Any]
    counter: int | None
    elapsed_s: float
    startup_s: float
    spans: list[Span] | None = None
    begin: float = 0.0
    cpu_s: float | None = None


# One task as it ran: (worker's real id, lane or None, item index, start, end, CPU seconds or None).
# The lane is the asyncio slot; threads and processes get theirs from `lab.timeline.lanes`.
Span = tuple[str, int | None, int, float, float, float | None]


def worker_id() -> str:
    """Who runs the calling task: `process PID` in a worker's main thread, else `thread TID`."""
    if threading.current_thread() is threading.main_thread():
        return f"process {os.getpid()}"
    return f"thread {threading.get_native_id()}"


def timed(task: Any, pair: tuple[int, Any]) -> tuple[Any, Span]:
    """Run `task(item)` for `pair = (index, item)` and say who ran it, when, and its CPU time
    (`time.thread_time`: this thread's alone). Module-level, so that processes can pickle it."""
    index, item = pair
    worker, cpu, start = worker_id(), time.thread_time(), now()
    output = task(item)
    end = now()
    return output, (worker, None, index, start, end, time.thread_time() - cpu)


def split(pairs: list[tuple[Any, Span]]) -> tuple[list[Any], list[Span]]:
    """`timed`'s results as the outputs, in order, and the spans."""
    return [output for output, _ in pairs], [span for _, span in pairs]


class Counter:
    """A plain Python object holding a number: it has no lock of its own."""

    def __init__(self) -> None:
        self.value = 0


class Model(ABC):
    """A way to run `Work` concurrently.

    Subclasses set `name`, `description` and `option_choices` (option name to its valid values,
    the default first; `free_options` lets an option take values of the user's own too, checked;
    `task_options` ties an option to the one task it applies to, like the HTTP `client` to
    `fetch`), and implement `run`. `run` must start `work.workers` workers before it
    starts the clock, return outputs in input order, raise the task's own exception if a task
    fails, raise `TimeoutError` when `work.timeout` passes, and leave no worker behind in any
    case (including KeyboardInterrupt).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    option_choices: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    # Options that also take a value of the user's own beyond their named choices (dask's
    # `scheduler`: `local` or an address): the option to a function that checks such a value and
    # returns it, or raises InvalidParameter naming it and what would do.
    free_options: ClassVar[Mapping[str, Callable[[str], str]]] = {}
    task_options: ClassVar[Mapping[str, TaskName]] = {}
    max_workers: ClassVar[int]
    # Whether the work runs in child processes, whose memory must be sampled while it runs; the
    # lab process's own peak needs no sampling (`lab.memory`).
    children: ClassVar[bool] = False

    def __init__(self, **options: str) -> None:
        self.options = {**self.default_options(), **options}

    @classmethod
    def default_options(cls) -> dict[str, str]:
        """The options used when none is given: the first valid value of each."""
        return {key: values[0] for key, values in cls.option_choices.items()}

    @classmethod
    def choices_for(cls, task: TaskName | None) -> dict[str, tuple[str, ...]]:
        """The options that apply to `task`: all of them but those tied to another task."""
        return {k: v for k, v in cls.option_choices.items() if cls.task_options.get(k, task) == task}

    @classmethod
    def check_option(cls, key: str, value: str) -> str:
        """`value` for option `key`: one of its choices, or a value its `free_options` check
        accepts; otherwise UnknownName (or the check's InvalidParameter) naming what would do."""
        choices = cls.option_choices[key]
        if value in choices:
            return value
        if key in cls.free_options:
            return cls.free_options[key](value)
        raise UnknownName(key.replace("_", " "), value, choices)

    @classmethod
    def unavailable(cls, options: Mapping[str, str]) -> str | None:
        """Why this variant cannot run on this machine (with how to fix it), or None if it can."""
        return None

    @abstractmethod
    def run(self, work: Work) -> Measured:
        """Run `work` with `work.workers` workers and measure it."""


class InjectedFault(RuntimeError):
    """The exception a task raises when asked to with the fault `raise`."""


def misbehave(fault: Fault | None) -> None:
    """Make the calling task fail in the way asked: raise, kill its process, or hang forever."""
    if fault == "raise":
        raise InjectedFault("injected fault: the task raised")
    if fault == "exit":
        os._exit(70)  # the worker process dies without a word, as a crash or OOM kill would
    if fault == "hang":
        threading.Event().wait()  # never set: a hang that nothing inside the task ends


def crunch_rounds(rounds: int) -> int:
    """Pure-Python arithmetic that holds the GIL all along: `rounds` multiply-adds modulo a prime."""
    x = 1
    for i in range(rounds):
        x = (x * 31 + i) % 1_000_003
    return x


class CallFailed(RuntimeError):
    """The user's function raised on an item (`call`): the message names the item's index."""


def apply(function: Callable[..., Any], pair: tuple[int, Any]) -> Any:
    """`call`'s body in threads and processes: `function(item)`, a failure naming the item."""
    index, item = pair
    try:
        return function(item)
    except Exception as exc:
        raise failed(index, item, exc) from exc


def failed(index: int, item: Any, exc: BaseException) -> CallFailed:
    """The exception `call` raises when the function raised on item `index` (picklable: one str)."""
    return CallFailed(f"item {index} ({shorten(item)}): {type(exc).__name__}: {exc}")


def shorten(item: Any, width: int = 40) -> str:
    """An item's repr, cut to `width` characters."""
    text = repr(item)
    return text if len(text) <= width else text[: width - 3] + "..."


def cpu_seconds(pids: Iterable[int] = ()) -> float:
    """CPU seconds (user + system) used so far by this process and the processes `pids`.

    A worker that has already exited counts for nothing: read it before the pool shuts down."""
    total = time.process_time()
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def verified(outputs: list[Outcome]) -> int:
    """How many `fetch` outcomes are verified responses: the http-get demo's counter."""
    return sum(not what for what, _ in outputs)


def use_forkserver(preload: list[str]) -> None:
    """Make the next forkserver child come from a forkserver that imported `preload` first.

    A process has one forkserver, shared by every start method user: the processes model's
    workers want it bare (`__main__` only, so that their memory is theirs), a Dask cluster's want
    `distributed` in it (without it each worker imports it itself: 1.0 s instead of 0.26 s to
    start five). A running forkserver with other modules is stopped (it serves no pool: the lab
    runs one model at a time) and the next start makes a new one. `_stop` and `_preload_modules`
    are private (3.11 to 3.13 have both); `set_forkserver_preload` is not.
    """
    server = getattr(forkserver, "_forkserver", None)
    if server is None or getattr(server, "_preload_modules", preload) == preload:
        return
    if getattr(server, "_forkserver_pid", None) is not None and hasattr(server, "_stop"):
        server._stop()
    forkserver.set_forkserver_preload(preload)


def now() -> float:
    """The one clock the lab times with."""
    return time.perf_counter()
