"""Hand-written equivalents of the lab's demos: what the article, Real Python and the libraries'
own documentation teach, one function per (demo, model), each timing its map alone.

Run as a script, one side runs once in this fresh process and prints its timed region's seconds:

    python benchmarks/handwritten.py alone DEMO MODEL '{"tasks": 4, ...}' [SERVER_URL]
    python benchmarks/handwritten.py lab   DEMO MODEL '{"tasks": 4, ...}' [SERVER_URL]

`alone` imports only what its code needs (asyncio, concurrent.futures, multiprocessing,
aiohttp, requests) and nothing of the lab: the body each response must have is written again
here (an earlier version borrowed `lab.http.clients.body`, and paid the lab's import inside its
clock, in every worker process). `lab` is
`lab.run(DEMO, MODEL, **params)` and prints its `elapsed_s`. Each side times the same region the
lab does: workers (a pool, a loop, a session) are made before the clock, connections are opened
inside it. `benchmarks/alone.py` runs the two in alternation and compares them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing
import sys
import threading
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import shared_memory
from typing import Any

Params = dict[str, Any]


# --- the work itself, written again here rather than imported from the lab -------------------


def crunch(rounds: int) -> int:
    """Pure-Python multiply-adds modulo a prime (the lab's `crunch_rounds`)."""
    x = 1
    for i in range(rounds):
        x = (x * 31 + i) % 1_000_003
    return x


BLOCK = bytes(1 << 20)


def digest(rounds: int) -> str:
    """SHA-256 over `rounds` x 64 zero bytes in 1 MiB blocks (the lab's `digest_rounds`)."""
    h, left, block = hashlib.sha256(), rounds * 64, memoryview(BLOCK)
    while left > 0:
        h.update(block[: min(left, len(block))])
        left -= len(block)
    return h.hexdigest()


def kernel(p: Params) -> Callable[[int], object]:
    """The cpu-bound task the parameters ask for."""
    return digest if p.get("kernel") == "hashlib" else crunch


def address(url: str, p: Params, i: int) -> str:
    """Request i's URL on the lab's server."""
    return f"{url}/{i}?latency={p['latency']:g}&size={p.get('size', 2000)}"


def expected(i: int, size: int) -> bytes:
    """The body the lab's server answers request i with: `"<i>|"` repeated, cut to `size`."""
    unit = f"{i}|".encode()
    return (unit * (size // len(unit) + 1))[:size]


# --- asyncio: gather with a Semaphore ---------------------------------------------------------


def asyncio_pool_map(p: Params, url: str) -> float:
    """`asyncio.gather` of `tasks` sleeps, `workers` at a time."""

    async def main() -> float:
        limit = asyncio.Semaphore(p["workers"])

        async def one(i: int) -> int:
            async with limit:
                await asyncio.sleep(p["sleep"])
                return i

        begin = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(p["tasks"])))
        return time.perf_counter() - begin

    return asyncio.run(main())


def asyncio_cpu_bound(p: Params, url: str) -> float:
    """Coroutines that compute: one after another on the loop."""
    work = kernel(p)

    async def main() -> float:
        async def one() -> object:
            return work(p["rounds"])

        begin = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(p["tasks"])))
        return time.perf_counter() - begin

    return asyncio.run(main())


def asyncio_http_get(p: Params, url: str) -> float:
    """One `aiohttp.ClientSession` (aiohttp's docs), `gather` with a `Semaphore` (Real Python)."""
    import aiohttp  # noqa: PLC0415

    async def main() -> float:
        limit = asyncio.Semaphore(p["workers"])
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=p["workers"])) as session:

            async def get(i: int) -> bool:
                async with limit, session.get(address(url, p, i)) as r:
                    return r.status == 200 and await r.read() == expected(i, p.get("size", 2000))

            begin = time.perf_counter()
            ok = await asyncio.gather(*(get(i) for i in range(p["requests"])))
            elapsed = time.perf_counter() - begin
        assert all(ok)
        return elapsed

    return asyncio.run(main())


# --- threads: a ThreadPoolExecutor ------------------------------------------------------------


def every_thread_up(pool: ThreadPoolExecutor, workers: int) -> None:
    """Start all `workers` threads of `pool`, before the clock, as the lab does.

    A round of tasks that return at once is not enough: the executor starts a thread only when
    none is idle, and the first thread, done with its task, takes the next ones (a round of
    `workers` no-ops started 1 thread here, in 6 runs of 6), and the others started inside the
    clock (a pipeline's consumer after its producer had begun; in 20,000 messages that moved
    nothing measurable, 1.02 (0.92-1.13) in 30 pairs, but it was not what the lab times). Each
    task here waits for all the others, so each one needs a thread of its own."""
    barrier = threading.Barrier(workers)
    list(pool.map(lambda _: barrier.wait(), range(workers)))


