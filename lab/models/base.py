"""The contract every model implements: start workers, map work over them, stop them.

A *model* is a way to run work concurrently: coroutines, threads, processes, a cluster, or a
third party's (a plug-in, registered by the entry point group `lab.models`, see
`lab.models.registry`). A demo describes its work as a `Work` (which task, over which items, with
how many workers, sharing which counter); a model runs it and hands back a `Measured`: the task
outputs, the final counter and two timings taken with `time.perf_counter`:

    elapsed_s   the map alone, with every worker already started (what the article timed)
    startup_s   everything else the model needed: starting the pool or loop, and shutting it down

The timed region is written once, in `Model.run`, as `concurrent.futures.Executor.map` is
written once over each executor's `submit`:

    Model.run(work)
      └─ with model.start(work) as workers:      the model starts its workers, all past a start line
           clock and CPU time start               (the base)
           workers.map(items, record)             the model maps the task over the items
           clock and CPU time stop, spans split   (the base)
           workers.counter()                      the shared counter's final value
         (leaving the block stops the workers, or kills them after a failure)

With `Work.record`, the items are `(index, item)` pairs and each output comes with a `Span`: who
ran the task, when, and (threads and processes) its CPU time, on the same clock in every
process (`now`, `time.perf_counter`: CLOCK_MONOTONIC, system-wide, on Linux and macOS).

What differs per model is declared on the model class (`Model`'s class variables): its options
(`takes`), worker limit, whether it runs coroutine functions, whether its work must pickle,
whether it has child processes, its locks and their cost, its chart colour, and what it runs
differently at a report's scale. The lab reads those declarations and never a model's name.
"""

from __future__ import annotations

import gc
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from lab.errors import UnknownName
from lab.http.clients import Target
from lab.measure import heartbeat
from lab.measure.heartbeat import Beats

TaskName = Literal["echo", "count", "crunch", "fetch", "mix", "call"]
# The tasks that talk to the lab's HTTP server (or `--server`): the run needs one, and a client.
NETWORK_TASKS: tuple[TaskName, ...] = ("fetch", "mix")
Fault = Literal["raise", "exit", "hang"]
FAULTS: tuple[Fault, ...] = ("raise", "exit", "hang")
# What the counter tasks do between reading the counter and writing it back: `sleep0` yields
# (`sleep(0)`, or `await asyncio.sleep(0)`), as real I/O there would; `none` is the bare
# read-modify-write, where only the interpreter's own switching can come between. It matters for
# coroutines and threads, which take turns; processes and dask workers run at once, and their
# read and write (shared memory, or the scheduler) race without a yield point, with either.
# The name every worker thread the lab starts begins with: a thread cannot be killed, and the
# command line counts the ones still running (`lab.models.threads.stuck_threads`) to exit anyway.
THREAD_NAME = "lab-thread"
YieldPoint = Literal["sleep0", "none"]
YIELD_POINTS: tuple[YieldPoint, ...] = ("sleep0", "none")
# What a cpu-bound task computes: pure-Python arithmetic, which holds the GIL all along, or
# SHA-256 in C (hashlib), which lets go of it while it hashes.
Kernel = Literal["python", "hashlib"]
KERNELS: tuple[Kernel, ...] = ("python", "hashlib")


