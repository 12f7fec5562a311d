"""`lab sweep`: one demo at several worker counts in each model; markdown, JSON and a chart."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tabulate import tabulate

from lab.cli.common import add_work_arguments, modelled_demos, parse_counts, whole
from lab.demos import parameters
from lab.errors import StudyInterrupted
from lab.models import MODELS
from lab.reporting import publish, sweep
from lab.results import prepare_folder
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
    params = {
        k: v for k, param in parameters().items() if param.sweeps and (v := getattr(args, k)) is not None
    }
    out = Path(args.out)
    prepare_folder(out)  # fail before running, not after
    try:
        doc = sweep(args.demo, parse_counts("workers", args.workers), args.models, trials=args.trials,
                    argv=args.argv, **params)  # fmt: skip
    except StudyInterrupted as stop:
        kept = publish(stop.partial, out)
        print(f"lab: interrupted by {stop.signal_name}: kept {len(kept.doc.sweeps)} results in {kept.json} "
              "(marked partial)", file=sys.stderr)  # fmt: skip
        return stop.status
    done = publish(doc, out)
    print("wrote " + ", ".join(str(p) for p in done.files))
    print(tabulate(sweeps.rows(doc.sweeps), sweeps.HEADERS, disable_numparse=True))
    for point in doc.run.skipped:
        print(f"skipped: {point['variant']} at {point['workers']} workers: {point['reason']}")
    return 1 if any(r.error for r in doc.sweeps) else 0
