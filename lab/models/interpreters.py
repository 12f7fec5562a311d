"""interpreters: a pool of threads, each running its own subinterpreter with its own GIL (PEP 734).

Several cooks in one kitchen, each with a pantry of their own. An interpreter shares no Python
object with another, so pure-Python work runs in parallel in one process, as in processes,
while starting one costs milliseconds, not a process. What they can share is memory and
queues: the counter is a `memoryview` over shared bytes that every interpreter maps, read and
written back with no lock (updates are lost, at every size: they really run at once); the lock
is a cross-interpreter `Queue` holding one token, taken to enter and put back to leave.

    caller ── item ──> worker thread k (main interpreter) ── inbox Queue ──> interpreter k
       │                      │  exec("serve_one()")                              │ task(item)
       │                      └─ outbox.get_nowait() <── outbox Queue ── output ──┘
       └── counter (memoryview), lock (Queue), config ── prepare_main, once per interpreter

Each worker thread drives its interpreter with `exec`, one task at a time, and reads the output
from the outbox the moment `exec` returns: a blocking `Queue.get` polls every 10 ms in the
backport, which would add up to 10 ms to every task. The threads are a `ThreadPoolExecutor`'s,
so the pool, its timeout and its start line are the threads model's.

Where it runs: Python 3.14's `concurrent.interpreters`; on 3.12 and 3.13 the PEP's backport
(`pip install 'concurrency-lab[interpreters]'`, `interpreters-pep-734`). Where both exist (3.14 with the
backport installed) the option `implementation` runs either: the backport is a pure-Python layer
over the same private C modules (`_interpreters`, `_interpqueues`). Not `anyio.to_interpreter`: it
runs one call per interpreter from a pool it keeps to itself (no shared memory reaches the
interpreter before the call), and only from 3.13. Not `InterpreterPoolExecutor`: on the
backport it pickles everything it passes (a `memoryview` cannot be pickled), and 3.14's has no
way to hand each interpreter shared memory before the work starts.

What a task needs must load in a subinterpreter: `lab` itself imports nothing that refuses
(psutil, msgspec and uvloop do refuse, and are imported only where they are used), and the
user's module for `lab bench` is imported in a fresh interpreter before the clock, to say which
module refuses. `os._exit` in a subinterpreter ends the whole process: `--fault exit` is refused.
"""

from __future__ import annotations

import importlib
import importlib.util
import pickle
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar

from lab.errors import in_one_line
from lab.http.clients import SYNC_CLIENTS, Outcome, SyncClient, Target, load, sync_client
from lab.models.base import (
    NETWORK_TASKS,
    THREAD_NAME,
    Fault,
    Kernel,
    Kit,
    Model,
    Option,
    Span,
    Tasks,
    Work,
    Workers,
    now,
)
from lab.models.tasks import CallFailed, apply, crunch_job, misbehave, work_on

NEEDS = (
    "model 'interpreters' needs Python 3.12 or newer (3.14 has concurrent.interpreters; on 3.12 and "
    "3.13: pip install 'concurrency-lab[interpreters]'); this is Python {version}"
)
EXTRA = "pip install 'concurrency-lab[interpreters]'"  # the backport, on 3.12 and 3.13
INSTALL = "model 'interpreters' needs the PEP 734 backport on Python {version}: " + EXTRA
NO_STDLIB = "the standard library's concurrent.interpreters is Python 3.14+; this is Python {version}"
# Where PEP 734's `interpreters` module comes from; the first is the default: the standard
# library's from 3.14 on, the backport's before.
MODULES = {"stdlib": "concurrent.interpreters", "backport": "interpreters_backport.interpreters"}
IMPLEMENTATIONS = ("stdlib", "backport") if sys.version_info >= (3, 14) else ("backport", "stdlib")
# The setup each interpreter runs once: the caller's import path (a subinterpreter does not
# inherit it, gh-126714), then this module, bound to the run's shared objects.
SETUP = (
    "import sys; sys.path[:] = list(paths)\n"
    "from lab.models import interpreters as _lab\n"
    "_lab.join(counter, lock, inbox, outbox, config, kit=kit, data=data)"
)
SERVE = "_lab.serve_one()"
RECEIVE = (
    "try:\n    import _interpreters, _interpqueues\n"
    "except ImportError:\n    import interpreters_backport.interpreters.queues"
)


