"""`lab sweep`: one demo at several worker counts in each model; markdown, JSON and a chart."""

from __future__ import annotations

import argparse
from pathlib import Path

from tabulate import tabulate

from lab.cli.common import add_work_arguments, modelled_demos, parse_counts, whole
from lab.demos import DEMOS
from lab.errors import InvalidParameter
from lab.measure.environment import collect
from lab.models import MODELS
from lab.params import PARAMS, check_int
from lab.render import render_sweep
from lab.reporting import publish, stamp
from lab.results import ResultsFile, RunInfo, prepare_folder
from lab.runner import plan, run_trials
from lab.studies import sweeps


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `sweep` subcommand's arguments."""
    sweeper = sub.add_parser("sweep", help="one demo at several worker counts: markdown, JSON and a chart")
    sweeper.add_argument("demo", help=modelled_demos())
    sweeper.add_argument(
        "--workers", default="1,2,4,8", help="comma-separated worker counts (default 1,2,4,8)"
    )
    sweeper.add_argument("--models", nargs="+", help=f"only these models ({', '.join(MODELS)})")
    add_work_arguments(sweeper, sweep=True)
    sweeper.add_argument("--trials", type=whole, default=3, help="trials per point (default 3)")
    sweeper.add_argument("--out", default="reports", help="folder for the files (default: reports)")


def command(args: argparse.Namespace) -> int:
    """`lab sweep`: one demo at several worker counts in each model; markdown, JSON and a chart."""
    if args.demo in DEMOS and DEMOS[args.demo].task is None:
        raise InvalidParameter(f"demo {args.demo!r} runs in no model: there are no workers to sweep")
    counts = [check_int("workers", w, 1) for w in parse_counts(args.workers)]
    models = [MODELS.get_model(m).name for m in args.models or MODELS.runnable()]
    params = {k: v for k, param in PARAMS.items() if param.sweeps and (v := getattr(args, k)) is not None}
    for model in models:  # everything is checked before anything runs, up to each model's limit
        plan(args.demo, model, **sweeps.point(args.demo, params, min(max(counts), MODELS[model].max_workers)))
    skipped = sweeps.skipped(models, counts)
    out = Path(args.out)
    prepare_folder(out)
    environment = collect(args.argv)
    trials = check_int("trials", args.trials, 1)
    results = sweeps.sweep(
        args.demo, models=models, workers=counts, trials=trials, params=params, run=run_trials
    )
    run = RunInfo(kind="sweep", trials=trials, stem=f"lab-sweep-{args.demo}-{stamp(environment)}",
                  skipped=tuple(skipped))  # fmt: skip
    done = publish(ResultsFile((), environment, run, tuple(results)), out, render_sweep)
    print("wrote " + ", ".join(str(p) for p in done.files))
    print(tabulate(sweeps.rows(results), sweeps.HEADERS, disable_numparse=True))
    for point in skipped:
        print(f"skipped: {point['variant']} at {point['workers']} workers: {point['reason']}")
    return 1 if any(r.error for r in results) else 0