@dataclass(frozen=True)
class Work:
    """One demo's work, as a model runs it (built by a demo from validated parameters).

    `task` is applied to every item of `items` by `workers` workers, in order:
    `echo` waits `sleep` seconds and returns its item (pool-map); `count` adds 1 to the shared
    counter `item` times, after waiting `sleep` (the counter demos, one item per worker);
    `crunch` computes a `(kernel, rounds)` item (cpu-bound: `lab.models.tasks.crunch_job`);
    `fetch` GETs request `item` from `target` with the model's HTTP client and returns its
    `Outcome` (http-get);
    `mix` GETs request `id` of an `(id, rounds)` item, then does `rounds` of pure-Python work on
    the verified body (`lab.models.tasks.work_on`) and returns `(Outcome, value)` (mixed);
    `call` applies the user's `function` to the item of each `(index, item)` pair (`lab bench`).
    `yield_point` says what `count` does between its read and its write (`YIELD_POINTS`).
    With `heartbeat`, the caller's responsiveness is measured while the map runs (`Workers.watch`).
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
    heartbeat: bool = False
    kit: bool = False  # `function` takes the model's own primitives too: `function(item, kit)`
    # The run's one large payload, placed once where every worker reads it (`Kit.data`), by the
    # model's own means; None: the work has none (its items carry whatever it needs).
    data: bytes | None = None
    # Seconds after the map begins at which the model stops the work by its own means
    # (`Workers.halt`, called then from a timer thread by `Model.run`); None: it runs to its end.
    deadline: float | None = None


@dataclass
class Kit:
    """A model's own primitives, as a demo's function gets them in its worker (`Work.kit`):
    the one interface through which a demo uses what each model shares between its workers.

        kit.put(message)      put a message on the run's one queue (FIFO, unbounded)
        kit.get()             take the next one, waiting until one comes or the run ends (its
                              timeout, a failure, Ctrl-C, its deadline)
        with kit.lock: ...    the model's lock
        kit.value             the shared integer: read it, or assign to it (not atomic: a race)
        kit.sleep(seconds)    the model's own wait
        kit.data              the run's one payload (`Work.data`), as a read-only buffer
        kit.stopped()         whether the model asked the work to stop (`Work.deadline`): a task
                              that checks it between steps stops cooperatively
        kit.names             what each of them is in this model, in words

    Every model makes one kit per run before the clock (the queue, lock and value shared by all
    its workers) and hands it to each task: threads and asyncio share the objects themselves,
    processes receive them as each worker starts, interpreters through `prepare_main`, dask
    workers look them up on the scheduler by name. `AsyncKit` is asyncio's: `await kit.put(m)`,
    `await kit.get()`, `async with kit.lock`, `await kit.sleep(s)`; a demo with a kit gives a
    coroutine twin of its function for it (`lab.demos.Demo.async_function`).

    `data` is placed once per run, each model by its cheapest means, and named in `names["data"]`:
    threads and asyncio hand over the object itself, processes a `shared_memory` block (made
    before the clock, filled inside it, unlinked after the run whatever happened), interpreters a
    `memoryview` through `prepare_main`, dask scatters it to every worker inside the clock."""

    queue: Any
    lock: Any
    shared: Any  # what holds the shared integer, as `.value`
    sleep: Callable[[float], Any]
    # How long `get` waits; None: without end, for a model that kills its workers when the run's
    # timeout passes (processes), where a wait with a deadline costs a poll per message (1.5x), or
    # that wakes them by closing its queue (threads: a timed wait costs 1.09x on one core).
    timeout: float | None
    names: Mapping[str, str]
    data: Any = None  # the run's payload (`Work.data`): a buffer, or None
    # The model's stop signal (`threading.Event`, `multiprocessing.Event`: `.is_set()`), set at
    # the deadline; None: the model stops its work otherwise, or cannot (`kit.stopped()` is False).
    stop: Any = None

    def __post_init__(self) -> None:
        # The queue's own bound `put`, in place of the method below: a message then costs the
        # queue's call alone, no frame of the kit's (a pipeline's 20,000 puts: measurably less,
        # benchmarks/alone.py).
        self.put = self.queue.put  # type: ignore[method-assign]
        if self.timeout is None:  # a model that stops its blocked workers itself: a plain wait
            self.get = self.queue.get  # type: ignore[method-assign]

    def put(self, message: Any) -> None:
        """Put `message` on the run's queue."""
        self.queue.put(message)

    def get(self) -> Any:
        """The next message on the run's queue; TimeoutError after the run's timeout."""
        # A message already waiting is taken without arming a deadline (a timed wait costs a
        # timed lock acquire per message even when one waits); a `distributed.Queue` has no
        # `get_nowait`.
        if hasattr(self.queue, "get_nowait"):
            try:
                return self.queue.get_nowait()
            except queue.Empty:
                pass
        try:
            return self.queue.get(timeout=self.timeout)
        except queue.Empty:  # queue.Queue's, multiprocessing's and the interpreters' (a subclass)
            raise TimeoutError(f"no message on the {self.names['queue']} for {self.timeout:g} s") from None

    def stopped(self) -> bool:
        """Whether the model has asked the work to stop (its deadline passed)."""
        return self.stop is not None and bool(self.stop.is_set())

    @property
    def value(self) -> int:
        """The shared integer's value (a read: in dask and processes, a round trip or a shared page)."""
        number: int = self.shared.value
        return number

    @value.setter
    def value(self, number: int) -> None:
        self.shared.value = number


