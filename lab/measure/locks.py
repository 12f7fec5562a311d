"""What one acquire and release of each model's lock costs, uncontended, in the calling process.

The counter demos' times mix the lock with everything else; this isolates it. Each model says
which locks it uses and measures them with these helpers (`Model.lock_costs`);
`lab.studies.lock_costs` asks every model of a report and keeps each lock once.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def per_round(lock: Any, rounds: int) -> float:
    """Seconds per acquire-and-release of a lock with the context-manager protocol."""
    begin = time.perf_counter()
    for _ in range(rounds):
        with lock:
            pass
    return (time.perf_counter() - begin) / rounds


async def per_round_async(lock: Any, rounds: int) -> float:
    """Seconds per acquire-and-release of a lock with the async context-manager protocol."""
    begin = time.perf_counter()
    for _ in range(rounds):
        async with lock:
            pass
    return (time.perf_counter() - begin) / rounds


def in_new_loop(rounds: int) -> float:
    """`per_round_async` of an `asyncio.Lock`, on a new event loop."""
    import asyncio  # noqa: PLC0415 (here: worker processes import this module, and need no loop)

    return asyncio.run(per_round_async(asyncio.Lock(), rounds))


def median_us(measure: Callable[[], float], repeats: int = 5) -> float:
    """The median of several measurements in seconds, in microseconds, rounded to a nanosecond."""
    return round(statistics.median(measure() for _ in range(repeats)) * 1e6, 3)
