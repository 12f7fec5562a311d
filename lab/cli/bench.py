"""`lab bench`: the user's own function, serially and in each model, with a verdict."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from lab.benching import Bench, bench
from lab.benching.job import add_paths, items_from, resolve
from lab.benching.render import draw, markdown, table
from lab.benching.run import DEFAULT_TIMEOUT_S
from lab.cli.common import add_option_arguments, number, parse_counts, whole
from lab.errors import StudyInterrupted
from lab.models import MODELS
from lab.models.base import uses_nothing
from lab.pictures import draw_atomically
from lab.reporting import stamp
from lab.results import prepare_folder, write_atomically

BENCH_EXAMPLES = """examples:
  lab bench examples.jobs:arithmetic --range 8 --workers 1,2       holds the GIL: processes win
  lab bench examples.jobs:digest --range 8 --workers 1,2           hashlib lets go of it: threads too
  lab bench examples.jobs:wait --async examples.jobs:await_wait --range 32 --workers 1,8,32
  lab bench mymodule:resize --items paths.txt --path src --out reports
"""


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `bench` subcommand's arguments."""
    p = sub.add_parser(
        "bench",
        help="your own function, serially and in each model, with a verdict",
        epilog=BENCH_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("function", help="MODULE:FUNCTION, a plain function of one item (threads, processes)")
    p.add_argument(
        "--async",
        dest="async_function",
        metavar="MODULE:FUNCTION",
        help="the same job as an async def (asyncio)",
    )
    p.add_argument("--items", metavar="FILE", help="one item per line, as strings")
    p.add_argument("--range", type=whole, dest="count", metavar="N", help="the integers 0..N-1")
    p.add_argument("--items-from", metavar="MODULE:NAME", help="an iterable, or a function returning one")
    p.add_argument(
        "--path",
        action="append",
        default=[],
        metavar="DIR",
        help="where to import from (besides the current folder)",
    )
    p.add_argument(
        "--workers", help="comma-separated worker counts (default: 1, 2 and the cores; asyncio more)"
    )
    p.add_argument(
        "--models",
        nargs="+",
        help="threads, processes, asyncio, dask (default: threads, processes, and asyncio with --async)",
    )
    p.add_argument("--trials", type=whole, default=3, help="trials per row (default 3)")
    p.add_argument("--warmup", action="store_true", help="one uncounted warm-up trial per row first")
    p.add_argument(
        "--timeout",
        type=number,
        default=DEFAULT_TIMEOUT_S,
        help="seconds before a run is stopped (default 60)",
    )
    add_option_arguments(p, "call", uses_nothing)
    p.add_argument("--out", metavar="DIR", help="write markdown, JSON and a chart into DIR")
    p.add_argument("--json", action="store_true", help="print a JSON array of the rows instead of a table")


def command(args: argparse.Namespace) -> int:
    """`lab bench`: check everything, run, then print (and with `--out`, write) the result."""
    add_paths(args.path)
    function = resolve(args.function)
    async_function = resolve(args.async_function, coroutine=True) if args.async_function else None
    items = items_from(file=args.items, count=args.count, source=args.items_from)
    options = {
        name: {
            o.name: value
            for o in model.options_for("call", uses_nothing)
            if (value := getattr(args, o.name)) is not None
        }
        for name, model in MODELS.items()
    }
    out = Path(args.out) if args.out else None
    if out:
        prepare_folder(out)  # fail before running, not after
    workers = parse_counts("workers", args.workers) if args.workers else None
    quiet = args.json
    try:
        result = bench(
            function,
            items,
            async_function=async_function,
            workers=workers,
            models=args.models,
            options=options,
            trials=args.trials,
            warmup=args.warmup,
            timeout=args.timeout,
            quiet=quiet,
            argv=args.argv,
        )
    except StudyInterrupted as stop:
        kept = show(stop.partial, args.json, out)
        print(f"lab: interrupted by {stop.signal_name}: kept the completed trials{kept}", file=sys.stderr)
        return stop.status
    show(result, args.json, out)
    return 1 if result.failed else 0


def show(result: Bench, as_json: bool, out: Path | None) -> str:
    """Print the bench (verdict and table, or the rows as JSON); with `out`, write its files.
    Returns where they went (for the interrupted message)."""
    written = ""
    if out is not None:
        written = f" in {write(result, out)}"
    if as_json:
        print(json.dumps([row.to_dict() for row in result.rows], indent=1))
        return written
    for line in result.verdict:
        print(f"- {line}")
    for note in result.notes:
        print(f"  ({note})")
    print()
    print(table(result))
    return written


def write(result: Bench, out: Path) -> Path:
    """`lab-bench-<function>-<date>-<time>.json`, `.md` and `.png` in `out`; the markdown
    rendered from the JSON just written. Returns the markdown's path."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(result.job["function"]))
    stem = f"lab-bench-{name}-{stamp(dict(result.environment))}"
    text = result.to_json()
    write_atomically(out / f"{stem}.json", text)
    again = Bench.from_json(text)
    chart = f"{stem}.png"
    why = draw_atomically(draw, again.rows, out / chart, f"{again.job['function']}: speedup and CPU use")
    md = out / f"{stem}.md"
    write_atomically(md, markdown(again, None if why else chart))
    print(f"wrote {md}, {out / stem}.json" + ("" if why else f" and {out / chart}"), file=sys.stderr)
    return md