class AsyncKit(Kit):
    """asyncio's kit: the same primitives, awaited (`Kit`)."""

    def __post_init__(self) -> None:
        # The queue's own coroutine functions, bound once (as `Kit.put`): each await is the
        # queue's alone (the run's own timeout bounds a wait, as every task's).
        self.put = self.queue.put  # type: ignore[method-assign]
        self.get = self.queue.get  # type: ignore[method-assign]

    async def put(self, message: Any) -> None:  # type: ignore[override]
        """Put `message` on the run's `asyncio.Queue`."""
        await self.queue.put(message)

    async def get(self) -> Any:
        """The next message (the run's own timeout bounds the wait, as every task's)."""
        return await self.queue.get()


# One task as it ran: (worker's real id, lane or None, item index, start, end, CPU seconds or None).
# The lane is the asyncio slot; threads and processes get theirs from `lab.runner.timeline_records`.
Span = tuple[str, int | None, int, float, float, float | None]


@dataclass(frozen=True)
class Stopped:
    """The output of a task its model stopped before it returned (`Work.deadline`): when the
    model saw it end (`now()`), and how ("cancelled": asyncio's `Task.cancel`; "terminated":
    its process killed)."""

    at: float
    how: str


@dataclass(frozen=True)
class Halt:
    """What `Model.run` noted when it stopped the work at `Work.deadline`: when (`now()`) and
    the CPU seconds the run had used by then (so that what ran past the deadline is the rest)."""

    at: float
    cpu_s: float


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
    # `lab.measure.heartbeat.Beats.summary`, and in a recorded run `heartbeat_series` (`Beats.series`)
    heartbeat: dict[str, Any] | None = None
    halt: Halt | None = None  # when the model was told to stop (`Work.deadline`), and the CPU used by then


@dataclass(frozen=True)
class Tasks:
    """Every task a model provides, one function per `TaskName` (mypy checks that none is missing).

    Each takes `(item, sleep, fault, ...)` as its model passes them; the model modules define
    them under the same names so that they read side by side."""

    echo: Callable[..., Any]
    count: Callable[..., Any]
    crunch: Callable[..., Any]
    fetch: Callable[..., Any]
    mix: Callable[..., Any]
    call: Callable[..., Any]

    def __getitem__(self, task: TaskName) -> Callable[..., Any]:
        function: Callable[..., Any] = getattr(self, task)
        return function


def uses_nothing(primitive: str) -> bool:
    """The `uses` of work that is a plain function of its items (`lab bench`'s job): it takes none
    of the kit's primitives, so no option that changes one (`Option.needs`: the queue kind, the
    stop signal) applies to it, nor shows in its variants' names."""
    return False


