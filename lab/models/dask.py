"""dask: tasks on a Dask cluster (`distributed`): a scheduler hands them to worker processes.

Cooks in another kitchen, with a head chef in between. Every task travels to the scheduler, which
sends it to a worker process (here with one thread each, so that a worker is a cook), and its
result travels back: a task costs a millisecond or more of messages where a process pool's costs
tens of microseconds. Workers share nothing; shared state lives in the scheduler: the counter is a
`distributed.Variable` and the lock a `distributed.Lock`, and each get, set, acquire and release
is a network round trip. A worker that dies is replaced and its task rescheduled, up to Dask's
allowed failures (3), after which the task fails with `KilledWorker`.

Option `scheduler`:

    local           a `LocalCluster` of `workers` worker processes on 127.0.0.1, started by the
                    run (its start is start-up) and closed after it, whatever happened. Workers
                    are started with forkserver: the lab process runs Dask's event loop in a
                    thread, which makes fork unsafe, and spawn takes 5x longer.
    tcp://host:port the scheduler of a cluster that already runs (`dask scheduler`, `dask worker`).
                    The lab connects, waits for `workers` workers, restricts the work to that many
                    of them and never shuts anything down. A task that hangs keeps running there:
                    Dask cannot stop a running task.

The `distributed` package is an extra: `pip install 'concurrency-lab[dask]'`.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext, suppress
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, ClassVar
from urllib.parse import urlsplit

import psutil

from lab._compat import use_forkserver
from lab.errors import InvalidParameter
from lab.http.clients import SYNC_CLIENTS, Outcome, SyncClient, Target, load, sync_client
from lab.measure.locks import median_us, per_round
from lab.models.base import NETWORK_TASKS, Fault, Kernel, Kit, Model, Option, Tasks, Work, Workers
from lab.models.tasks import apply, crunch_job, misbehave, timed, work_on
from lab.signals import sigint_deferred, threads_without_sigint

INSTALL = "model 'dask' needs the dask extra, not installed here: pip install 'concurrency-lab[dask]'"
CONNECT_TIMEOUT_S = 10.0  # at most this long (or the run's timeout) for a scheduler to answer
WORKER_START_METHOD = "forkserver"
POLL_S = 0.002  # how often a counter task looks whether every worker has arrived


def dist() -> Any:
    """The `distributed` package (an extra: imported only where a dask run needs it)."""
    return importlib.import_module("distributed")


def check_address(value: str) -> str:
    """A scheduler address, `tcp://host:port`, or InvalidParameter naming the value."""
    parts = urlsplit(value)
    try:
        ok = parts.scheme == "tcp" and bool(parts.hostname) and parts.port is not None and parts.port > 0
    except ValueError:  # a port that is not a number, or out of range
        ok = False
    if not ok or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidParameter(
            f"scheduler must be 'local' or a scheduler address like tcp://127.0.0.1:8786, not {value!r}"
        )
    return value.rstrip("/")


@dataclass(frozen=True)
class Names:
    """The scheduler-side objects one counter run shares, by name: they are looked up on each worker."""

    counter: str
    lock: str | None
    start: str
    workers: int


@dataclass(frozen=True)
class KitNames:
    """The scheduler-side objects of one run's kit (`Work.kit`), by name: each task looks them up."""

    queue: str
    lock: str
    value: str
    timeout: float

    data: str | None = None  # the key of the run's payload, scattered to every worker

    def kit(self) -> Kit:
        """The kit, in a worker: a `distributed.Queue`, `Lock` and `Variable` of the scheduler's,
        and the run's payload as this worker holds it (scattered by `ClusterWorkers.map`: read
        from the worker's own store, `Worker.data`, with no transfer)."""
        distributed = dist()
        shared = Shared(distributed.Variable(self.value))
        data = None if self.data is None else memoryview(distributed.get_worker().data[self.data])
        return Kit(
            distributed.Queue(self.queue), distributed.Lock(self.lock), shared, time.sleep, self.timeout, KIT,
            data,
        )  # fmt: skip