def module(implementation: str | None = None) -> Any | None:
    """PEP 734's `interpreters` module from `implementation` (`MODULES`), or without one the
    first that imports (the standard library's, then the backport's); None if none does."""
    for name in [MODULES[implementation]] if implementation else MODULES.values():
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def broken(implementation: str) -> str | None:
    """Why an implementation that is installed still cannot be used here, or None.

    Found on 3.14.10 with the backport 0.5.0: importing it re-registers the queue type with the
    C module that 3.14's own `concurrent.interpreters` uses, after which neither makes a queue
    ("unsupported fallback 3") nor shares one ("does not support cross-interpreter data"). So
    from 3.14 on the lab never imports the backport, and says why."""
    if implementation == "backport" and sys.version_info >= (3, 14):
        return (
            f"the PEP 734 backport breaks Python {sys.version.split()[0]}'s own concurrent.interpreters "
            "when imported (its queues: 'unsupported fallback 3'); use the standard library's"
        )
    return None


# ---- inside each interpreter: the run's shared objects, and the tasks -------------------------


@dataclass
class Shared:
    """What this interpreter holds of the run: the counter's memory, the lock, its queues."""

    counter: Any  # memoryview of one signed 64-bit integer
    lock: Any  # a Queue holding one token while the lock is free
    inbox: Any
    outbox: Any
    task: str
    sleep: float
    fault: Fault | None
    pause: bool
    target: Target | None
    library: str
    function: Callable[..., Any] | None
    record: bool
    name: str = field(default_factory=lambda: f"interpreter {current_id()}")
    session: SyncClient | None = None
    kit: Kit | None = None


class TokenLock:
    """The lock of the interpreters: a `Queue` holding one token, taken to enter, put back to leave."""

    def __init__(self, tokens: Any) -> None:
        self.tokens, self.token = tokens, None

    def __enter__(self) -> None:
        self.token = self.tokens.get()

    def __exit__(self, *exc: object) -> None:
        self.tokens.put(self.token)


class SharedNumber:
    """The shared integer of the interpreters: a signed 64-bit integer in bytes every one maps."""

    def __init__(self, number: memoryview) -> None:
        self.number = number

    @property
    def value(self) -> int:
        """Its value now."""
        return int(self.number[0])

    @value.setter
    def value(self, value: int) -> None:
        self.number[0] = value


KIT = {"queue": "interpreters Queue", "lock": "a Queue holding one token", "value": "a shared memoryview",
       "sleep": "time.sleep", "data": "a shared memoryview"}  # fmt: skip


shared: Shared | None = None  # set in each interpreter by `join`


def current_id() -> int:
    """This interpreter's id (0 is the main one)."""
    found = module()
    return int(found.get_current().id) if found is not None else 0


def join(
    counter: Any, lock: Any, inbox: Any, outbox: Any, config: tuple[Any, ...], *, kit: Any, data: Any = None
) -> None:
    """Bind this interpreter to the run: once, as it starts, before the clock (`kit`: the run's
    queue, when the work's function takes a kit, else None; `data`: a memoryview of the caller's
    payload, the same memory, no copy)."""
    global shared
    task, sleep, fault, pause, url, latency, size, library, function, record, timeout = config
    target = Target(url, latency, size) if url else None
    if target:
        load(library)  # the client library's import is start-up, not the task's
    call = getattr(importlib.import_module(function[0]), function[1]) if function else None
    number = counter.cast("B").cast("q")
    shared = Shared(number, lock, inbox, outbox, task, sleep, fault, pause, target, library, call, record)
    if kit is not None:
        shared.kit = Kit(kit, TokenLock(lock), SharedNumber(number), time.sleep, timeout, KIT, data)


def serve_one() -> None:
    """Take one `(index, item)` from the inbox, run the task, put `(output, span, error)` out."""
    assert shared is not None, "serve_one runs in an interpreter bound by join"
    index, item = shared.inbox.get_nowait()
    worker, cpu, start = shared.name, time.thread_time(), now()
    try:
        output = TASKS[shared.task](item)  # type: ignore[index]
    except BaseException as exc:  # the task's own exception, sent back to be raised there
        shared.outbox.put((None, None, dumps_error(exc)))
        return
    span: Span = (worker, None, index, start, now(), time.thread_time() - cpu)
    shared.outbox.put((output, span if shared.record else None, None))


