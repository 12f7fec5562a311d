"""What one acquire and release of each model's lock costs, uncontended, in the calling process.

The counter demos' times mix the lock with everything else; this isolates it. A `Manager().Lock()`
is a proxy: each acquire and each release is a round trip over a socket to the manager process.
A `distributed.Lock` (model dask, when installed) lives in the Dask scheduler: it is timed from a
worker process of a one-worker local cluster, as the counter demo's tasks use it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from lab.models.cluster import Dask, dist, local_cluster

ROUNDS = {
    "threading.Lock": 20_000,
    "asyncio.Lock": 20_000,
    "multiprocessing.Lock": 20_000,
    "Manager().Lock()": 300,
    "distributed.Lock": 100,
}


def per_round(lock: Any, rounds: int) -> float:
    """Seconds per acquire-and-release of a lock with the context-manager protocol."""
    begin = time.perf_counter()
    for _ in range(rounds):
        with lock:
            pass
    return (time.perf_counter() - begin) / rounds


async def per_round_async(rounds: int) -> float:
    """Seconds per acquire-and-release of an asyncio.Lock."""
    lock = asyncio.Lock()
    begin = time.perf_counter()
    for _ in range(rounds):
        async with lock:
            pass
    return (time.perf_counter() - begin) / rounds


def median_of(measure: Callable[[], float], repeats: int = 5) -> float:
    """The median of several measurements, in microseconds."""
    return statistics.median(measure() for _ in range(repeats)) * 1e6


def measure(start_method: str | None = None) -> dict[str, float]:
    """Microseconds per acquire and release for each lock the models use."""
    context = multiprocessing.get_context(start_method)
    costs = {
        "threading.Lock": median_of(lambda: per_round(threading.Lock(), ROUNDS["threading.Lock"])),
        "asyncio.Lock": median_of(lambda: asyncio.run(per_round_async(ROUNDS["asyncio.Lock"]))),
        "multiprocessing.Lock": median_of(lambda: per_round(context.Lock(), ROUNDS["multiprocessing.Lock"])),
    }
    with context.Manager() as manager:
        lock = manager.Lock()
        costs["Manager().Lock()"] = median_of(lambda: per_round(lock, ROUNDS["Manager().Lock()"]))
    if Dask.unavailable({}) is None:
        with local_cluster(1) as client:
            # Five measurements in the worker, as for the other locks; their median.
            rounds = ROUNDS["distributed.Lock"]
            costs["distributed.Lock"] = client.submit(distributed_lock_us, rounds).result()
    return {name: round(us, 3) for name, us in costs.items()}


def distributed_lock_us(rounds: int) -> float:
    """Run on a Dask worker: the median of five measurements of a `distributed.Lock`, in us."""
    lock = dist().Lock(f"lab-lockcost-{os.getpid()}")
    return median_of(lambda: per_round(lock, rounds))