class Shared:
    """A `distributed.Variable` as the kit's shared integer: each read and write a round trip."""

    def __init__(self, variable: Any) -> None:
        self.variable = variable

    @property
    def value(self) -> int:
        """Its value, read from the scheduler."""
        return int(self.variable.get())

    @value.setter
    def value(self, value: int) -> None:
        self.variable.set(value)


KIT = {"queue": "distributed.Queue", "lock": "distributed.Lock", "value": "distributed.Variable",
       "sleep": "time.sleep", "data": "scattered to every worker (Client.scatter, broadcast)"}  # fmt: skip


def echo(item: str, sleep: float, fault: Fault | None) -> str:
    """pool-map's task: wait `sleep` seconds, then return the item."""
    time.sleep(sleep)
    if fault:
        misbehave(fault)
    return item


def count(increments: int, sleep: float, fault: Fault | None, names: Names) -> None:
    """The counter demos' task: `increments` times, read the `Variable`, then write it plus one."""
    distributed = dist()

    arrived = distributed.Queue(names.start)
    arrived.put(os.getpid())  # every worker is running before anyone counts: a race needs overlap
    while arrived.qsize() < names.workers:
        time.sleep(POLL_S)
    time.sleep(sleep)
    if fault:
        misbehave(fault)
    counter = distributed.Variable(names.counter)
    lock: AbstractContextManager[Any] = distributed.Lock(names.lock) if names.lock else nullcontext()
    for _ in range(increments):
        with lock:
            # Two round trips to the scheduler: any other worker's write between them is lost
            # (like processes, with no yield point needed: `yield_point` changes nothing here).
            counter.set(counter.get() + 1)


def crunch(job: tuple[Kernel, int], sleep: float, fault: Fault | None) -> int | str:
    """cpu-bound's task (pure-Python arithmetic or hashlib), in parallel with the other worker processes."""
    time.sleep(sleep)
    if fault:
        misbehave(fault)
    return crunch_job(job)


sessions: dict[tuple[str, Target], SyncClient] = {}  # this worker process's HTTP clients


def own_session(target: Target, library: str) -> SyncClient:
    """This worker's own HTTP client for `target`, made on its first request."""
    session = sessions.get((library, target))
    if session is None:
        session = sessions[(library, target)] = sync_client(library, target)
    return session


def fetch(request_id: int, sleep: float, fault: Fault | None, target: Target, library: str) -> Outcome:
    """http-get's task: GET one request with this worker's own session, and verify the response.

    One thread per worker: the session is never used by two tasks at once."""
    if fault:
        misbehave(fault)
    return own_session(target, library).get(request_id)


def mix(
    item: tuple[int, int], sleep: float, fault: Fault | None, target: Target, library: str
) -> tuple[Outcome, int]:
    """mixed's task: GET one request with this worker's own session, then compute on its body."""
    if fault:
        misbehave(fault)
    request_id, rounds = item
    outcome, data = own_session(target, library).receive(request_id)
    return outcome, work_on(data, rounds)


def call(
    pair: tuple[int, Any],
    sleep: float,
    fault: Fault | None,
    function: Callable[..., Any],
    kit: KitNames | None,
) -> Any:
    """bench's task: the user's function on one item, on a worker (with the run's kit, if it takes one)."""
    if fault:
        misbehave(fault)
    return apply(function, pair, kit.kit() if kit else None)


def ready(library: str | None) -> int:
    """Run on every worker before the clock: imports this module (and the HTTP library)."""
    if library:
        load(library)
    return os.getpid()


def kill(client: Any, pids: Iterable[int]) -> None:
    """Kill the local cluster's worker processes at once.

    Each nanny is told first that the cluster is closing (`Nanny.close_gracefully`, which Dask's
    own shutdown sends): otherwise a nanny that sees its worker die starts a new one, and closing
    the cluster then waits for that worker to start (3.7-5.1 s here, against 0.1 s)."""
    for nanny in client.cluster.workers.values():
        nanny.close_gracefully(reason="lab-stop")
    for pid in pids:
        with suppress(psutil.Error):
            psutil.Process(pid).kill()


def cpu() -> float:
    """This worker process's CPU seconds so far (user + system)."""
    return time.process_time()


TASKS = Tasks(echo=echo, count=count, crunch=crunch, fetch=fetch, mix=mix, call=call)