@dataclass(frozen=True)
class Option:
    """A model option, declared once: its name (keyword `start_method`, flag `--start-method`),
    its valid values (the default first), its help, and where it applies.

    `tasks`: the tasks it applies to (None: all); `free`: a check for values of the user's own
    beyond `choices` (dask's scheduler address), returning the value or raising InvalidParameter;
    `only_locked`: a report varies it only where the demo locks (the lock kind); `needs`: it
    applies only to demos whose work uses that primitive of the kit (`Demo.uses`: the queue kind
    where messages pass), and is no part of the others' variants; `fixed_for`:
    tasks for which a report keeps its default (a start method changes start-up, which http-get
    does not time); `shown_by`: the tasks whose runs show what it changes, where a lean scale
    (the quick report's) varies it (None: every task it applies to); `recorded`: a report
    records a timeline of each of its values, not the default's alone (its lesson is how the
    work overlaps); `every_row`: what it changes depends on the demo's parameters (an offload
    pays only from some CPU share on), so a lean scale runs it on every parameter set."""

    name: str
    choices: tuple[str, ...]
    help: str
    tasks: tuple[TaskName, ...] | None = None
    free: Callable[[str], str] | None = None
    only_locked: bool = False
    needs: Literal["queue", "stop"] | None = None
    fixed_for: tuple[TaskName, ...] = ()
    shown_by: tuple[TaskName, ...] | None = None
    recorded: bool = False
    every_row: bool = False

    def applies_to(self, task: TaskName | None, uses: Callable[[str], bool] | None = None) -> bool:
        """Whether the option means anything for `task`, in a demo that uses the kit's primitives
        `uses` says it does (None: any demo)."""
        needed = self.needs is None or uses is None or uses(self.needs)
        return needed and (self.tasks is None or task in self.tasks)

    def check(self, value: str) -> str:
        """`value` if it is a choice or a free value that passes the check, else UnknownName
        (or the check's InvalidParameter) naming what would do."""
        if value in self.choices:
            return value
        if self.free is not None:
            return self.free(value)
        raise UnknownName(self.name.replace("_", " "), value, self.choices)


class Workers(ABC):
    """A model's workers for one run, every one started and past the start line: what the timed
    region maps over. Made by `Model.start`, which also stops them."""

    @abstractmethod
    def map(self, items: Sequence[Any], record: bool) -> list[Any]:
        """The run's task over every item, outputs in input order; raise the task's own exception,
        or TimeoutError after `work.timeout`. With `record`, items are `(index, item)` pairs and
        each output is `(output, Span)`."""

    def counter(self) -> int | None:
        """The shared counter's final value (`fetch`: None; the demo counts verified responses)."""
        return None

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by the lab process and these workers (see `cpu_seconds`)."""
        return cpu_seconds()

    def side_spans(self) -> list[Span]:
        """Spans of work that tasks handed elsewhere, recorded beside the tasks' own (asyncio's
        mixed: the CPU part, on the thread, process or interpreter that computed it)."""
        return []

    def halt(self) -> None:
        """Stop the work, by the model's own means, at `Work.deadline` (called from a timer
        thread while `map` runs): set the kit's stop signal, cancel, or kill; `map` then returns,
        a `Stopped` in place of each output that never came. By default nothing: a model that
        cannot stop a running task runs it to its end."""
        return None

    def settle(self, seconds: float) -> None:
        """After `halt` on a timeout: wait up to `seconds` for the halted tasks to end by
        themselves (a cooperative task at its next check, its `finally` run) before the model's
        `start` ends what is left. By default nothing: a model whose `halt` does nothing has
        nothing to wait for, and asyncio's timeout has already cancelled and awaited its tasks."""
        return None

    def watch(self) -> AbstractContextManager[Beats]:
        """The caller's heartbeat while the block runs: a thread of the lab's process, which the
        workers' CPU work can starve of the GIL. A model whose caller is an event loop beats
        on the loop instead (asyncio: its `map` runs the beat beside the work)."""
        return heartbeat.in_a_thread()