def thread_map(p: Params, task: Callable[[int], object], items: range) -> float:
    """`ThreadPoolExecutor(workers).map`, the pool started before the clock."""
    with ThreadPoolExecutor(p["workers"]) as pool:
        every_thread_up(pool, p["workers"])
        begin = time.perf_counter()
        list(pool.map(task, items))
        return time.perf_counter() - begin


def threads_pool_map(p: Params, url: str) -> float:
    """The article's threads: `time.sleep` in a pool."""
    return thread_map(p, lambda _: time.sleep(p["sleep"]), range(p["tasks"]))


def threads_cpu_bound(p: Params, url: str) -> float:
    """Threads that compute (the GIL lets one run at a time, but for hashlib)."""
    work = kernel(p)
    return thread_map(p, lambda _: work(p["rounds"]), range(p["tasks"]))


local = threading.local()


def threads_http_get(p: Params, url: str) -> float:
    """Real Python's threads: a `requests.Session` per thread (thread-local)."""
    import requests  # noqa: PLC0415

    size = p.get("size", 2000)

    def get(i: int) -> None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        r = local.session.get(address(url, p, i))
        assert r.status_code == 200 and r.content == expected(i, size)

    return thread_map(p, get, range(p["requests"]))


# --- processes: a multiprocessing.Pool --------------------------------------------------------


def sleep_for(seconds: float) -> None:
    """pool-map's task in a worker process."""
    time.sleep(seconds)


def crunch_for(job: tuple[str, int]) -> object:
    """cpu-bound's task in a worker process."""
    kind, rounds = job
    return digest(rounds) if kind == "hashlib" else crunch(rounds)


session: Any = None


def open_session() -> None:
    """The pool's initializer: one `requests.Session` per process (Real Python)."""
    global session
    import requests  # noqa: PLC0415

    session = requests.Session()


def get_in_process(job: tuple[str, int]) -> bool:
    """http-get's task in a worker process."""
    url, i = job
    r = session.get(url)
    return bool(r.status_code == 200 and r.content == expected(i, len(r.content)))


def process_map(p: Params, task: Callable[[Any], object], items: list[Any], init: Any = None) -> float:
    """`multiprocessing.Pool(workers).map`, every process started before the clock."""
    with multiprocessing.Pool(p["workers"], initializer=init) as pool:
        pool.map(abs, range(p["workers"]))  # every process up
        begin = time.perf_counter()
        pool.map(task, items, chunksize=1)
        return time.perf_counter() - begin


def processes_pool_map(p: Params, url: str) -> float:
    """The article's processes: `time.sleep` in a `multiprocessing.Pool`."""
    return process_map(p, sleep_for, [p["sleep"]] * p["tasks"])


def processes_cpu_bound(p: Params, url: str) -> float:
    """Processes that compute, one per task."""
    return process_map(p, crunch_for, [(p.get("kernel", "python"), p["rounds"])] * p["tasks"])


def processes_http_get(p: Params, url: str) -> float:
    """A `multiprocessing.Pool` whose initializer opens a session per process."""
    items = [(address(url, p, i), i) for i in range(p["requests"])]
    return process_map(p, get_in_process, items, init=open_session)


# --- pipeline: one producer, one consumer, the model's own queue --------------------------------
# Each message is what the lab's pipeline puts, `(producer, sequence, put time, payload)`, and the
# consumer stamps each as it takes it: the same work on both sides, so that the ratio is the lab's.


def produce(put: Callable[[Any], object], count: int, size: int) -> int:
    """Put `count` messages of `size` bytes."""
    payload = bytes(size)
    for i in range(count):
        put((0, i, time.perf_counter(), payload))
    return count


def consume(get: Callable[[], Any], count: int) -> list[tuple[int, int, float, float]]:
    """Take `count` messages, each stamped with the time it was taken."""
    taken = []
    for _ in range(count):
        producer, i, sent, _payload = get()
        taken.append((producer, i, sent, time.perf_counter()))
    return taken


def asyncio_pipeline(p: Params, url: str) -> float:
    """An `asyncio.Queue` between two coroutines, gathered."""

    async def main() -> float:
        queue: asyncio.Queue[Any] = asyncio.Queue()

        async def producer() -> None:
            payload = bytes(p["size"])
            for i in range(p["messages"]):
                await queue.put((0, i, time.perf_counter(), payload))

        async def consumer() -> None:
            taken = []
            for _ in range(p["messages"]):
                producer, i, sent, _payload = await queue.get()
                taken.append((producer, i, sent, time.perf_counter()))

        begin = time.perf_counter()
        await asyncio.gather(producer(), consumer())
        return time.perf_counter() - begin

    return asyncio.run(main())