def forkserver_preload() -> list[str]:
    """What Dask itself preloads in a forkserver (`distributed.utils.get_mp_context`: distributed
    and the packages it uses, numpy among them, in that order): workers start warm, and Dask's
    own setting, made once per process, agrees with it."""
    versions = importlib.import_module("distributed.versions")
    found = [
        name
        for name in versions.required_packages + versions.optional_packages
        if importlib.util.find_spec(name)
    ]
    return ["distributed", *found]


@contextmanager
def local_cluster(workers: int) -> Iterator[Any]:
    """A `LocalCluster` of `workers` single-threaded worker processes on 127.0.0.1, and a client
    of it; both closed on the way out, whatever happened (no worker process is left)."""
    dask = importlib.import_module("dask")
    distributed = dist()

    use_forkserver(forkserver_preload())
    cluster = None
    # Dask's own silencing (`silence_logs`) ends inside `cluster.close()`, while its event loop
    # still runs: a worker killed on the way out (by a Ctrl-C, a fault) could then print a
    # "Batched Comm Closed" traceback. Silenced here until `close` has joined the loop's thread.
    quiet = ExitStack()
    quiet.enter_context(importlib.import_module("distributed.utils").silence_logging_cmgr(logging.CRITICAL))
    try:
        # A Ctrl-C while workers start is held back until they have (a worker stopped half-started
        # prints Dask's traceback): it arrives as this block ends, and the cluster is then closed.
        # Dask's event loop thread, started here, must never be the one a Ctrl-C lands on.
        with (
            sigint_deferred(WORKER_START_METHOD),
            threads_without_sigint(),
            dask.config.set({"distributed.worker.multiprocessing-method": WORKER_START_METHOD}),
            warnings.catch_warnings(),
        ):
            # With no dashboard, the scheduler still serves its health routes on 127.0.0.1, at 8787
            # when free: when another cluster has it, Dask warns and takes another port. Expected.
            warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)
            cluster = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.CRITICAL,
            )
        with distributed.Client(cluster, set_as_default=False) as client:
            yield client
    finally:
        with quiet:
            if cluster is not None:
                cluster.close()


@contextmanager
def remote_cluster(address: str, timeout: float) -> Iterator[Any]:
    """A client of the running scheduler at `address` (its cluster is left as it was)."""
    distributed = dist()

    with threads_without_sigint():
        client = distributed.Client(address, timeout=min(timeout, CONNECT_TIMEOUT_S), set_as_default=False)
    try:
        yield client
    finally:
        client.close()


class ClusterWorkers(Workers):
    """A client of a cluster whose `workers` workers are up and warm, and the run's shared state."""

    def __init__(
        self,
        client: Any,
        addresses: list[str],
        names: Names | None,
        work: Work,
        options: Any,
        *,
        kit: KitNames | None,
    ):
        self.client, self.addresses, self.names, self.work, self.kit = client, addresses, names, work, kit
        self.scheduler, self.library = options["scheduler"], options["client"]

    def map(self, items: Sequence[Any], record: bool) -> list[Any]:
        """Submit every task, then gather the outputs in input order."""
        local = self.scheduler == "local"
        # The run's payload goes to every worker once, inside the clock, as Dask advises for
        # large data (`Client.scatter`), and is released after.
        data, kit = None, self.kit
        if self.work.data is not None and kit is not None:
            data = self.client.scatter(self.work.data, broadcast=True, hash=False, workers=self.addresses)
            kit = replace(kit, data=data.key)
        try:
            with warnings.catch_warnings():
                # A large argument sent with each task (transfer's `via` argument) is the demo's
                # point, set beside the scattered one: Dask's advice to scatter it is the lesson.
                warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
                futures = Dask.submit(self.client, self.work, self.addresses, self.names, items,
                                      record=record, library=self.library, local=local, kit=kit)  # fmt: skip
            return Dask.collect(self.client, futures, self.work, self.scheduler)
        finally:
            if data is not None:
                data.release()

    def counter(self) -> int:
        """The `Variable`'s final value, read from the scheduler (the kit's, when it has one)."""
        if self.kit is not None:
            return int(dist().Variable(self.kit.value, client=self.client).get())
        return Dask.counter_value(self.client, self.names)

    def cpu_seconds(self) -> float:
        """The lab process's CPU time (the client; and a local scheduler) and the workers'."""
        return Dask.cpu(self.client, self.addresses)


