"""The lab against hand-written code that runs alone, each side in its own fresh process.

    python benchmarks/alone.py [--pairs 9] [--only http-get] [--out reports/overhead.md]

For every row, the lab (`lab.run`, in a new `python` process) and the hand-written equivalent
(`benchmarks/handwritten.py`, in another; it imports nothing of the lab) run
in alternation, the order flipping each pair, against one server started for the whole benchmark
(`lab serve`'s, in a process of its own) where the demo has one. Each process runs its side once
and prints its timed region: the map alone, workers made before the clock, as the lab times it;
so the first, cold trial of a process is what is compared, which is what `lab run` reports. The
first pair warms the machine and is not counted. Reported per row: each side's median, the
median of the paired ratios lab / alone and the geometric mean's 95% interval
(`lab.measure.stats.Ratio`); the goal is a ratio within 1.10, and 1.05 where the work takes
longer than 0.1 s, judged by the interval (`judged`): a median under the goal with an interval
far over it is not a goal met.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from lab.http.server import LocalServer
from lab.measure.stats import Ratio

HERE = Path(__file__).parent
ROWS: list[tuple[str, str, dict[str, Any]]] = [
    ("pool-map", "asyncio", {"tasks": 5, "sleep": 0.05, "workers": 5}),
    ("pool-map", "threads", {"tasks": 5, "sleep": 0.05, "workers": 5}),
    ("pool-map", "processes", {"tasks": 5, "sleep": 0.05, "workers": 5}),
    ("cpu-bound", "asyncio", {"tasks": 4, "rounds": 500_000, "workers": 4}),
    ("cpu-bound", "threads", {"tasks": 4, "rounds": 500_000, "workers": 4}),
    ("cpu-bound", "threads", {"tasks": 4, "rounds": 500_000, "workers": 4, "kernel": "hashlib"}),
    ("cpu-bound", "processes", {"tasks": 4, "rounds": 500_000, "workers": 4}),
    ("cpu-bound", "processes", {"tasks": 4, "rounds": 500_000, "workers": 4, "kernel": "hashlib"}),
    # Real Python's shape; all of it in flight at once; threads at Real Python's own scale.
    ("http-get", "asyncio", {"requests": 160, "workers": 100, "latency": 0.02}),
    ("http-get", "asyncio", {"requests": 1000, "workers": 1000, "latency": 0.02}),
    ("http-get", "threads", {"requests": 200, "workers": 20, "latency": 0.02}),
    ("http-get", "processes", {"requests": 200, "workers": 20, "latency": 0.02}),
    # One producer, one consumer, 20,000 messages of 100 B (issue 26's hand measurement).
    ("pipeline", "asyncio", {"messages": 20_000, "size": 100}),
    ("pipeline", "threads", {"messages": 20_000, "size": 100}),
    ("pipeline", "processes", {"messages": 20_000, "size": 100}),
    # Four tasks, 10 MB each: the moving alone (rounds 0), pickled or shared by name, then with work.
    ("transfer", "threads", {"tasks": 4, "size": 10_000_000, "rounds": 0}),
    ("transfer", "processes", {"tasks": 4, "size": 10_000_000, "rounds": 0}),
    ("transfer", "processes", {"tasks": 4, "size": 10_000_000, "rounds": 0, "via": "shared"}),
    ("transfer", "processes", {"tasks": 4, "size": 10_000_000, "rounds": 100}),
    ("transfer", "processes", {"tasks": 4, "size": 10_000_000, "rounds": 100, "via": "shared"}),
    # Five tasks of 2 s stopped at 0.5 s (issue 27's hand measurement): the time to every task
    # stopped, cancelled, told by an event, or terminated.
    ("deadline", "asyncio", {"tasks": 5, "work": 2.0, "deadline": 0.5, "step": 0.01, "kind": "sleep"}),
    ("deadline", "processes", {"tasks": 5, "work": 2.0, "deadline": 0.5, "step": 0.01, "kind": "sleep"}),
    (
        "deadline",
        "processes",
        {"tasks": 5, "work": 2.0, "deadline": 0.5, "step": 0.01, "kind": "cpu", "stop": "terminate"},
    ),
]


def side(which: str, demo: str, model: str, params: dict[str, Any], url: str) -> float:
    """One side, once, in a fresh process: its timed region's seconds."""
    argv = [sys.executable, str(HERE / "handwritten.py"), which, demo, model, json.dumps(params), url]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    if done.returncode:
        raise SystemExit(f"{which} {demo} {model} failed:\n{done.stderr}")
    return float(done.stdout.split()[-1])


def pairs(demo: str, model: str, params: dict[str, Any], url: str, count: int) -> list[tuple[float, float]]:
    """`count` (lab, alone) pairs, the order alternating; one uncounted pair first."""
    got = []
    for i in range(count + 1):
        order = ("lab", "alone") if i % 2 else ("alone", "lab")
        seconds = {which: side(which, demo, model, params, url) for which in order}
        if i:
            got.append((seconds["lab"], seconds["alone"]))
    return got


def describe(params: dict[str, Any]) -> str:
    """`tasks=4 rounds=500000 workers=4`."""
    return " ".join(f"{k}={v}" for k, v in params.items())


def judged(ratio: Ratio, goal: float) -> str:
    """Whether the lab is within `goal` of the hand-written code, as the interval decides it:
    `met` (the whole interval at or under the goal), `**missed**` (the whole interval above it),
    or `undecided` (the interval straddles it: more pairs, or a quieter machine, would tell)."""
    if ratio.n >= 2 and ratio.high <= goal:
        return "met"
    if ratio.n >= 2 and ratio.low > goal:
        return "**missed**"
    return "undecided"


def main(argv: list[str] | None = None) -> int:
    """Every row's pairs, as a markdown table (printed, and written with --out)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=9)
    parser.add_argument("--only", nargs="+", help="only these demos")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    only = f" --only {' '.join(args.only)}" if args.only else ""
    lines = [
        "# The lab against hand-written code that runs alone",
        "",
        f"`python benchmarks/alone.py --pairs {args.pairs}{only}`: Python {sys.version.split()[0]}, "
        f"start method {multiprocessing.get_start_method()}, {len(os.sched_getaffinity(0))} usable CPUs. "
        "Each side runs once per fresh process, the lab's `lab.run` against the hand-written code of "
        "`benchmarks/handwritten.py`, in alternating order on one server; the first pair is not "
        "counted. Ratio: lab / alone, the median of the paired ratios and the 95% interval of "
        "their geometric mean. Goal: within 1.10, and 1.05 where the work takes over 0.1 s; met where "
        "the whole interval is within it, missed where the whole interval is above it, undecided "
        "between.",
        "",
        "| demo | model | parameters | lab median s | alone median s | lab / alone | 95% interval | goal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    with LocalServer() as server:
        for demo, model, params in ROWS:
            if args.only and demo not in args.only:
                continue
            url = server.url if demo == "http-get" else ""
            got = pairs(demo, model, params, url, args.pairs)
            ratio = Ratio.of(got)
            assert ratio is not None
            alone = statistics.median(a for _, a in got)
            goal = 1.05 if alone > 0.1 else 1.10
            met = judged(ratio, goal)
            lines.append(
                f"| {demo} | {model} | {describe(params)} | {statistics.median(m for m, _ in got):.4f} | "
                f"{alone:.4f} | {ratio.median:.3f} | {ratio.low:.3f}-{ratio.high:.3f} | {goal:.2f}: {met} |"
            )
            print(lines[-1], flush=True)
    lines += ["", f"Took {time.perf_counter() - began:.0f} s."]
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
