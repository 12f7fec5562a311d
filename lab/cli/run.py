"""`lab run`: every trial of a demo in each model asked for, printed as a table or JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tabulate import tabulate

from lab.cli.common import EXAMPLES, add_run_arguments, seconds, yes_no
from lab.demos import DEMOS, parameters
from lab.errors import StudyInterrupted
from lab.measure import stats
from lab.models import MODELS
from lab.reporting import run_models
from lab.results import Result, dump_results, prepare_folder
from lab.studies import timelines


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `run` subcommand's arguments."""
    run = sub.add_parser(
        "run", help="run a demo", epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    run.add_argument("demo", help=", ".join(DEMOS))
    add_run_arguments(run)
    run.add_argument("--json", action="store_true", help="print a JSON array of results instead of a table")


def command(args: argparse.Namespace) -> int:
    """`lab run`: every trial of the demo in each model asked for, printed as a table or JSON."""
    given = {
        k: v
        for k in (*parameters(), "timeout", "fault", *MODELS.owners())
        if (v := getattr(args, k, None)) is not None
    }
    trace = Path(args.timeline) if args.timeline else None
    if trace:
        prepare_folder(trace.parent)  # fail before running, not after
        given["timeline"] = True
    try:
        doc = run_models(
            args.demo, args.model, trials=args.trials, warmup=args.warmup, argv=args.argv, **given
        )
    except StudyInterrupted as stop:
        results = list(stop.partial.results)
        show(results, args.json)
        write_timeline(trace, results)
        print(f"lab: interrupted by {stop.signal_name}: kept the {len(results)} results completed "
              "(printed above)", file=sys.stderr)  # fmt: skip
        return stop.status
    for left in doc.run.skipped:
        print(f"note: {left['reason']}; running the others", file=sys.stderr)
    results = list(doc.results)
    show(results, args.json)
    write_timeline(trace, results)
    return 1 if any(r.error for r in results) else 0


def write_timeline(path: Path | None, results: list[Result]) -> None:
    """The trace of the recorded results, for Perfetto, and one line on stderr saying where."""
    if path is not None:
        events = timelines.write_trace(path, results)
        print(f"wrote {path}: {events} task events (open it at https://ui.perfetto.dev)", file=sys.stderr)


def show(results: list[Result], as_json: bool) -> None:
    """Print results: a JSON array, or a table per result and, for repeated trials, a summary."""
    if as_json:
        print(dump_results(results))
        return
    if not results:
        return
    rows = [
        (
            r.demo,
            r.variant,
            r.trial,
            seconds(r.elapsed_s),
            seconds(r.startup_s),
            seconds(r.ideal_s),
            r.expected,
            r.observed,
            r.lost,
            yes_no(r.correct),
            yes_no(r.outputs_ok),
            DEMOS[r.demo].headline_of(r.metrics) if r.demo in DEMOS else "",
            r.error or "",
        )
        for r in results
    ]
    headers = [
        "demo",
        "variant",
        "trial",
        "elapsed s",
        "start-up s",
        "ideal s",
        "expected",
        "observed",
        "lost",
        "correct",
        "outputs ok",
        "figures",
        "error",
    ]
    print(tabulate(rows, headers, disable_numparse=True, missingval="-"))
    groups = stats.group(results)
    if any(len(g) > 1 for g in groups.values()):
        print()
        summary = []
        for (demo, variant), group in groups.items():
            spread = stats.elapsed(group)
            summary.append(
                (
                    demo,
                    variant,
                    len(group),
                    seconds(spread.median if spread else None),
                    f"{spread.low:.4f}-{spread.high:.4f}" if spread else "-",
                    "UNSTABLE" if spread and spread.unstable else "",
                )
            )
        print(
            tabulate(
                summary,
                ["demo", "variant", "trials", "median s", "min-max s", "warning"],
                disable_numparse=True,
            )
        )