class Dask(Model):
    """Runs the work as Dask tasks, on a local cluster the run starts or on a running one."""

    name: ClassVar[str] = "dask"
    description: ClassVar[str] = (
        "tasks on a Dask cluster's worker processes; shares a distributed.Variable, "
        "locks with distributed.Lock (pip install 'concurrency-lab[dask]')"
    )
    takes: ClassVar[tuple[Option, ...]] = (
        Option("scheduler", ("local",), "local (a cluster per run) or tcp://HOST:PORT of a running one",
               free=check_address),
        Option("client", SYNC_CLIENTS, "the HTTP library (http-get, mixed)", tasks=NETWORK_TASKS,
               fixed_for=("mix",)),
    )  # fmt: skip
    # A local worker process holds ~60 MB and the scheduler, in the lab process, handles a few
    # thousand tasks a second: past the cores, more workers only help waiting tasks.
    max_workers: ClassVar[int] = 32
    children: ClassVar[bool] = True
    pickles: ClassVar[bool] = True
    parallel: ClassVar[bool] = True
    mismatch_means: ClassVar[str] = "the outputs depend on the worker that computes them"
    rank: ClassVar[int] = 40
    colour: ClassVar[str] = "#d62728"
    counter_note: ClassVar[str] = (
        "a `distributed.Variable`: each read and each write is a round trip to the scheduler"
    )
    cheap: ClassVar[bool] = False  # a cluster per run: the main tables and the article scale only

    @classmethod
    def unavailable(cls, options: Mapping[str, str]) -> str | None:
        """The `distributed` package is an extra."""
        return INSTALL if importlib.util.find_spec("distributed") is None else None

    @classmethod
    def lock_costs(cls) -> dict[str, float]:
        """A `distributed.Lock`, which lives in the scheduler: timed from the worker of a
        one-worker local cluster, as the counter demo's tasks use it."""
        with local_cluster(1) as client:
            return {"distributed.Lock": client.submit(distributed_lock_us, 100).result()}

    @contextmanager
    def start(self, work: Work) -> Iterator[ClusterWorkers]:
        """Start (or reach) the workers and warm them; close a local cluster at the end."""
        scheduler = self.options["scheduler"]
        with ExitStack() as stack:
            if scheduler == "local":
                client = stack.enter_context(local_cluster(work.workers))
            else:
                client = stack.enter_context(remote_cluster(scheduler, work.timeout))
            addresses = self.workers(client, work.workers, min(work.timeout, CONNECT_TIMEOUT_S))
            library = self.options["client"] if work.target else None
            pids = client.run(
                ready, library, workers=addresses
            )  # imports done on every worker, off the clock
            if scheduler == "local":
                # A hung or dying worker makes closing the cluster wait for it (5 s and more): on
                # the way out after a failure, its processes are killed first, as the processes model does.
                stack.push(lambda kind, exc, tb: kill(client, pids.values()) if kind else None)
            names = self.shared_state(client, work, stack)
            kit = self.kit_names(client, work, stack)
            yield ClusterWorkers(client, addresses, names, work, self.options, kit=kit)

    @staticmethod
    def workers(client: Any, wanted: int, timeout: float) -> list[str]:
        """The addresses of the `wanted` workers the work runs on, once they are all up."""
        try:
            client.wait_for_workers(wanted, timeout=timeout)
        except TimeoutError:
            have = len(client.scheduler_info()["workers"])
            raise RuntimeError(
                f"the cluster has {have} workers, fewer than the {wanted} asked for (after {timeout:g} s)"
            ) from None
        return sorted(client.scheduler_info()["workers"])[:wanted]

    @staticmethod
    def shared_state(client: Any, work: Work, stack: ExitStack) -> Names | None:
        """For the counters: a `Variable` at 0, a `Lock` if locked and a start line, named for this
        run alone and deleted after it (a running cluster is left as it was)."""
        if work.task != "count":
            return None
        distributed = dist()

        run = uuid.uuid4().hex
        names = Names(
            f"lab-counter-{run}",
            f"lab-lock-{run}" if work.locked else None,
            f"lab-start-{run}",
            work.workers,
        )
        counter, start = (
            distributed.Variable(names.counter, client=client),
            distributed.Queue(names.start, client=client),
        )
        counter.set(0)
        stack.callback(counter.delete)
        stack.callback(start.close)
        return names

    @staticmethod
    def kit_names(client: Any, work: Work, stack: ExitStack) -> KitNames | None:
        """For a function that takes a kit: a `Queue`, a `Lock` and a `Variable` at 0, named for
        this run alone; the queue closed and the variable deleted after it."""
        if not work.kit:
            return None
        distributed = dist()

        run = uuid.uuid4().hex
        names = KitNames(f"lab-queue-{run}", f"lab-lock-{run}", f"lab-value-{run}", work.timeout)
        value, queue = (
            distributed.Variable(names.value, client=client),
            distributed.Queue(names.queue, client=client),
        )
        value.set(0)
        stack.callback(value.delete)
        stack.callback(queue.close)
        return names

    @staticmethod
    def submit(
        client: Any,
        work: Work,
        addresses: list[str],
        names: Names | None,
        items: Sequence[Any],
        *,
        record: bool,
        library: str,
        local: bool,
        kit: KitNames | None = None,
    ) -> list[Any]:
        """Send every task: the counters one per worker (each pinned to its own), the others by `map`."""
        task = partial(TASKS[work.task], sleep=work.sleep, fault=work.fault)
        if work.task == "count":
            task = partial(task, names=names)
        elif work.task in NETWORK_TASKS:
            task = partial(task, target=work.target, library=library)
        elif work.task == "call":
            task = partial(task, function=work.function, kit=kit)
        if record:
            task = partial(timed, task)
        items = list(items)
        # A local cluster's workers are all the run's: no restriction, and the scheduler spreads
        # tasks submitted together over idle workers, one each first (so every counter task gets a
        # worker of its own). On a running cluster the work is restricted to the chosen workers,
        # loosely; but a task whose chosen workers have all died waits (Dask keeps it pending),
        # until the timeout.
        if local:
            return client.map(task, items, pure=False)  # type: ignore[no-any-return]
        if work.task == "count":
            return [
                client.submit(
                    task, item, pure=False, workers=[addresses[i % len(addresses)]], allow_other_workers=True
                )
                for i, item in enumerate(items)
            ]
        return client.map(  # type: ignore[no-any-return]
            task, items, pure=False, workers=addresses, allow_other_workers=True
        )

    @staticmethod
    def collect(client: Any, futures: list[Any], work: Work, scheduler: str) -> list[Any]:
        """The outputs in input order; a dead worker or a hang becomes one clear error."""
        distributed = dist()

        try:
            with client.as_current():  # `wait` finds its client there (this one is not the default)
                distributed.wait(futures, timeout=work.timeout)
            return client.gather(futures)  # type: ignore[no-any-return]
        except TimeoutError:
            client.cancel(futures)
            left = "the local cluster is closed" if scheduler == "local" else "the hung task still runs there"
            raise TimeoutError(f"timed out after {work.timeout:g} s (see --timeout); {left}") from None
        except distributed.KilledWorker as exc:
            first = str(exc).split(". ")[0]
            raise RuntimeError(
                "worker processes died running a task: Dask started a new worker and rescheduled the "
                f"task each time, then gave up after its allowed failures (KilledWorker: {first})"
            ) from None

    @staticmethod
    def cpu(client: Any, addresses: list[str]) -> float:
        """CPU seconds so far of the lab process (the client; and a local scheduler) and the workers."""
        return time.process_time() + float(sum(client.run(cpu, workers=addresses).values()))

    @staticmethod
    def counter_value(client: Any, names: Names | None) -> int:
        """The counter's final value, read from the scheduler (0 when there was no counter)."""
        if names is None:
            return 0
        distributed = dist()

        return int(distributed.Variable(names.counter, client=client).get())


def distributed_lock_us(rounds: int) -> float:
    """Run on a Dask worker: the median of five measurements of a `distributed.Lock`, in us."""
    lock = dist().Lock(f"lab-lockcost-{os.getpid()}")
    return median_us(lambda: per_round(lock, rounds))
