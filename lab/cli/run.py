"""`lab run`: every trial of a demo in each model asked for, printed as a table or JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tabulate import tabulate

from lab.cli.common import (
    ALL,
    EXAMPLES,
    Interrupted,
    add_run_arguments,
    model_names,
    param_keys,
    params_for,
    seconds,
    yes_no,
)
from lab.demos import DEMOS
from lab.measure import stats
from lab.models import MODELS
from lab.params import check_int
from lab.results import Result, dump_results, prepare_folder
from lab.runner import plan, run_trials
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
    notes: list[str] = []
    names = model_names(args.model, args.demo, notes)
    if args.fault == "exit" and args.model in ALL and args.demo in DEMOS and DEMOS[args.demo].task:
        names = [name for name in names if MODELS[name].children]
        notes.append(f"note: fault 'exit' kills a worker process: running it in {', '.join(names)} only")
    if args.model in ALL and args.workers is not None:
        over = [name for name in names if args.workers > MODELS[name].max_workers]
        notes += [f"note: {name} runs at most {MODELS[name].max_workers} workers: running the others"
                  for name in over]  # fmt: skip
        names = [name for name in names if name not in over] or names  # none left: say why, below
    requests = {name: params_for(args, name, param_keys()) for name in names}
    trace = Path(args.timeline) if args.timeline else None
    if trace:
        prepare_folder(trace.parent)  # fail before running, not after
        requests = {name: {**params, "timeline": True} for name, params in requests.items()}
    check_int("trials", args.trials, 1)
    for name, params in requests.items():
        plan(args.demo, name, **params)  # every model's request is checked before any runs
    for note in notes:  # the request is valid: now say what it leaves out
        print(note, file=sys.stderr)
    results: list[Result] = []
    try:
        for name, params in requests.items():
            results += run_trials(args.demo, name, args.trials, warmup=args.warmup, **params)
    except KeyboardInterrupt as exc:
        stop = exc if isinstance(exc, Interrupted) else Interrupted()
        show(results, args.json)
        write_timeline(trace, results)
        print(
            f"lab: interrupted by {stop.signal_name}: kept the {len(results)} results completed "
            "(printed above)",
            file=sys.stderr,
        )
        return stop.status
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
