"""A pool's start-up written by hand, as small as a user's script: the other side of
`benchmarks/alone.py`'s start-up rows, which compare it with the `lab` command's `startup_s`.

    python benchmarks/pool_start.py '{"start_method": "spawn", "workers": 5, "tasks": 5, "sleep": 0.05}'

It prints what the lab counts as start-up: a `ProcessPoolExecutor` of the start method made and
every worker at the start line, then, after the map of sleeps, the pool shut down. It imports
only what that needs: a worker started by spawn or forkserver imports this script again as its
`__main__` (as the `lab` command's workers import the `lab` script), so whatever it imported at
the top would be start-up too (`benchmarks/handwritten.py` imports asyncio, aiohttp's and
requests' code paths, and each spawned worker would pay for them).
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

start_line: Any = None


def wait_at(barrier: Any) -> None:
    """Each worker's initializer: keep the start line."""
    global start_line
    start_line = barrier


def line_up(_: object) -> None:
    """Wait at the start line until every worker is there: under spawn and forkserver the executor
    starts a process only when none is idle, so a round of tasks that return at once may start one."""
    start_line.wait()


def pool_start(p: dict[str, Any]) -> float:
    """Start-up seconds: the pool made and lined up, plus its shutdown after the map."""
    context = multiprocessing.get_context(p.get("start_method"))
    begin = time.perf_counter()
    with ProcessPoolExecutor(
        p["workers"], mp_context=context, initializer=wait_at, initargs=(context.Barrier(p["workers"]),)
    ) as pool:
        list(pool.map(line_up, range(p["workers"])))
        started = time.perf_counter()
        list(pool.map(time.sleep, [p["sleep"]] * p["tasks"]))
        mapped = time.perf_counter()
    return started - begin + time.perf_counter() - mapped


if __name__ == "__main__":
    print(f"{pool_start(json.loads(sys.argv[1])):.6f}")
