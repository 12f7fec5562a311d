"""`lab timeline`: run a demo with every task recorded; a picture (PNG) and a trace for Perfetto."""

from __future__ import annotations

import argparse
from pathlib import Path

from lab import pictures
from lab.cli.common import add_work_arguments, modelled_demos
from lab.demos import DEMOS, parameters
from lab.errors import InvalidParameter
from lab.measure.environment import collect
from lab.models import MODELS
from lab.results import Result, prepare_folder
from lab.runner import plan, run_trials
from lab.studies import timelines


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `timeline` subcommand's arguments."""
    p = sub.add_parser("timeline", help="who ran which task, when: a PNG and a trace for Perfetto")
    p.add_argument("demo", help=modelled_demos())
    p.add_argument("--models", nargs="+", help="only these models (default: all, with default options)")
    add_work_arguments(p)
    p.add_argument("--out", default="reports", help="folder for the files (default: reports)")


def command(args: argparse.Namespace) -> int:
    """Run the demo once per model, recorded; write <stem>.png and <stem>.trace.json."""
    if args.demo in DEMOS and DEMOS[args.demo].task is None:
        raise InvalidParameter(f"demo {args.demo!r} runs in no model: there is no worker to draw")
    models = [MODELS.get_model(m).name for m in args.models or MODELS.runnable()]
    params = {k: v for k in parameters() if (v := getattr(args, k)) is not None}
    for model in models:
        plan(args.demo, model, **params, timeline=True)  # everything is checked before anything runs
    out = Path(args.out)
    prepare_folder(out)
    results: list[Result] = []
    for model in models:
        results += run_trials(args.demo, model, 1, **params, timeline=True)
    stem = f"lab-timeline-{args.demo}-{collect(args.argv)['date'][:16].replace(' ', '-').replace(':', '')}"
    events = timelines.write_trace(out / f"{stem}.trace.json", results)
    why = pictures.draw_atomically(timelines.chart, results, out / f"{stem}.png", timelines.title(results))
    print(f"wrote {out / stem}.trace.json ({events} task events; open it at https://ui.perfetto.dev)")
    print(f"wrote {out / stem}.png" if why is None else f"no picture: {why}")
    return 1 if any(r.error for r in results) else 0
