"""What the lab itself costs: `pool-map` in each model against the hand-written stdlib equivalent.

    python benchmarks/overhead.py [--tasks 10000] [--workers 2,8] [--pairs 15] [--out FILE]

Part 3 measures what recording a timeline (`timeline=True`) adds per task, lab against lab.

Part 1 measures dispatch: `tasks` tasks that each make one zero-length wait (the lab's `sleep=0`,
the same call in the hand-written code) and return their item. Part 2 measures a real wait: 5
tasks of 0.5 s on 5 workers, where what matters is the time over the ideal. The two sides run
interleaved, in alternating order, `pairs` times; each pair gives a ratio lab/raw, and the
median ratio is reported with the 95% interval of the pairs' geometric mean, for the timed region
(the map alone) and for the whole call (pool or loop start-up and shutdown included: the lab's
processes also wait for every worker to start before the clock, which `Pool` does not). Goal:
the map's ratio <= 1.05; at sleep=0.5, lab - ideal within 2 ms of raw - ideal.

The hand-written side is what a careful programmer would write: `asyncio.gather` with a
`Semaphore` on `asyncio.run`; `ThreadPoolExecutor.map`; `multiprocessing.Pool.map` with its
default chunking (the pool starts its processes when it is made, so its map is timed alone too).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import lab
from lab.demos.pool_map import letters
from lab.measure.stats import Ratio

Timing = tuple[float, float]  # (the map alone, the whole call)


def wait_and_return(item: str, sleep: float = 0.0) -> str:
    """The hand-written task (threads and processes): one wait, then the item back."""
    time.sleep(sleep)
    return item


def wait_half_a_second(item: str) -> str:
    """The same task with a 0.5 s wait (a module-level function: it must pickle)."""
    return wait_and_return(item, 0.5)


def raw_asyncio(items: list[str], workers: int, sleep: float) -> Timing:
    """asyncio.gather with a semaphore, on asyncio.run."""
    started = time.perf_counter()

    async def main() -> float:
        limit = asyncio.Semaphore(workers)

        async def task(item: str) -> str:
            async with limit:
                await asyncio.sleep(sleep)
                return item

        begin = time.perf_counter()
        await asyncio.gather(*(task(item) for item in items))
        return time.perf_counter() - begin

    timed = asyncio.run(main())
    return timed, time.perf_counter() - started


def raw_threads(items: list[str], workers: int, sleep: float) -> Timing:
    """ThreadPoolExecutor.map."""
    started = time.perf_counter()
    task = wait_half_a_second if sleep else wait_and_return
    with ThreadPoolExecutor(workers) as pool:
        begin = time.perf_counter()
        list(pool.map(task, items))
        timed = time.perf_counter() - begin
    return timed, time.perf_counter() - started


def raw_processes(items: list[str], workers: int, sleep: float) -> Timing:
    """multiprocessing.Pool.map with its default chunking."""
    started = time.perf_counter()
    task = wait_half_a_second if sleep else wait_and_return
    with multiprocessing.Pool(workers) as pool:
        begin = time.perf_counter()
        pool.map(task, items)
        timed = time.perf_counter() - begin
    return timed, time.perf_counter() - started


RAW: dict[str, Callable[[list[str], int, float], Timing]] = {
    "asyncio": raw_asyncio,
    "threads": raw_threads,
    "processes": raw_processes,
}


def with_lab(model: str, tasks: int, workers: int, sleep: float) -> Timing:
    """lab.run, timed from outside for the whole call."""
    started = time.perf_counter()
    result = lab.run("pool-map", model, tasks=tasks, workers=workers, sleep=sleep)
    whole = time.perf_counter() - started
    assert result.elapsed_s is not None and result.outputs_ok, result.error
    return result.elapsed_s, whole


def pairs(model: str, tasks: int, workers: int, sleep: float, count: int) -> list[tuple[Timing, Timing]]:
    """`count` (lab, raw) pairs, the order alternating so that neither side always goes first."""
    items = list(letters(tasks))
    out = []
    for i in range(count + 1):
        if i % 2:
            raw = RAW[model](items, workers, sleep)
            mine = with_lab(model, tasks, workers, sleep)
        else:
            mine = with_lab(model, tasks, workers, sleep)
            raw = RAW[model](items, workers, sleep)
        if i:  # the first pair warms both up and is not counted
            out.append((mine, raw))
    return out


def shown(ratio: Ratio) -> str:
    """`1.012 (0.990-1.030)`: the median paired ratio and the 95% interval."""
    return f"{ratio.median:.3f} ({ratio.low:.3f}-{ratio.high:.3f})"


def dispatch_rows(tasks: int, workers_list: list[int], count: int) -> list[str]:
    """Part 1: microseconds per task and the median paired ratios."""
    lines = [f"## Dispatch: {tasks} tasks, sleep=0, median of {count} interleaved pairs", "",
             "Ratio: lab / raw, the median of the paired ratios and the 95% interval of their geometric",
             "mean (`lab.measure.stats.Ratio`): one run of 8 processes on 2 cores gave 1.20 for the map",
             "and the next 1.03, so a single median says little there.", "",
             "| model | workers | lab us/task | raw us/task | ratio (map) | ratio (whole call) |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for model in RAW:
        for workers in workers_list:
            got = pairs(model, tasks, workers, 0.0, count)
            lab_us = statistics.median(m[0] for m, _ in got) / tasks * 1e6
            raw_us = statistics.median(r[0] for _, r in got) / tasks * 1e6
            timed = Ratio.of((m[0], r[0]) for m, r in got)
            whole = Ratio.of((m[1], r[1]) for m, r in got)
            assert timed is not None and whole is not None, "at least one pair"
            figures = f"{lab_us:.2f} | {raw_us:.2f} | {shown(timed)} | {shown(whole)}"
            lines.append(f"| {model} | {workers} | {figures} |")
            print(lines[-1], flush=True)
    return lines


def waiting_rows(count: int) -> list[str]:
    """Part 2: 5 tasks of 0.5 s on 5 workers, time over the ideal on both sides."""
    lines = ["", f"## A real wait: 5 tasks x sleep(0.5), 5 workers, median of {count} pairs", "",
             "| model | lab - ideal ms | raw - ideal ms | difference ms |", "|---|---|---|---|"]  # fmt: skip
    for model in RAW:
        got = pairs(model, 5, 5, 0.5, count)
        mine = statistics.median(m[0] for m, _ in got) - 0.5
        raw = statistics.median(r[0] for _, r in got) - 0.5
        lines.append(f"| {model} | {mine * 1000:.2f} | {raw * 1000:.2f} | {(mine - raw) * 1000:+.2f} |")
        print(lines[-1], flush=True)
    return lines


def recording_rows(tasks: int, workers: int, count: int) -> list[str]:
    """Part 3: what recording a timeline costs, per task: the lab with `timeline=True` against
    the lab without, in pairs, timed region only."""
    title = f"## Recording a timeline: {tasks} tasks, sleep=0, {workers} workers, median of {count} pairs"
    lines = ["", title, "", "| model | off us/task | on us/task | cost us/task | ratio on / off |",
             "|---|---|---|---|---|"]  # fmt: skip
    for model in RAW:
        got = []
        for i in range(count + 1):
            order = (False, True) if i % 2 else (True, False)
            timed = {}
            for record in order:
                r = lab.run("pool-map", model, tasks=tasks, workers=workers, sleep=0.0, timeline=record)
                assert r.elapsed_s is not None and r.outputs_ok, r.error
                timed[record] = r.elapsed_s
            if i:
                got.append((timed[False], timed[True]))
        off = statistics.median(a for a, _ in got) / tasks * 1e6
        on = statistics.median(b for _, b in got) / tasks * 1e6
        ratio = statistics.median(b / a for a, b in got)
        lines.append(f"| {model} | {off:.2f} | {on:.2f} | {on - off:+.2f} | {ratio:.3f} |")
        print(lines[-1], flush=True)
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run both parts, print them as markdown, and save them to --out if given."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--workers", default="2,8", help="comma-separated worker counts")
    parser.add_argument("--pairs", type=int, default=15)
    parser.add_argument("--out", type=Path, help="also write the markdown here")
    args = parser.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",")]
    header = [f"# lab overhead against hand-written stdlib code (Python {sys.version.split()[0]}, "
              f"start method {multiprocessing.get_start_method()})", ""]  # fmt: skip
    print("\n".join(header), flush=True)
    lines = header + dispatch_rows(args.tasks, workers, args.pairs) + waiting_rows(max(3, args.pairs // 2))
    lines += recording_rows(args.tasks, workers[0], max(3, args.pairs // 2))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
