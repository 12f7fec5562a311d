"""Where a report's time goes: the quick report's runs, timed one by one, by section and demo.

    python benchmarks/report_time.py [--scale quick] [--trials 3] [--models M ...] [--out FILE]

Runs what `lab report` runs (`lab.reporting.report`, extra rounds included) and times
each trial whole with `time.perf_counter` (the run's start-up and shutdown included, which the
report's own `elapsed` leaves out), the rest of `report` (planning, the lock costs, the HTTP
server's ceiling), and the publishing (charts, JSON, markdown, into a temporary folder). It
prints a markdown table: each section's seconds, and within it each demo's, with the share of
the work that was the timed region, the start-up, or neither (the lab's own bookkeeping between
runs); and, since the same report takes half as long on this machine one day as another, how
fast the machine was while it ran: the report's own A/A check (one variant run twice a round),
whose median is one core's speed, and the CPU time the host took back (steal, Linux). The extra
rounds (`Scale.extra_rounds`: the rows the first trials left undecided) are a section of their own.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lab.results import Result, ResultsFile
    from lab.studies.suite import Run

# The lab is imported in `main`: spawned and forkserver workers import this script as their
# `__main__`, and what it imports at the top would count in their start-up, which a user's
# `lab report` (whose `__main__` imports only `lab.cli`) does not pay.


def stolen_s() -> float | None:
    """CPU seconds the host has taken from this machine since boot (the steal column of
    /proc/stat, in clock ticks), or None where there is no such file."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def speed(doc: ResultsFile, stolen: float | None) -> str:
    """The machine's speed while the report ran, in words."""
    from lab.demos import describe  # noqa: PLC0415

    twins = [r.elapsed_s for r in doc.noise if r.elapsed_s is not None]
    parts = []
    if twins:
        r = doc.noise[0]
        parts.append(f"its A/A check ({r.demo}, {r.variant}, {describe(r.demo, r.params)}) took a median "
                     f"{statistics.median(twins):.3f} s ({len(twins)} runs)")  # fmt: skip
    if stolen is not None:
        parts.append(f"the host took {stolen:.1f} s of CPU back (steal)")
    return "; ".join(parts)


def section(run: Run) -> str:
    """The part of the report a run is measured for."""
    return "timelines" if run.timeline else "race statistics" if run.race else "tables and sweeps"


def main() -> None:
    from lab.reporting import publish, report  # noqa: PLC0415
    from lab.studies.scales import SCALES  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", default="quick", choices=sorted(SCALES))
    parser.add_argument("--trials", type=int, default=None)
    parser.add_argument("--models", nargs="+", default=None, help="only these models (default: all)")
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args()
    wall: dict[tuple[str, str], float] = collections.defaultdict(float)
    timed: dict[tuple[str, str], float] = collections.defaultdict(float)
    started: dict[tuple[str, str], float] = collections.defaultdict(float)
    count = [0]

    trials = args.trials or SCALES[args.scale].trials
    seen: dict[int, int] = collections.Counter()

    def observe(run: Run, result: Result, seconds: float) -> None:
        count[0] += 1
        seen[id(run)] += 1
        # A run's trials past the scale's are the extra rounds of a row left undecided.
        key = ("extra rounds" if not run.race and seen[id(run)] > trials else section(run), run.demo)
        wall[key] += seconds
        timed[key] += result.elapsed_s or 0.0
        started[key] += result.startup_s or 0.0

    began, steal = time.perf_counter(), stolen_s()
    doc = report(args.scale, trials=args.trials, models=args.models, observe=observe)
    # What `report` does besides the trials: planning, the lock costs, the server's ceiling.
    wall[("lock costs, server ceiling, planning", "")] = time.perf_counter() - began - sum(wall.values())
    clock = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        publish(doc, Path(folder))
    wall[("publishing", "")] = time.perf_counter() - clock
    total = time.perf_counter() - began
    stole = stolen_s()
    said = speed(doc, stole - steal if stole is not None and steal is not None else None)
    models = f" --models {' '.join(args.models)}" if args.models else ""
    header = (
        f"`python benchmarks/report_time.py --scale {args.scale}{models}`: {total:.1f} s in all, "
        f"{count[0]} trials ({doc.run.trials} a row, extra rounds included), each timed whole"
        + (f"; while it ran, {said}." if said else ".")
    )
    text = table(header, wall, timed, started)
    print(text)
    if args.out:
        args.out.write_text(text)


def table(
    header: str, wall: dict[tuple[str, str], float], timed: dict[tuple[str, str], float],
    started: dict[tuple[str, str], float],
) -> str:  # fmt: skip
    """Each section's seconds, and within it each demo's, with the shares of its time."""
    lines = [
        header,
        "",
        "| section | demo | s | timed region | start-up | neither |",
        "|---|---|---|---|---|---|",
    ]
    sections: dict[str, float] = collections.defaultdict(float)
    for (name, _), seconds in wall.items():
        sections[name] += seconds
    for name in sorted(sections, key=lambda n: -sections[n]):
        lines.append(f"| **{name}** | | **{sections[name]:.1f}** | | | |")
        for (part, demo), seconds in sorted(wall.items(), key=lambda kv: -kv[1]):
            if part == name and demo:
                key = (part, demo)
                rest = seconds - timed[key] - started[key]
                lines.append(
                    f"| | {demo} | {seconds:.1f} | {timed[key] / seconds:.0%} | "
                    f"{started[key] / seconds:.0%} | {rest / seconds:.0%} |"
                )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
