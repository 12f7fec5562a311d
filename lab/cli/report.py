"""`lab report`: run the suite (or read `--from`), then write <stem>.json, <stem>.md and the charts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from lab.cli.common import Interrupted, draw_charts, draw_races, draw_timelines, stamp, whole, write_report
from lab.http import ceiling
from lab.measure import locks
from lab.measure.environment import collect
from lab.models import MODELS
from lab.params import check_int
from lab.results import ResultsFile, prepare_folder
from lab.runner import choose
from lab.studies import across, pythons
from lab.studies.scales import SCALES
from lab.studies.suite import SuiteInterrupted, plan_suite, run_suite


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `report` subcommand's arguments."""
    report = sub.add_parser("report", help="run every demo in every variant and write a markdown report")
    report.add_argument(
        "--out", default="reports", help="folder for <stem>.md and <stem>.json (default: reports)"
    )
    report.add_argument(
        "--scale", default="quick", help="quick (default, under a minute) or article (minutes)"
    )
    report.add_argument("--trials", type=whole, help="trials per row (quick: 3, article: 2)")
    report.add_argument("--demos", nargs="+", help="only these demos")
    report.add_argument("--models", nargs="+", help="only these models")
    report.add_argument("--from", dest="source", help="re-render this results JSON without running anything")
    report.add_argument("--quiet", action="store_true", help="no progress display")
    report.add_argument("--warmup", action="store_true", help="one uncounted warm-up trial per row")
    report.add_argument(
        "--python",
        action="append",
        metavar="PY",
        help="run the report with this Python too (a path, python3.12, or 3.13); repeat for more: "
        "one report with the interpreter as a dimension",
    )


def command(args: argparse.Namespace) -> int:
    """`lab report`: run the suite (or read `--from`), then write <stem>.json and <stem>.md."""
    out = Path(args.out)
    if args.source:
        doc = ResultsFile.load(args.source)
        prepare_folder(out)
        draw_charts(out, str(doc.run.get("stem")), doc.sweeps)
        draw_timelines(out, str(doc.run.get("stem")), doc.timelines)
        draw_races(out, str(doc.run.get("stem")), doc.races)
        write_report(out, doc)
        return 0
    scale = SCALES[choose("scale", args.scale, SCALES)]
    trials = scale.trials if args.trials is None else check_int("trials", args.trials, 1)
    runs, skipped = plan_suite(scale, args.demos, args.models)
    prepare_folder(out)  # fail before running, not after
    if args.python:
        return across_pythons(args, out, scale.name, trials)
    environment = collect(args.argv)
    stem = f"lab-report-{scale.name}-{stamp(environment)}"
    run = {"scale": scale.name, "trials": trials, "warmup": args.warmup, "skipped": skipped,
           "partial": False, "stem": stem}  # fmt: skip
    try:
        measured = run_suite(runs, trials, args.quiet, args.warmup)
        run["lock_costs"] = locks.measure(
            MODELS[name] for name in dict.fromkeys(r.variant.model for r in runs) if name in MODELS
        )
        if any(r.demo == "http-get" for r in runs):
            run["server_ceiling"] = ceiling.measure()
    except SuiteInterrupted as stop:
        cause = stop.cause if isinstance(stop.cause, Interrupted) else Interrupted()
        run |= {"partial": True, "interrupted": f"by {cause.signal_name}"}
        got = stop.measured
        doc = ResultsFile(
            tuple(got.results), environment, run, tuple(got.sweeps), tuple(got.timelines), tuple(got.races)
        )
        md, js = write_report(out, doc)
        kept = len(doc.results) + len(doc.sweeps) + len(doc.timelines) + len(doc.races)
        print(f"lab: interrupted by {cause.signal_name}: kept {kept} results in {js} (marked partial) "
              f"and {md} (marked PARTIAL at the top)", file=sys.stderr)  # fmt: skip
        return cause.status
    run["charts"] = draw_charts(out, stem, measured.sweeps)
    run["timeline_charts"] = draw_timelines(out, stem, measured.timelines)
    run["race_charts"] = draw_races(out, stem, measured.races)
    doc = ResultsFile(
        tuple(measured.results),
        environment,
        run,
        tuple(measured.sweeps),
        tuple(measured.timelines),
        tuple(measured.races),
    )
    md, js = write_report(out, doc)
    pictures = [*run["charts"].values(), *run["timeline_charts"].values(), *run["race_charts"].values()]
    print(f"wrote {md} and {js}" + "".join(f" and {c['file']}" for c in pictures if "file" in c))
    return 1 if any(r.error for r in [*doc.results, *doc.sweeps, *doc.timelines, *doc.races]) else 0


def across_pythons(args: argparse.Namespace, out: Path, scale: str, trials: int) -> int:
    """`lab report --python A --python B ...`: the report run by each interpreter, merged."""
    found = [pythons.find(spec) for spec in args.python]  # every one found before any runs
    passed = ["--scale", scale, "--trials", str(trials)]
    passed += [
        *(["--demos", *args.demos] if args.demos else []),
        *(["--models", *args.models] if args.models else []),
    ]
    passed += ["--warmup"] if args.warmup else []
    environment = collect(args.argv)
    stem = f"lab-report-{scale}-pythons-{stamp(environment)}"
    run: dict[str, Any] = {
        "scale": scale,
        "trials": trials,
        "warmup": args.warmup,
        "partial": False,
        "stem": stem,
    }
    try:
        done = across.run_each(found, passed, say=across.print_err)
    except across.AcrossInterrupted as stop:
        cause = stop.cause if isinstance(stop.cause, Interrupted) else Interrupted()
        run |= {"partial": True, "interrupted": f"by {cause.signal_name}"}
        md, js = write_report(out, across.merge(stop.done, environment, run))
        print(f"lab: interrupted by {cause.signal_name}: kept {len(stop.done)} interpreters' results in {js} "
              "(marked partial)", file=sys.stderr)  # fmt: skip
        return cause.status
    doc = across.merge(done, environment, run)
    charts = {
        "charts": draw_charts(out, stem, doc.sweeps),
        "timeline_charts": draw_timelines(out, stem, doc.timelines),
        "race_charts": draw_races(out, stem, doc.races),
    }
    doc = ResultsFile(
        doc.results, doc.environment, {**doc.run, **charts}, doc.sweeps, doc.timelines, doc.races
    )
    md, js = write_report(out, doc)
    print(f"wrote {md} and {js}: " + ", ".join(str(p["label"]) for p in doc.run["pythons"]))
    return 1 if any(r.error for r in [*doc.results, *doc.sweeps, *doc.timelines, *doc.races]) else 0
