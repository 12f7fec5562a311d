"""mixed: each variant's time and heartbeat, beside a hand-written asyncio script, on one server.

    python benchmarks/mixed.py [--trials 5] [--out FILE]
    python benchmarks/mixed.py --sweep-rounds 0,50000,100000,200000,400000 [--trials 3] [--out FILE]

Runs `lab run mixed` at its default sizes (32 items, each a GET with 0.05 s latency, then 300,000
rounds of pure-Python work on the body, 8 in flight) in asyncio with each `offload`, and in the
other models, medians over `--trials`. Beside them, the same job hand-written: one
`aiohttp.ClientSession`, `gather` under a `Semaphore(8)`, the CPU part inline or in a
`ProcessPoolExecutor` started before the clock, with a heartbeat coroutine that sleeps 1 ms and
records how late it woke. Everything runs against one `LocalServer`.

With `--sweep-rounds`, only the lab's variants run, at each CPU share (`rounds` per item), and the
table ends with each variant's break-even: the fewest rounds at which it beat the CPU inline in
the coroutine (asyncio's default variant) by more than 10%.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp

import lab
from lab.demos.mixed import DEMO as MIXED
from lab.http.server import LocalServer
from lab.measure.environment import usable_cores
from lab.models import MODELS
from lab.models.tasks import work_on
from lab.studies.suite import variants

SIZES = dict(MIXED.defaults) | {"server": None}


def hand_written(url: str, *, offload: str) -> tuple[float, float]:
    """(elapsed, worst heartbeat lateness) of the job written by hand."""
    tasks, latency, size = SIZES["tasks"], SIZES["latency"], SIZES["size"]
    rounds, workers = SIZES["rounds"], SIZES["workers"]

    async def main(pool: ProcessPoolExecutor | None) -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        limit, worst, done = asyncio.Semaphore(workers), [0.0], asyncio.Event()

        async def heartbeat() -> None:
            while not done.is_set():
                asked = time.perf_counter() + 0.001
                await asyncio.sleep(0.001)
                worst[0] = max(worst[0], time.perf_counter() - asked)

        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=workers)) as session:

            async def item(i: int) -> int:
                async with limit, session.get(f"{url}/{i}?latency={latency}&size={size}") as r:
                    data = await r.read()
                if pool is None:
                    return work_on(data, rounds)
                return await loop.run_in_executor(pool, work_on, data, rounds)

            beat = asyncio.create_task(heartbeat())
            begin = time.perf_counter()
            await asyncio.gather(*(item(i) for i in range(tasks)))
            elapsed = time.perf_counter() - begin
            done.set()
            await beat
        return elapsed, worst[0]

    if offload == "process":
        cores = usable_cores()
        with ProcessPoolExecutor(cores) as pool:
            list(pool.map(int, range(cores)))  # every process started before the clock
            return asyncio.run(main(pool))
    return asyncio.run(main(None))


def with_lab(model: str, options: dict[str, str], url: str, rounds: int | None = None) -> tuple[float, float]:
    """(elapsed, worst heartbeat lateness) of `lab.run` (at `rounds` per item, if given)."""
    sizes = SIZES | {"server": url} | ({} if rounds is None else {"rounds": rounds})
    r = lab.run("mixed", model, **options, **sizes)
    assert r.elapsed_s is not None and r.correct and r.outputs_ok and r.metrics, r.error
    return r.elapsed_s, float(r.metrics["heartbeat_max_s"])


def runnable() -> list[tuple[str, str, dict[str, str]]]:
    """(label, model, options) of every variant the report runs for mixed (asyncio: each offload)
    that can run here; asyncio's default variant (the CPU inline) first."""
    found = []
    for name in MODELS:
        declared = MODELS[name]
        for variant in variants(name, "mixed"):
            if declared.unavailable({**declared.default_options(), **variant.options}) is None:
                found.append((variant.label, name, dict(variant.options)))
    inline = [f for f in found if MODELS[f[1]].asynchronous and f[2] == MODELS[f[1]].default_options()]
    return inline + [f for f in found if f not in inline]


def sweep_rounds(
    sides: list[tuple[str, str, dict[str, str]]], counts: list[int], trials: int, out: Path | None
) -> int:
    """Each variant at each CPU share; each one's break-even against the first (the CPU inline)."""
    p = SIZES
    lines = [
        f"# mixed over the CPU share: the lab's variants (Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs)",
        "",
        f"{p['tasks']} items, {p['workers']} in flight, a GET with {p['latency']:g} s latency, then `rounds` "
        f"on the body; medians of {trials} trials: seconds (the heartbeat's worst lateness, ms).",
        "",
        "| rounds | " + " | ".join(label for label, _, _ in sides) + " |",
        "|---|" + "---|" * len(sides),
    ]
    print("\n".join(lines), flush=True)
    medians: dict[tuple[str, int], float] = {}
    with LocalServer() as server:
        for rounds in counts:
            cells = []
            for label, name, options in sides:
                got = [with_lab(name, options, server.url, rounds) for _ in range(trials)]
                medians[label, rounds] = statistics.median(e for e, _ in got)
                worst = statistics.median(w for _, w in got)
                cells.append(f"{medians[label, rounds]:.3f} ({worst * 1000:.0f})")
            lines.append(f"| {rounds:,} | " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    inline = sides[0][0]
    lines += ["", f"Break-even against {inline} (faster by more than 10%):", ""]
    for label, _, _ in sides[1:]:
        wins = [r for r in counts if medians[label, r] * 1.10 < medians[inline, r]]
        lines.append(
            f"- {label}: " + (f"from {wins[0]:,} rounds per item" if wins else "never, in this range")
        )
    print("\n".join(lines[-len(sides) - 2 :]), flush=True)
    if out:
        out.write_text("\n".join(lines) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Every variant's medians, then the hand-written script's, as a markdown table."""
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--sweep-rounds", help="comma-separated rounds per item: the lab's variants at each")
    args = parser.parse_args(argv)
    lab_sides = runnable()
    if args.sweep_rounds:
        return sweep_rounds(lab_sides, [int(x) for x in args.sweep_rounds.split(",")], args.trials, args.out)
    sides: list[tuple[str, Callable[[str], tuple[float, float]]]] = [
        (f"lab {label}", partial(with_lab, name, options)) for label, name, options in lab_sides
    ]
    sides.append(("hand-written asyncio, CPU inline", partial(hand_written, offload="none")))
    sides.append(("hand-written asyncio, CPU in a process pool", partial(hand_written, offload="process")))
    p = SIZES
    lines = [
        f"# mixed: the lab's variants and a hand-written script (Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs)",
        "",
        f"{p['tasks']} items, {p['workers']} in flight: a GET with {p['latency']:g} s latency, then "
        f"{p['rounds']:,} rounds on the body; medians of {args.trials} trials; worst: the heartbeat's "
        "worst lateness (1 ms period).",
        "",
        "| side | median s | worst lateness ms (median) |",
        "|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    got: dict[str, list[Any]] = {}
    with LocalServer() as server:
        for _ in range(args.trials):  # interleaved: each trial runs every side once
            for name, side in sides:
                got.setdefault(name, []).append(side(server.url))
    for name, _ in sides:
        elapsed = statistics.median(e for e, _ in got[name])
        worst = statistics.median(w for _, w in got[name])
        lines.append(f"| {name} | {elapsed:.3f} | {worst * 1000:.1f} |")
        print(lines[-1], flush=True)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
