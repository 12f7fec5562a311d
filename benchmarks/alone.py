"""The lab against hand-written code that runs alone, each side in its own fresh process.

    python benchmarks/alone.py [--pairs 9] [--only http-get] [--out reports/overhead.md]
    python benchmarks/alone.py --only start-up     # start-up, the `lab` command against a pool by hand
    python benchmarks/alone.py --only pipeline --affinity 0   # each side pinned to one CPU

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
from functools import partial
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

# Start-up (`startup_s`: the pool made, every worker at the start line, the pool shut down) in
# each start method: the `lab` command, whose spawned and forkserver workers import the `lab`
# script as their `__main__` and the lab's task module, as a user's `lab run` does, against a
# pool made by hand in a script as small as it can be (`benchmarks/pool_start.py`).
START_UPS: list[tuple[str, str, dict[str, Any]]] = [
    ("pool-map", "processes", {"tasks": 5, "sleep": 0.05, "workers": 5, "start_method": method})
    for method in multiprocessing.get_all_start_methods()
]
START_UP = "start-up"  # their rows' name in the table, and for --only


def command(which: str, demo: str, model: str, params: dict[str, Any], url: str, *, figure: str) -> list[str]:
    """The command line of one side: `benchmarks/handwritten.py`'s for a timed region; for a
    start-up, the `lab` command beside this Python, or `benchmarks/pool_start.py`."""
    if figure == "elapsed":
        return [sys.executable, str(HERE / "handwritten.py"), which, demo, model, json.dumps(params), url]
    if which == "alone":
        return [sys.executable, str(HERE / "pool_start.py"), json.dumps(params)]
    flags = [x for k, v in params.items() for x in (f"--{k.replace('_', '-')}", str(v))]
    lab = Path(sys.executable).parent / "lab"
    if not lab.exists():
        raise SystemExit(f"{lab} is not there: the start-up rows run the `lab` command (pip install -e .)")
    return [str(lab), "run", demo, "--models", model, *flags, "--trials", "1", "--json"]


def side(
    which: str,
    demo: str,
    model: str,
    params: dict[str, Any],
    url: str,
    *,
    figure: str = "elapsed",
    cpus: set[int] | None = None,
) -> float:
    """One side, once, in a fresh process: its timed region's seconds (`figure` "startup": its
    start-up's), the process pinned to `cpus` if given."""
    argv = command(which, demo, model, params, url, figure=figure)
    pin = None if cpus is None else partial(os.sched_setaffinity, 0, cpus)
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300, preexec_fn=pin)
    if done.returncode:
        raise SystemExit(f"{which} {demo} {model} failed:\n{done.stderr}")
    if which == "lab" and figure == "startup":
        return float(json.loads(done.stdout)[0]["startup_s"])
    return float(done.stdout.split()[-1])


def pairs(
    demo: str,
    model: str,
    params: dict[str, Any],
    url: str,
    count: int,
    *,
    figure: str = "elapsed",
    cpus: set[int] | None = None,
) -> list[tuple[float, float]]:
    """`count` (lab, alone) pairs, the order alternating; one uncounted pair first."""
    got = []
    for i in range(count + 1):
        order = ("lab", "alone") if i % 2 else ("alone", "lab")
        seconds = {w: side(w, demo, model, params, url, figure=figure, cpus=cpus) for w in order}
        if i:
            got.append((seconds["lab"], seconds["alone"]))
    return got


def cpu_list(text: str) -> set[int]:
    """`--affinity`'s value: '0' or '0,1', CPUs this process may use."""
    try:
        cpus = {int(part) for part in text.split(",")}
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of CPU numbers such as 0 or 0,1") from None
    if not cpus <= os.sched_getaffinity(0):
        raise argparse.ArgumentTypeError(f"{text!r}: the CPUs here are {sorted(os.sched_getaffinity(0))}")
    return cpus


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
    parser.add_argument("--only", nargs="+", help=f"only these demos ({START_UP!r}: the start-up rows)")
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--affinity",
        type=cpu_list,
        help="pin each side's process to these CPUs, as pyperf's option of that name: '0' or '0,1' "
        "(two threads handing the GIL to each other across cores run in modes 2-3x apart; on one "
        "core they do not)",
    )
    args = parser.parse_args(argv)
    began = time.perf_counter()
    only = f" --only {' '.join(args.only)}" if args.only else ""
    only += f" --affinity {','.join(map(str, sorted(args.affinity)))}" if args.affinity else ""
    lines = [
        "# The lab against hand-written code that runs alone",
        "",
        f"`python benchmarks/alone.py --pairs {args.pairs}{only}`: Python {sys.version.split()[0]}, "
        f"start method {multiprocessing.get_start_method()}, {len(os.sched_getaffinity(0))} usable CPUs"
        + (f", each side pinned to CPU {','.join(map(str, sorted(args.affinity)))}" if args.affinity else "")
        + ". Each side runs once per fresh process, the lab's `lab.run` against the hand-written code of "
        "`benchmarks/handwritten.py`, in alternating order on one server; the first pair is not "
        "counted. Ratio: lab / alone, the median of the paired ratios and the 95% interval of "
        "their geometric mean. Goal: within 1.10, and 1.05 where the work takes over 0.1 s; met where "
        "the whole interval is within it, missed where the whole interval is above it, undecided "
        "between."
        + (
            f" The {START_UP} rows compare start-up (`startup_s`: the pool made, every worker at the start "
            "line, the pool shut down): the `lab` command (`lab run pool-map --models processes "
            "--start-method M --json`, whose workers import the `lab` script as theirs) against "
            "`benchmarks/pool_start.py`, a pool made by hand in a script that imports no more than it needs."
            if not args.only or START_UP in args.only
            else ""
        ),
        "",
        "| demo | model | parameters | lab median s | alone median s | lab / alone | 95% interval | goal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    rows = [(demo, model, params, "elapsed") for demo, model, params in ROWS]
    rows += [(demo, model, params, "startup") for demo, model, params in START_UPS]
    with LocalServer() as server:
        for demo, model, params, figure in rows:
            name = demo if figure == "elapsed" else f"{demo} {START_UP}"
            if args.only and (START_UP if figure == "startup" else demo) not in args.only:
                continue
            url = server.url if demo == "http-get" else ""
            got = pairs(demo, model, params, url, args.pairs, figure=figure, cpus=args.affinity)
            ratio = Ratio.of(got)
            assert ratio is not None
            alone = statistics.median(a for _, a in got)
            goal = 1.05 if alone > 0.1 else 1.10
            met = judged(ratio, goal)
            lines.append(
                f"| {name} | {model} | {describe(params)} | {statistics.median(m for m, _ in got):.4f} | "
                f"{alone:.4f} | {ratio.median:.3f} | {ratio.low:.3f}-{ratio.high:.3f} | {goal:.2f}: {met} |"
            )
            print(lines[-1], flush=True)
    lines += ["", f"Took {time.perf_counter() - began:.0f} s."]
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
