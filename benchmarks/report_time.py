"""Where a report's time goes: the quick report's runs, timed one by one, by section and demo.

    python benchmarks/report_time.py [--scale quick] [--trials 3] [--out FILE]

Runs what `lab report` runs, in its order (`lab.studies.suite.plan_suite` and `schedule`), and
times each trial whole with `time.perf_counter` (the run's start-up and shutdown included, which
the report's own `elapsed` leaves out), then the lock costs, the HTTP server's ceiling and the
publishing (charts, JSON, markdown, into a temporary folder). It prints a markdown table: each
section's seconds, and within it each demo's, with the share of the work that was the timed
region, the start-up, or neither (the lab's own bookkeeping between runs).
"""

from __future__ import annotations

import argparse
import collections
import tempfile
import time
from pathlib import Path

from lab.http import ceiling
from lab.http.server import KEEPER
from lab.measure import locks
from lab.measure.environment import collect
from lab.models import MODELS
from lab.results import Result, ResultsFile, RunInfo
from lab.runner import run_trials
from lab.studies.reporting import publish
from lab.studies.scales import SCALES
from lab.studies.suite import Run, plan_suite, schedule


def section(run: Run) -> str:
    """The part of the report a run is measured for."""
    return "timelines" if run.timeline else "race statistics" if run.race else "tables and sweeps"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="quick", choices=sorted(SCALES))
    parser.add_argument("--trials", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args()
    scale = SCALES[args.scale]
    trials = args.trials or scale.trials
    began = time.perf_counter()
    runs, _ = plan_suite(scale)
    wall: dict[tuple[str, str], float] = collections.defaultdict(float)
    timed: dict[tuple[str, str], float] = collections.defaultdict(float)
    started: dict[tuple[str, str], float] = collections.defaultdict(float)
    results: list[Result] = []
    with KEEPER.keep():
        for run, _, _ in schedule(runs, trials):
            options = {**run.variant.options, **run.params, **({"timeline": True} if run.timeline else {})}
            clock = time.perf_counter()
            [result] = run_trials(run.demo, run.variant.model, 1, **options)
            key = (section(run), run.demo)
            wall[key] += time.perf_counter() - clock
            timed[key] += result.elapsed_s or 0.0
            started[key] += result.startup_s or 0.0
            results.append(result)
        clock = time.perf_counter()
        ran = [MODELS[name] for name in dict.fromkeys(r.variant.model for r in runs) if name in MODELS]
        locks.measure(ran)
        wall[("lock costs", "")] = time.perf_counter() - clock
        clock = time.perf_counter()
        ceiling.measure()
        wall[("server ceiling", "")] = time.perf_counter() - clock
    doc = ResultsFile(tuple(results), collect(), RunInfo(scale=scale.name, trials=trials))
    clock = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        publish(doc, Path(folder))
    wall[("publishing", "")] = time.perf_counter() - clock
    total = time.perf_counter() - began

    lines = [
        f"`python benchmarks/report_time.py --scale {scale.name}`: {total:.1f} s in all, "
        f"{len(results)} trials ({trials} a row), each timed whole.",
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
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