def threads_pipeline(p: Params, url: str) -> float:
    """A `queue.Queue` between two threads of a pool."""
    import queue  # noqa: PLC0415

    channel: queue.Queue[Any] = queue.Queue()
    with ThreadPoolExecutor(2) as pool:
        every_thread_up(pool, 2)
        begin = time.perf_counter()
        put = pool.submit(produce, channel.put, p["messages"], p["size"])
        got = pool.submit(consume, channel.get, p["messages"])
        put.result(), got.result()
        return time.perf_counter() - begin


channel: Any = None  # a worker process's multiprocessing.Queue, from the pool's initializer


def join_queue(queue: Any) -> None:
    """The pool's initializer: the queue reaches each worker as it starts (by inheritance)."""
    global channel
    channel = queue


def produce_in_process(count: int, size: int) -> int:
    """The producer, in a worker process."""
    return produce(channel.put, count, size)


def consume_in_process(count: int) -> list[tuple[int, int, float, float]]:
    """The consumer, in a worker process (its stamps travel back, as the lab's do)."""
    return consume(channel.get, count)


def processes_pipeline(p: Params, url: str) -> float:
    """A `multiprocessing.Queue` between two processes of a pool."""
    queue: Any = multiprocessing.Queue()
    with multiprocessing.Pool(2, initializer=join_queue, initargs=(queue,)) as pool:
        pool.map(abs, range(2))  # both processes up
        begin = time.perf_counter()
        put = pool.apply_async(produce_in_process, (p["messages"], p["size"]))
        got = pool.apply_async(consume_in_process, (p["messages"],))
        put.get(), got.get()
        return time.perf_counter() - begin


# --- transfer: a payload handed to each task, pickled, or shared once by name --------------------
# The payload and the work are the lab's, written again: the length, a CRC-32 of a byte of every
# page, and `rounds` per KiB seeded by a byte of each KiB.


