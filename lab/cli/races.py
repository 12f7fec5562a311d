"""`lab races`: the racy counter over many trials; proportions of lost updates with 95% intervals."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tabulate import tabulate

from lab.cli.common import Interrupted, parse_counts, whole
from lab.errors import InvalidParameter
from lab.measure.environment import collect
from lab.models import MODELS
from lab.models.base import YIELD_POINTS
from lab.params import check_int
from lab.render.races import races_section
from lab.reporting import publish, stamp
from lab.results import Result, ResultsFile, RunInfo, prepare_folder
from lab.runner import choose, plan, run_trials
from lab.studies import races
from lab.studies.suite import race_variants


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
    sizes = [check_int("increments", n, 1) for n in parse_counts(args.increments)]
    points = [choose("yield point", p.strip(), YIELD_POINTS) for p in args.yield_point.split(",")]
    trials = check_int("trials", args.trials, 1)
    models = [MODELS.get_model(m).name for m in args.models or MODELS]
    chosen = race_variants(races.DEMO, models, not args.defaults_only)
    if not chosen:
        raise InvalidParameter(f"none of the models {', '.join(models)} can run here")
    for variant in chosen:  # every request is checked before anything runs
        plan(races.DEMO, variant.model, workers=args.workers, increments=max(sizes), **variant.options)
    out = Path(args.out) if args.out else None
    if out:
        prepare_folder(out)
    environment = collect(args.argv)
    results: list[Result] = []
    try:
        races.race(chosen, increments=sizes, trials=trials, yield_points=points, workers=args.workers,
                   run=run_trials, into=results)  # fmt: skip
    except KeyboardInterrupt as exc:
        stop = exc if isinstance(exc, Interrupted) else Interrupted()
        show(results, args.json, out, environment, partial=True)
        print(
            f"lab: interrupted by {stop.signal_name}: kept the {len(results)} trials completed",
            file=sys.stderr,
        )
        return stop.status
    show(results, args.json, out, environment)
    return 1 if any(r.error for r in results) else 0


def show(
    results: list[Result],
    as_json: bool,
    out: Path | None,
    environment: dict[str, object],
    partial: bool = False,
) -> None:
    """Print the rows (a table, or JSON); with `out`, write the results file, markdown and chart."""
    rows = races.rows(results)
    if as_json:
        print(json.dumps([r.to_dict() for r in rows], indent=1))
    else:
        print(tabulate([races.cells(r) for r in rows], races.HEADERS, disable_numparse=True))
    if out is None:
        return
    run = RunInfo(kind="races", stem=f"lab-races-{stamp(dict(environment))}", partial=partial)
    done = publish(ResultsFile((), environment, run, races=tuple(results)), out, render_races)
    print("wrote " + ", ".join(str(p) for p in done.files), file=sys.stderr)


def render_races(doc: ResultsFile) -> str:
    """The markdown of `lab races`: what ran, the table and the chart."""
    env = doc.environment
    md = f"# lab races\n\nMade by `{env.get('command')}` on {env.get('date')}.\n\n"
    return md + races_section(doc.races, dict(doc.run.race_charts)) + "\n"
