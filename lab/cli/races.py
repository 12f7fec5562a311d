"""`lab races`: the racy counter over many trials; proportions of lost updates with 95% intervals."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tabulate import tabulate

from lab.cli.common import parse_counts, whole
from lab.errors import StudyInterrupted
from lab.reporting import publish, races
from lab.results import ResultsFile, prepare_folder
from lab.studies import races as race_study


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `races` subcommand's arguments."""
    p = sub.add_parser("races", help="how often the racy counter loses an update, with 95%% intervals")
    p.add_argument(
        "--increments", default="1,10,100,1000", help="comma-separated sizes (default 1,10,100,1000)"
    )
    p.add_argument("--trials", type=whole, default=30, help="trials per variant and size (default 30)")
    p.add_argument("--models", nargs="+", help="only these models (default: every model installed)")
    p.add_argument(
        "--workers", type=whole, default=5, help="workers, each counting (default 5, the article's)"
    )
    p.add_argument(
        "--yield-point",
        dest="yield_point",
        default="sleep0",
        help="sleep0 (default), none, or both: sleep0,none",
    )
    p.add_argument("--defaults-only", action="store_true", help="each model's default variant only")
    p.add_argument("--out", metavar="DIR", help="write markdown, JSON and a chart into DIR")
    p.add_argument("--json", action="store_true", help="print a JSON array of rows instead of a table")


def command(args: argparse.Namespace) -> int:
    """`lab races`: check everything, race, then print (and with `--out`, write) the rows."""
    out = Path(args.out) if args.out else None
    if out:
        prepare_folder(out)  # fail before running, not after
    try:
        doc = races(parse_counts("increments", args.increments), args.models, trials=args.trials,
                    workers=args.workers, yield_points=args.yield_point.split(","),
                    every_variant=not args.defaults_only, argv=args.argv)  # fmt: skip
    except StudyInterrupted as stop:
        show(stop.partial, args.json, out)
        print(f"lab: interrupted by {stop.signal_name}: kept the {len(stop.partial.races)} trials completed",
              file=sys.stderr)  # fmt: skip
        return stop.status
    show(doc, args.json, out)
    return 1 if any(r.error for r in doc.races) else 0


def show(doc: ResultsFile, as_json: bool, out: Path | None) -> None:
    """Print the rows (a table, or JSON); with `out`, write the results file, markdown and chart."""
    rows = race_study.rows(doc.races)
    if as_json:
        print(json.dumps([r.to_dict() for r in rows], indent=1))
    else:
        print(tabulate([race_study.cells(r) for r in rows], race_study.HEADERS, disable_numparse=True))
    if out is not None:
        done = publish(doc, out)
        print("wrote " + ", ".join(str(p) for p in done.files), file=sys.stderr)