def dumps_error(exc: BaseException) -> bytes:
    """The exception, pickled (or, if it cannot be, a RuntimeError saying what it was)."""
    try:
        return pickle.dumps(exc)
    except Exception:
        return pickle.dumps(RuntimeError(in_one_line(exc)))


def echo(item: str) -> str:
    """pool-map's task: wait `sleep` seconds, then return the item."""
    assert shared is not None
    time.sleep(shared.sleep)
    if shared.fault:
        misbehave(shared.fault)
    return item


def count(increments: int) -> None:
    """The counter demos' task: `increments` times, read the counter, then write it plus one."""
    assert shared is not None
    time.sleep(shared.sleep)
    if shared.fault:
        misbehave(shared.fault)
    counter, lock = shared.counter, shared.lock
    for _ in range(increments):
        if lock is not None:
            token = lock.get()  # the token: whoever holds it is inside
        value = counter[0]
        # No yield point is needed (`yield_point` changes nothing here): the interpreters run at
        # once, each with its own GIL, and another can write between this read and this write.
        if shared.pause:
            time.sleep(0)
        counter[0] = value + 1
        if lock is not None:
            lock.put(token)


def crunch(job: tuple[Kernel, int]) -> int | str:
    """cpu-bound's task (pure-Python arithmetic or hashlib), in parallel with the other interpreters."""
    assert shared is not None
    time.sleep(shared.sleep)
    if shared.fault:
        misbehave(shared.fault)
    return crunch_job(job)


def own_session() -> SyncClient:
    """This interpreter's own HTTP client, made on its first request (the task's fault first)."""
    assert shared is not None and shared.target is not None
    if shared.fault:
        misbehave(shared.fault)
    if shared.session is None:
        shared.session = sync_client(shared.library, shared.target)
    return shared.session


def fetch(request_id: int) -> Outcome:
    """http-get's task: GET one request with this interpreter's own session, and verify it."""
    return own_session().get(request_id)


def mix(item: tuple[int, int]) -> tuple[Outcome, int]:
    """mixed's task: GET one request with this interpreter's own session, then compute on its
    body, in parallel with the other interpreters."""
    request_id, rounds = item
    outcome, data = own_session().receive(request_id)
    return outcome, work_on(data, rounds)


def call(pair: tuple[int, Any]) -> Any:
    """bench's task: the user's function on one item, in this interpreter."""
    assert shared is not None and shared.function is not None
    if shared.fault:
        misbehave(shared.fault)
    return apply(shared.function, pair, shared.kit)


TASKS = Tasks(echo=echo, count=count, crunch=crunch, fetch=fetch, mix=mix, call=call)


# ---- in the caller: the pool ------------------------------------------------------------------


@dataclass
class Pool:
    """The interpreters of one run, one per worker thread, and what they were handed."""

    interpreters: Any
    paths: tuple[str, ...]
    counter: memoryview
    lock: Any
    config: tuple[Any, ...]
    kit: Any = None  # the run's Queue, when the function takes a kit
    data: memoryview | None = None  # the run's payload (`Work.data`), shared with every interpreter
    local: threading.local = field(default_factory=threading.local)
    made: list[tuple[Any, Any, Any]] = field(default_factory=list)  # (interpreter, inbox, outbox)
    guard: threading.Lock = field(default_factory=threading.Lock)  # over made, busy, closing
    busy: set[int] = field(default_factory=set)  # ids of the interpreters inside `exec`
    closing: bool = False

    def start_one(self) -> None:
        """The pool's initializer: this thread's interpreter, set up and bound to the run."""
        made = self.interpreters.create()
        inbox, outbox = self.interpreters.create_queue(), self.interpreters.create_queue()
        with self.guard:
            self.made.append((made, inbox, outbox))
        # A memoryview or a queue reaches an interpreter only once it has imported the module that
        # implements it (otherwise: "_interpqueues module not imported yet"): import them first.
        made.exec(RECEIVE)
        made.prepare_main(paths=self.paths, counter=self.counter, lock=self.lock, inbox=inbox, outbox=outbox,
                          config=self.config, kit=self.kit, data=self.data)  # fmt: skip
        made.exec(SETUP)
        self.local.mine = (made, inbox, outbox)

    def run(self, item: Any) -> Any:
        """One task in this thread's interpreter (started by `start_one`)."""
        made, inbox, outbox = self.local.mine
        with self.guard:
            if self.closing:  # the run has failed; a task taken before the pool stopped ends here
                raise RuntimeError("the pool was closed")
            self.busy.add(made.id)
        inbox.put(item)
        try:
            made.exec(SERVE)
            output, span, error = outbox.get_nowait()  # before a close could drop what it sent
        except Exception as exc:  # ExecutionFailed: serve_one itself broke (not the task)
            raise RuntimeError(in_one_line(exc)) from None
        finally:
            with self.guard:
                self.busy.discard(made.id)
                if self.closing:  # `close` left it to this thread: now it is out of `exec`
                    made.close()
        if error is not None:
            raise pickle.loads(error)
        return (output, span) if span is not None else output

    def close(self) -> list[str]:
        """Close every interpreter whose thread is not inside `exec`; say which are still busy.

        A busy one is closed by its own thread as `exec` returns, or never, if its task hangs.
        Closing it from here could catch its thread on the way out of `exec`: the interpreter
        already says it is not running while that thread's state still exists, and CPython then
        aborts the whole process ("Py_EndInterpreter: not the last thread", seen on 3.13 when a
        task raised while others were finishing)."""
        with self.guard:
            self.closing = True
            for made, _, _ in self.made:
                if made.id not in self.busy:
                    made.close()
            return [f"interpreter {number}" for number in sorted(self.busy)]