def payload(size: int) -> bytes:
    """The lab's payload: bytes 0..250, repeated."""
    return (bytes(range(251)) * (size // 251 + 1))[:size]


def seen(data: Any, rounds: int) -> tuple[int, int, int]:
    """A task's work on its payload."""
    view = memoryview(data)
    seed = sum(view[offset] for offset in range(0, len(view), 1024))
    kib = -(-len(view) // 1024)
    work = crunch(rounds * kib) if rounds else 0
    return len(view), zlib.crc32(bytes(view[::4096])), (seed + work) % 1_000_003


def seen_by_name(name: str, size: int, rounds: int) -> tuple[int, int, int]:
    """A task handed a `shared_memory` block's name: it opens the block, works, lets it go."""
    block = shared_memory.SharedMemory(name)
    try:
        assert block.buf is not None
        view = block.buf[:size]
        try:
            return seen(view, rounds)
        finally:
            view.release()
    finally:
        block.close()


def threads_transfer(p: Params, url: str) -> float:
    """Threads handed the payload itself: `ThreadPoolExecutor.map`."""
    data = payload(p["size"])
    with ThreadPoolExecutor(p["tasks"]) as pool:
        every_thread_up(pool, p["tasks"])
        begin = time.perf_counter()
        list(pool.map(seen, [data] * p["tasks"], [p["rounds"]] * p["tasks"]))
        return time.perf_counter() - begin


def processes_transfer(p: Params, url: str) -> float:
    """`ProcessPoolExecutor.submit(f, payload)` per task (pickled through the pool's pipe), or with
    `via` shared, the payload copied into one `shared_memory` block and its name submitted.

    The block is made before the pool, as the lab makes it: made after, the workers (forked
    before the parent's resource tracker started) each start a tracker of their own when they
    open it, about 10 ms a worker inside the clock here, and each tracker reports the block
    leaked when its worker exits."""
    data = payload(p["size"])
    block = (
        shared_memory.SharedMemory(create=True, size=max(1, len(data))) if p.get("via") == "shared" else None
    )
    try:
        with ProcessPoolExecutor(p["tasks"]) as pool:
            list(pool.map(abs, range(p["tasks"])))  # every process up
            begin = time.perf_counter()
            if block is None:
                futures = [pool.submit(seen, data, p["rounds"]) for _ in range(p["tasks"])]
            else:
                assert block.buf is not None
                block.buf[: len(data)] = data
                futures = [
                    pool.submit(seen_by_name, block.name, len(data), p["rounds"]) for _ in range(p["tasks"])
                ]
            [f.result() for f in futures]
            return time.perf_counter() - begin
    finally:
        if block is not None:
            block.close()
            block.unlink()


# --- deadline: tasks stopped `deadline` s in (issue 27's hand measurement) ---------------------
# Each task steps `step` s at a time (a sleep, or pure-Python rounds), as the lab's does; the clock
# runs from the start of the tasks to the moment every one has stopped and the pool is free.


def spin(seconds: float) -> None:
    """Pure-Python rounds for about `seconds` (holding the GIL)."""
    end, total = time.perf_counter() + seconds, 0
    while time.perf_counter() < end:
        for i in range(500):
            total += i * i


def asyncio_deadline(p: Params, url: str) -> float:
    """`asyncio.wait(tasks, timeout=deadline)`, then `Task.cancel` on each still running, and
    `gather` of the cancelled (each `finally` runs)."""

    async def main() -> float:
        cleaned = [0]

        async def one() -> str:
            began = time.perf_counter()
            try:
                while time.perf_counter() - began < p["work"]:
                    if p.get("kind", "sleep") == "sleep":
                        await asyncio.sleep(p["step"])
                    else:
                        spin(p["step"])
                return "finished"
            finally:
                cleaned[0] += 1

        begin = time.perf_counter()
        tasks = [asyncio.create_task(one()) for _ in range(p["tasks"])]
        _, pending = await asyncio.wait(tasks, timeout=p["deadline"])
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        elapsed = time.perf_counter() - begin
        assert cleaned[0] == p["tasks"]
        return elapsed

    return asyncio.run(main())


stop_event: Any = None


def keep_event(event: Any) -> None:
    """The pool's initializer: the parent's `multiprocessing.Event`, kept in each worker."""
    global stop_event
    stop_event = event


def until_stopped(job: tuple[str, float, float]) -> str:
    """deadline's task in a worker process: steps until the work is done or the event is set."""
    kind, work, step = job
    began = time.perf_counter()
    while time.perf_counter() - began < work:
        if stop_event is not None and stop_event.is_set():
            return "stopped"
        if kind == "sleep":
            time.sleep(step)
        else:
            spin(step)
    return "finished"


def processes_deadline(p: Params, url: str) -> float:
    """A `multiprocessing.Pool`: with `stop` event, an `Event` each task checks between steps,
    set at the deadline; with `stop` terminate, `Pool.terminate()` at the deadline (SIGTERM to
    every worker), then `join`."""
    event = multiprocessing.Event() if p.get("stop", "event") == "event" else None
    job = (p.get("kind", "sleep"), p["work"], p["step"])
    pool = multiprocessing.Pool(p["tasks"], initializer=keep_event, initargs=(event,))
    try:
        pool.map(abs, range(p["tasks"]))  # every process up
        begin = time.perf_counter()
        running = pool.map_async(until_stopped, [job] * p["tasks"], chunksize=1)
        running.wait(max(0.0, p["deadline"] - (time.perf_counter() - begin)))
        if event is not None:
            event.set()
            assert set(running.get()) <= {"stopped", "finished"}
        else:
            pool.terminate()
            pool.join()
        return time.perf_counter() - begin
    finally:
        pool.terminate()
        pool.join()


SIDES: dict[tuple[str, str], Callable[[Params, str], float]] = {
    ("pool-map", "asyncio"): asyncio_pool_map,
    ("pool-map", "threads"): threads_pool_map,
    ("pool-map", "processes"): processes_pool_map,
    ("cpu-bound", "asyncio"): asyncio_cpu_bound,
    ("cpu-bound", "threads"): threads_cpu_bound,
    ("cpu-bound", "processes"): processes_cpu_bound,
    ("http-get", "asyncio"): asyncio_http_get,
    ("http-get", "threads"): threads_http_get,
    ("http-get", "processes"): processes_http_get,
    ("pipeline", "asyncio"): asyncio_pipeline,
    ("pipeline", "threads"): threads_pipeline,
    ("pipeline", "processes"): processes_pipeline,
    ("transfer", "threads"): threads_transfer,
    ("transfer", "processes"): processes_transfer,
    ("deadline", "asyncio"): asyncio_deadline,
    ("deadline", "processes"): processes_deadline,
}


def with_lab(demo: str, model: str, p: Params, url: str) -> float:
    """`lab.run`'s timed region, on the same server."""
    import lab  # noqa: PLC0415

    r = lab.run(demo, model, **p, **({"server": url} if url else {}))
    assert r.elapsed_s is not None and r.correct is not False and not r.error, r.error
    return r.elapsed_s


def main(argv: list[str]) -> int:
    """`alone|lab DEMO MODEL PARAMS_JSON [URL]`: run one side once, print its seconds."""
    side, demo, model, params = argv[:4]
    url = argv[4] if len(argv) > 4 else ""
    p = json.loads(params)
    seconds = with_lab(demo, model, p, url) if side == "lab" else SIDES[demo, model](p, url)
    print(f"{seconds:.6f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
