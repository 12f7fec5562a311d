"""`lab report`: parse, then `lab.report` (or read `--from`) and `lab.publish`; print what was written."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lab import journal
from lab.cli.common import whole
from lab.errors import InvalidParameter, StudyInterrupted
from lab.render.answer import answer_text
from lab.reporting import Published, publish, report, republish, resume
from lab.results import prepare_folder


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `report` subcommand's arguments."""
    p = sub.add_parser("report", help="run every demo in every variant and write a markdown report")
    p.add_argument("--out", default="reports", help="folder for <stem>.md and <stem>.json (default: reports)")
    p.add_argument("--scale", help="quick (default, about a minute) or article (minutes)")
    p.add_argument("--trials", type=whole, help="trials per row (quick: 3, article: 2)")
    p.add_argument("--demos", nargs="+", help="only these demos")
    p.add_argument("--models", nargs="+", help="only these models")
    p.add_argument("--from", dest="source",
                   help="re-render this results JSON (or journal) without running anything")  # fmt: skip
    p.add_argument("--resume", metavar="FOLDER",
                   help="continue the report journaled in FOLDER (or this journal): only what is "
                   "missing runs, with its scale and options; the report is written there")  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--warmup", action="store_true", help="one uncounted warm-up trial per row")
    p.add_argument(
        "--python",
        action="append",
        metavar="PY",
        help="run the report with this Python too (a path, python3.12, or 3.13); repeat for more: "
        "one report with the interpreter as a dimension",
    )


def command(args: argparse.Namespace) -> int:
    """`lab report`: measure (or read `--from`), publish, and say what was written."""
    out = Path(args.out)
    if args.source:
        said(republish(args.source, out))
        return 0
    if args.resume:
        given = [f"--{name}" for name in ("scale", "trials", "demos", "models", "python", "from")
                 if getattr(args, "source" if name == "from" else name)]  # fmt: skip
        given += ["--warmup"] * args.warmup
        if given:
            raise InvalidParameter(f"--resume runs the journal's own plan: drop {', '.join(given)}")
        out = journal.find(args.resume).parent  # the report is written where its journal is
    prepare_folder(out)  # fail before running, not after
    try:
        if args.resume:
            doc = resume(args.resume, quiet=args.quiet)
        else:
            doc = report(args.scale or "quick", trials=args.trials, demos=args.demos, models=args.models,
                         python=args.python or (), warmup=args.warmup, quiet=args.quiet,
                         argv=args.argv, journal=out)  # fmt: skip
    except StudyInterrupted as stop:
        kept = publish(stop.partial, out)
        d = kept.doc
        count = len(d.results) + len(d.sweeps) + len(d.timelines) + len(d.races)
        print(f"lab: interrupted by {stop.signal_name}: kept {count} results in {kept.json} "
              f"(marked partial) and {kept.markdown} (marked PARTIAL at the top); "
              f"lab report --resume {out} measures the rest",
              file=sys.stderr)  # fmt: skip
        return stop.status
    done = publish(doc, out)
    said(done)
    d = done.doc
    return 1 if any(r.error for r in [*d.results, *d.sweeps, *d.timelines, *d.races]) else 0


def said(done: Published) -> None:
    """The answer table, then one line: the report, and how many other files beside it."""
    print(answer_text(done.doc) + "\n")
    labels = [str(p["label"]) for p in done.doc.run.pythons]
    print(f"wrote {done.markdown} and {len(done.files) - 1} files beside it"
          + (f" ({', '.join(labels)})" if labels else ""))  # fmt: skip
