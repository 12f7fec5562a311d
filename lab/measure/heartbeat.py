"""A heartbeat in the caller: how late it woke, every millisecond, while the work ran.

A model's caller is an event loop (asyncio: the heartbeat is a coroutine on it) or a thread of the
lab's process (every other model: the heartbeat is a thread). Each beat asks to sleep `PERIOD_S`
and records how much later than that it woke: a loop that a coroutine keeps busy with CPU work
wakes it late by as long as that work runs; a thread waits for the GIL (about the switch
interval, 5 ms, while other threads compute).

Mind the sampling: a loop blocked for 240 ms yields one late beat among hundreds on time, so a
percentile of beats alone hides it. The summary also gives the worst lateness and the blocked
share: the part of the watched time spent in gaps between beats longer than `BLOCKED_S`.
"""

from __future__ import annotations

import itertools
import math
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

PERIOD_S = 0.001
BLOCKED_S = 0.010  # a gap between beats longer than this counts as time the caller could not run
SERIES_POINTS = 200  # a recorded run's heartbeat course, for its chart: at most this many points


@dataclass
class Beats:
    """The beats of one run: when each woke, and how late."""

    begin: float = field(default_factory=time.perf_counter)
    woke: list[float] = field(default_factory=list)
    late: list[float] = field(default_factory=list)
    end: float | None = None

    def beat(self, asked: float, woke: float) -> None:
        """One beat that asked to wake at `asked` and woke at `woke`."""
        self.woke.append(woke)
        self.late.append(max(0.0, woke - asked))

    def summary(self) -> dict[str, float | int]:
        """p50, p99 and worst lateness, the blocked share of the watched time, and the beat count."""
        end = self.end if self.end is not None else time.perf_counter()
        watched = max(end - self.begin, 1e-9)
        times = [self.begin, *self.woke, end]
        blocked = sum(b - a for a, b in itertools.pairwise(times) if b - a > BLOCKED_S)
        late = sorted(self.late) or [0.0]
        return {
            "heartbeat_p50_s": statistics.median(late),
            "heartbeat_p99_s": late[min(len(late) - 1, math.ceil(0.99 * len(late)) - 1)],
            "heartbeat_max_s": max(late[-1], *(b - a - PERIOD_S for a, b in itertools.pairwise(times))),
            "heartbeat_blocked_share": min(1.0, blocked / watched),
            "heartbeat_beats": len(self.woke),
        }

    def series(self, since: float, points: int = SERIES_POINTS) -> list[list[float]]:
        """The course of the run for a chart: `[seconds since `since`, worst lateness]` per slice,
        the watched time cut into at most `points` slices (a blocked stretch shows as the late
        beat that ends it, at the time it woke)."""
        end = self.end if self.end is not None else time.perf_counter()
        width = max((end - since) / points, PERIOD_S)
        worst: dict[int, float] = {}
        for woke, late in zip(self.woke, self.late, strict=True):
            key = int((woke - since) / width)
            worst[key] = max(worst.get(key, 0.0), late)
        return [[round((key + 1) * width, 6), round(late, 6)] for key, late in sorted(worst.items())]


@contextmanager
def in_a_thread() -> Iterator[Beats]:
    """Beat in a thread of this process while the block runs."""
    beats, stop = Beats(), threading.Event()

    def run() -> None:
        while not stop.is_set():
            asked = time.perf_counter() + PERIOD_S
            time.sleep(PERIOD_S)
            beats.beat(asked, time.perf_counter())

    thread = threading.Thread(target=run, daemon=True, name="lab-heartbeat")
    thread.start()
    try:
        yield beats
    finally:
        stop.set()
        beats.end = time.perf_counter()
        thread.join()


async def on_the_loop(beats: Beats, stop: asyncio.Event) -> None:
    """Beat as a coroutine on the running loop until `stop` is set."""
    # Imported here: every process that runs a task imports this module (through lab.models),
    # and asyncio is 40% of that import; a spawned worker process has no loop to beat on.
    import asyncio  # noqa: PLC0415

    beats.begin = time.perf_counter()
    while not stop.is_set():
        asked = time.perf_counter() + PERIOD_S
        await asyncio.sleep(PERIOD_S)
        beats.beat(asked, time.perf_counter())
    beats.end = time.perf_counter()