class Model(ABC):
    """A way to run `Work` concurrently: declared traits, and `start`.

    A model declares what differs about it in the class variables below and implements `start`;
    `run` (the timed region) is the same for every model. `start` must start `work.workers`
    workers before it yields, stop them when the block ends and kill them when it ends with an
    exception (a task's, TimeoutError, KeyboardInterrupt): no worker is ever left behind.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    takes: ClassVar[tuple[Option, ...]] = ()  # its options (an instance's chosen ones: `self.options`)
    max_workers: ClassVar[int]
    # Whether the work runs in child processes, whose memory must be sampled while it runs (the
    # lab process's own peak needs no sampling, `lab.measure.memory`), and which `--fault exit` kills.
    children: ClassVar[bool] = False
    # Whether the model runs coroutine functions (`lab bench` hands it the `--async` function).
    asynchronous: ClassVar[bool] = False
    # Whether the work crosses to another interpreter by pickling (functions at module level).
    pickles: ClassVar[bool] = False
    # Whether Python code in its workers runs at the same time (no GIL shared between them).
    parallel: ClassVar[bool] = False
    # What outputs that differ from a serial run's mean in this model (`lab bench`'s verdict).
    mismatch_means: ClassVar[str] = "the outputs differ from a serial run's"
    rank: ClassVar[int] = 100  # where it stands in lists and tables (the built-ins: 10 to 40)
    colour: ClassVar[str] = "#7f7f7f"  # its colour in charts (matplotlib's tab10 for the built-ins)
    # Whether every study joins it (timelines, race statistics, sweeps at the quick scale); a
    # model that starts a cluster per run is left to the main tables and the article scale.
    cheap: ClassVar[bool] = True
    # Extra worker counts `lab bench` tries by default beyond 1, 2 and the cores (cheap waiters).
    bench_workers: ClassVar[tuple[int, ...]] = ()
    # The options with which this model measures the HTTP server's ceiling (None: it does not).
    ceiling_options: ClassVar[Mapping[str, str] | None] = None
    # Which of the article's and Real Python's approaches this model is ("processes", "threads",
    # "asyncio"), where the report sets their published figures beside ours; read from the class
    # that declares it, so that a subclass (a plug-in) does not take its parent's place there.
    approach: ClassVar[str | None] = None
    # Where its counter lives, when a finding should say so (a round trip per read and write).
    counter_note: ClassVar[str] = ""
    # Why `--fault exit` (os._exit in a task) cannot run in it, beyond having no worker process.
    exit_note: ClassVar[str] = ""

    def __init__(self, **options: str) -> None:
        self.options = {**self.default_options(), **options}

    @classmethod
    def default_options(cls) -> dict[str, str]:
        """The options used when none is given: the first valid value of each."""
        return {option.name: option.choices[0] for option in cls.takes}

    @classmethod
    def options_for(
        cls, task: TaskName | None, uses: Callable[[str], bool] | None = None
    ) -> tuple[Option, ...]:
        """The options that apply to `task` (with `uses`, a demo's `Demo.uses`: in that demo)."""
        return tuple(option for option in cls.takes if option.applies_to(task, uses))

    @classmethod
    def option(cls, name: str) -> Option:
        """The option called `name` (KeyError if the model has none)."""
        return next(option for option in cls.takes if option.name == name)

    @classmethod
    def unavailable(cls, options: Mapping[str, str]) -> str | None:
        """Why this variant cannot run on this machine (with how to fix it), or None if it can."""
        return None

    @classmethod
    def lock_costs(cls) -> dict[str, float]:
        """Microseconds per uncontended acquire and release of each lock this model's locked
        counter uses, by the lock's name (`lab.measure.locks` has the helpers)."""
        return {}

    @abstractmethod
    def start(self, work: Work) -> AbstractContextManager[Workers]:
        """Start `work.workers` workers, every one ready; stop them when the block ends."""

    def run(self, work: Work) -> Measured:
        """Start the workers, time the map alone, stop them: the timed region, for every model."""
        # Here, not above: it needs psutil, which a subinterpreter (importing this module for its
        # tasks) cannot load; `run` runs in the lab's own process only.
        from lab.measure.memory import checkpoint  # noqa: PLC0415

        started = now()
        beats = None
        with self.start(work) as workers:
            cpu = workers.cpu_seconds()
            watching = workers.watch() if work.heartbeat else nullcontext(None)
            with frozen_heap():
                begin = now()
                items = tuple(enumerate(work.items)) if work.record else work.items
                with watching as beats, halting(work.deadline, workers, begin, cpu) as halt:
                    try:
                        outputs = workers.map(items, work.record)
                    except TimeoutError:
                        # Past its timeout, a run is stopped as the deadline demo stops work at
                        # its deadline, by the model's own means; `start` then ends what is left.
                        workers.halt()
                        workers.settle(GRACE_S)
                        raise
                elapsed = now() - begin
            cpu = workers.cpu_seconds() - cpu
            # The memory the workers hold, read before they stop (lab.measure.memory): 5-100 ms of
            # page-table walks for a processes run here, the lab's bookkeeping, left out of the
            # start-up below as it is out of the clock.
            read_at = now()
            checkpoint()
            reading = now() - read_at
            counter = workers.counter()
            side = workers.side_spans()
        spans = None
        if work.record:
            outputs, spans = [o for o, _ in outputs], [s for _, s in outputs] + side
        pulse = None
        if beats is not None:  # a recorded run keeps the heartbeat's course too, for its chart
            pulse = {**beats.summary(), **({"heartbeat_series": beats.series(begin)} if work.record else {})}
        startup = now() - started - elapsed - reading
        return Measured(outputs, counter, elapsed, startup, spans, begin, cpu, pulse, halt.get("halt"))


GRACE_S = 0.5  # how long halted work has to end by itself before it is killed or abandoned


@contextmanager
def halting(deadline: float | None, workers: Workers, begin: float, cpu: float) -> Iterator[dict[str, Halt]]:
    """`workers.halt()` at `deadline` seconds after `begin`, from a timer thread, while the
    block runs (none without a deadline); what it noted goes into the dict it yields, as "halt"."""
    noted: dict[str, Halt] = {}
    if deadline is None:
        yield noted
        return

    def stop() -> None:
        noted["halt"] = Halt(now(), workers.cpu_seconds() - cpu)
        workers.halt()

    # Not a `THREAD_NAME` thread: it is the lab's own, never a worker left running.
    timer = threading.Timer(max(0.0, begin + deadline - now()), stop)
    timer.name = "lab-deadline"
    timer.daemon = True
    timer.start()
    try:
        yield noted
    finally:
        timer.cancel()
        timer.join()


@contextmanager
def frozen_heap() -> Iterator[None]:
    """The timed region's collector sees the work's objects only, as a plain script's would.

    The collector stays on, but what existed before the clock (the lab's own 420 modules and
    their objects, 40% more than a script importing just its library, and the started workers)
    is moved out of its way (`gc.freeze`, O(1)), and back after. Without this, 1,000 requests
    in flight took 1.14x a plain aiohttp script alone, the difference being the collections
    that scan the lab's heap (with the collector off: 0.84x); with it, 0.99x
    (benchmarks/alone.py, reports/overhead.md)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def cpu_seconds(pids: Iterable[int] = ()) -> float:
    """CPU seconds (user + system) used so far by this process and the processes `pids`.

    A worker that has already exited counts for nothing: read it before the pool shuts down."""
    total, pids = time.process_time(), list(pids)
    if not pids:
        return total
    import psutil  # noqa: PLC0415 (here, not above: a subinterpreter cannot load it, and needs none)

    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


# The one clock the lab times with: the function itself, not a wrapper around it (a pipeline stamps
# each message twice, and a frame more per stamp cost 5% of a one-core pipeline's time).
now: Callable[[], float] = time.perf_counter