class InterpreterWorkers(Workers):
    """The started pool: threads, each with its interpreter past its setup."""

    def __init__(
        self, executor: ThreadPoolExecutor, pool: Pool, work: Work, start: threading.Barrier | None
    ) -> None:
        self.executor, self.pool, self.work, self.start = executor, pool, work, start

    def map(self, items: Sequence[Any], record: bool) -> list[Any]:
        """`Executor.map` over the pool's threads, each running the task in its interpreter (which
        takes `(index, item)`, and says who ran it only when recording)."""
        run: Callable[[Any], Any] = self.pool.run
        if self.start is not None:  # the counters: every worker at the start line before counting
            run = partial(after, self.start, run)
        pairs = items if record else [(0, item) for item in items]
        return list(self.executor.map(run, pairs, timeout=self.work.timeout))

    def counter(self) -> int:
        """The shared memory's final value."""
        return int(self.pool.counter.cast("B").cast("q")[0])


def after(barrier: threading.Barrier, run: Callable[[Any], Any], item: Any) -> Any:
    """Wait at the start line, then run."""
    barrier.wait()
    return run(item)


class Interpreters(Model):
    """Runs the work on a pool of threads, each in its own subinterpreter (PEP 734)."""

    name: ClassVar[str] = "interpreters"
    description: ClassVar[str] = (
        "a pool of threads, each in its own subinterpreter with its own GIL (PEP 734); shares a "
        "memoryview, locks with a Queue holding one token (Python 3.12+)"
    )
    takes: ClassVar[tuple[Option, ...]] = (
        Option("implementation", IMPLEMENTATIONS, "PEP 734's module: the standard library's (3.14+) "
               "or the backport's (interpreters-pep-734)"),
        Option("client", SYNC_CLIENTS, "the HTTP library (http-get, mixed)", tasks=NETWORK_TASKS,
               fixed_for=("mix",)),
    )  # fmt: skip
    # Each interpreter holds about 2 MB and starts in about 10 ms here: a few hundred at most
    # teach everything a pool of them can.
    max_workers: ClassVar[int] = 256
    pickles: ClassVar[bool] = True  # the user's function must be importable by name in another interpreter
    parallel: ClassVar[bool] = True
    mismatch_means: ClassVar[str] = "the outputs depend on the interpreter that computes them"
    rank: ClassVar[int] = 35
    colour: ClassVar[str] = "#8c564b"
    counter_note: ClassVar[str] = "a `memoryview` over shared bytes, mapped by every interpreter"
    exit_note: ClassVar[str] = "os._exit in a subinterpreter ends the whole process, the lab's included"

    @classmethod
    def unavailable(cls, options: Mapping[str, str]) -> str | None:
        """Before 3.12; on 3.12-3.13 without the backport; the stdlib's before 3.14, the
        backport's where it is not installed."""
        version = ".".join(map(str, sys.version_info[:3]))
        if sys.version_info < (3, 12):
            return NEEDS.format(version=version)
        implementation = options.get("implementation", IMPLEMENTATIONS[0])
        if why := broken(implementation):
            return why
        if module(implementation) is None:
            if implementation == "stdlib":
                return NO_STDLIB.format(version=version)
            return INSTALL.format(version=version)
        return None

    @classmethod
    def lock_costs(cls) -> dict[str, float]:
        """The token Queue, uncontended: a get and a put per acquire and release."""
        from lab.measure.locks import median_us  # noqa: PLC0415 (not in the interpreters: statistics, asyncio)

        interpreters = module(IMPLEMENTATIONS[0]) or module()
        assert interpreters is not None
        lock = interpreters.create_queue()
        lock.put(True)

        def per_round(rounds: int = 20_000) -> float:
            begin = time.perf_counter()
            for _ in range(rounds):
                token = lock.get_nowait()
                lock.put(token)
            return (time.perf_counter() - begin) / rounds

        return {"interpreters Queue token": median_us(per_round)}

    @contextmanager
    def start(self, work: Work) -> Iterator[InterpreterWorkers]:
        """Start every thread and its interpreter (one barrier round); close them all at the end."""
        interpreters = module(self.options["implementation"])
        assert interpreters is not None, "unavailable() says why"
        probe(interpreters, work.function)
        lock = None
        if work.locked or work.kit:
            lock = interpreters.create_queue()
            lock.put(True)
        target = work.target
        function = (work.function.__module__, work.function.__qualname__) if work.function else None
        url, latency, size = (target.url, target.latency, target.size) if target else (None, 0.0, 0)
        pause = work.yield_point == "sleep0"
        library = self.options["client"]
        config = (
            work.task,
            work.sleep,
            work.fault,
            pause,
            url,
            latency,
            size,
            library,
            function,
            work.record,
            work.timeout,
        )
        kit = interpreters.create_queue() if work.kit else None
        data = None if work.data is None else memoryview(work.data)  # the caller's bytes, shared
        pool = Pool(interpreters, tuple(sys.path), memoryview(bytearray(8)), lock, config, kit, data)
        barrier = threading.Barrier(work.workers, timeout=work.timeout)
        executor = ThreadPoolExecutor(work.workers, thread_name_prefix=f"{THREAD_NAME}-interp",
                                      initializer=pool.start_one)  # fmt: skip
        try:
            list(executor.map(lambda _: barrier.wait(), range(work.workers)))  # every interpreter is up
            counting = threading.Barrier(work.workers, timeout=work.timeout) if work.task == "count" else None
            yield InterpreterWorkers(executor, pool, work, counting)
        except BaseException as exc:
            executor.shutdown(wait=False, cancel_futures=True)  # a hung thread cannot be joined
            if left := pool.close():
                note = f"; {', '.join(left)} could not be stopped: its thread runs on, abandoned"
                if isinstance(exc, TimeoutError):
                    raise TimeoutError(f"timed out after {work.timeout:g} s (see --timeout){note}") from None
            raise
        executor.shutdown()
        pool.close()


# CPython's words for an extension module built without support for subinterpreters.
REFUSES = re.compile(r"module (?P<module>[\w.]+) does not support loading in subinterpreters")


def probe(interpreters: Any, function: Callable[..., Any] | None) -> None:
    """Before the clock: the user's function must be reachable by import in a fresh interpreter."""
    if function is None:
        return
    where, name = function.__module__, function.__qualname__
    if where == "__main__" or "<" in name:
        raise CallFailed(
            f"{name} ({where}) cannot reach another interpreter: it is imported there by name, so it "
            "must be a module-level function of an importable module (not __main__, a lambda or a closure)"
        )
    fresh = interpreters.create()
    try:
        fresh.prepare_main(paths=tuple(sys.path))
        fresh.exec(f"import sys; sys.path[:] = list(paths)\nimport {where}")
    except Exception as exc:
        said = in_one_line(exc)
        # An extension module that refuses subinterpreters (numpy's, as of 2.x) says so only in the
        # error its import was raised from: name the package that refused before the details.
        if refused := REFUSES.search(said):
            said = f"{refused['module'].split('.')[0]} does not load in a subinterpreter ({said})"
        raise CallFailed(f"module {where} cannot be imported in a subinterpreter: {said}") from None
    finally:
        fresh.close()
