"""The command line: `lab list`, `lab run`, `lab report`, `lab sweep`. `main(argv)` returns the exit status.

Exit status: 0 when every run completed (a racy counter losing updates is the lesson, not an
error), 1 when a run failed (a task raised, a worker died, a timeout), 2 for bad usage (one line
on stderr, never a traceback), 130 after Ctrl-C and 143 after SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from tabulate import tabulate

from lab import lockcost, stats, sweep
from lab.demos import DEMOS
from lab.environment import collect
from lab.errors import InvalidParameter, LabError, UnknownName
from lab.models import MODELS
from lab.models.threads import stuck_threads
from lab.report import render, render_sweep
from lab.results import Result, ResultsFile, dump_results, prepare_folder, write_atomically
from lab.runner import SERIAL, check_int, choose, plan, run_trials
from lab.suite import SCALES, SuiteInterrupted, plan_suite, run_suite

EXAMPLES = """examples:
  lab list
  lab run pool-map --sleep 0.2                       every model, 5 tasks of 0.2 s, 5 workers
  lab run pool-map --model processes --workers 1     the article's 25 s
  lab run racy-counter --increments 10000 --json     lost updates in every model, as JSON
  lab run locked-counter --model processes --start-method spawn --lock manager
  lab report                                         the quick report, into reports/
  lab report --scale article                         the article's own parameters (minutes)
"""

# Which model each model option belongs to, so `--model all` hands each model only its own.
OPTION_OWNERS = {key: name for name, model in MODELS.items() for key in model.option_choices}


class UsageError(LabError):
    """Bad command-line usage (argparse's own complaints), reported like every LabError."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (status 130) or, as a subclass, SIGTERM (status 143)."""

    status = 130
    signal_name = "Ctrl-C"


class Terminated(Interrupted):
    """SIGTERM, turned into an exception so that the same clean-up runs as for Ctrl-C."""

    status = 143
    signal_name = "SIGTERM"


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error raises instead of printing the usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def whole(text: str) -> int:
    """argparse type: a whole number, with a message that names the bad value."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None


def number(text: str) -> float:
    """argparse type: a number of seconds, with a message that names the bad value."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text!r}") from None


def add_work_arguments(p: argparse.ArgumentParser) -> None:
    """The demos' own parameters, shared by `lab run` and `lab sweep`."""
    p.add_argument("--tasks", type=whole, help="number of tasks (pool-map: 5, cpu-bound: 4)")
    p.add_argument("--sleep", type=number, help="seconds each task waits (pool-map: 5.0, counters: 0)")
    p.add_argument("--increments", type=whole, help="increments per worker (counters; serial: 10, others: 1)")
    p.add_argument("--rounds", type=whole, help="arithmetic rounds per task (cpu-bound)")


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `lab run`: the model, the demo's parameters, model options, trials, faults."""
    p.add_argument("--model", default="all", help="asyncio, threads, processes, or all (default)")
    add_work_arguments(p)
    p.add_argument("--chunksize", type=whole, help="items per message to a process (default like Pool.map)")
    p.add_argument("--trials", type=whole, default=1, help="trials per model (default 1)")
    p.add_argument("--warmup", action="store_true", help="run one uncounted warm-up trial first")
    p.add_argument("--timeout", type=number, help="seconds before a run is stopped (default 60 + 10 x ideal)")
    p.add_argument("--fault", help="make every task fail: raise, exit (processes only) or hang")
    p.add_argument("--loop", help="asyncio's event loop: asyncio (default) or uvloop")
    p.add_argument("--start-method", dest="start_method", help="processes: fork, spawn or forkserver")
    p.add_argument("--lock", help="processes' lock: mp (multiprocessing.Lock, default) or manager")


def build_parser() -> Parser:
    """The argument parser, with one subcommand per job."""
    parser = Parser(
        prog="lab",
        description="The same demos as asyncio coroutines, threads and processes, measured side by side.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    sub.add_parser("list", help="the demos and the models")
    run = sub.add_parser(
        "run", help="run a demo", epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    run.add_argument("demo", help=", ".join(DEMOS))
    add_run_arguments(run)
    run.add_argument("--workers", type=whole, help="workers per model (pool-map: = tasks, counters: 5)")
    run.add_argument("--json", action="store_true", help="print a JSON array of results instead of a table")
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
    sweeper = sub.add_parser("sweep", help="one demo at several worker counts: markdown, JSON and a chart")
    sweeper.add_argument("demo", help="pool-map, racy-counter, locked-counter or cpu-bound")
    sweeper.add_argument(
        "--workers", default="1,2,4,8", help="comma-separated worker counts (default 1,2,4,8)"
    )
    sweeper.add_argument("--models", nargs="+", choices=list(MODELS), help="only these models")
    add_work_arguments(sweeper)
    sweeper.add_argument("--trials", type=whole, default=3, help="trials per point (default 3)")
    sweeper.add_argument("--out", default="reports", help="folder for the files (default: reports)")
    return parser


def cmd_list(args: argparse.Namespace) -> int:
    """`lab list`: every demo and model with its description."""
    print(tabulate([(n, d.description) for n, d in DEMOS.items()], ["demo", "what it shows"]))
    print()
    print(tabulate([(n, m.description) for n, m in MODELS.items()], ["model", "how it runs the work"]))
    return 0


def model_names(requested: str, demo: str) -> list[str]:
    """The models a `--model` value stands for (serial-counter runs once, in none)."""
    if demo in DEMOS and DEMOS[demo].task is None:
        return [SERIAL]
    if requested == "all":
        return list(MODELS)
    if requested not in MODELS:
        raise UnknownName("model", requested, [*MODELS, "all"])
    return [requested]


def params_for(args: argparse.Namespace, model: str, keys: Sequence[str]) -> dict[str, Any]:
    """The parameters given on the command line, with each model option only for its own model."""
    given = {k: getattr(args, k, None) for k in keys}
    return {
        k: v
        for k, v in given.items()
        if v is not None and (k not in OPTION_OWNERS or args.model != "all" or OPTION_OWNERS[k] == model)
    }


PARAM_KEYS = (
    "tasks",
    "sleep",
    "workers",
    "increments",
    "rounds",
    "chunksize",
    "timeout",
    "fault",
    "loop",
    "start_method",
    "lock",
)


def cmd_run(args: argparse.Namespace) -> int:
    """`lab run`: every trial of the demo in each model asked for, printed as a table or JSON."""
    names = model_names(args.model, args.demo)
    if args.fault == "exit" and args.model == "all" and args.demo in DEMOS and DEMOS[args.demo].task:
        print(
            "note: fault 'exit' kills a worker process: running it in model processes only", file=sys.stderr
        )
        names = ["processes"]
    requests = {name: params_for(args, name, PARAM_KEYS) for name in names}
    check_int("trials", args.trials, 1)
    for name, params in requests.items():
        plan(args.demo, name, **params)  # every model's request is checked before any runs
    results: list[Result] = []
    try:
        for name, params in requests.items():
            results += run_trials(args.demo, name, args.trials, warmup=args.warmup, **params)
    except KeyboardInterrupt as exc:
        stop = exc if isinstance(exc, Interrupted) else Interrupted()
        show(results, args.json)
        print(
            f"lab: interrupted by {stop.signal_name}: kept the {len(results)} results completed "
            "(printed above)",
            file=sys.stderr,
        )
        return stop.status
    show(results, args.json)
    return 1 if any(r.error for r in results) else 0


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


def seconds(value: float | None) -> str:
    """Seconds with four decimals, or '-'."""
    return "-" if value is None else f"{value:.4f}"


def yes_no(value: bool | None) -> str:
    """yes, NO, or '-'."""
    return "-" if value is None else ("yes" if value else "NO")


def cmd_report(args: argparse.Namespace) -> int:
    """`lab report`: run the suite (or read `--from`), then write <stem>.json and <stem>.md."""
    out = Path(args.out)
    if args.source:
        doc = ResultsFile.load(args.source)
        prepare_folder(out)
        draw_charts(out, str(doc.run.get("stem")), doc.sweeps)
        write_report(out, doc)
        return 0
    scale = SCALES[choose("scale", args.scale, SCALES)]
    trials = scale.trials if args.trials is None else check_int("trials", args.trials, 1)
    runs, skipped = plan_suite(scale, args.demos, args.models)
    prepare_folder(out)  # fail before running, not after
    environment = collect(args.argv)
    stem = f"lab-report-{scale.name}-{environment['date'][:10]}"
    run = {"scale": scale.name, "trials": trials, "warmup": args.warmup, "skipped": skipped,
           "partial": False, "stem": stem}  # fmt: skip
    try:
        measured = run_suite(runs, trials, args.quiet, args.warmup)
        run["lock_costs"] = lockcost.measure()
    except SuiteInterrupted as stop:
        cause = stop.cause if isinstance(stop.cause, Interrupted) else Interrupted()
        run |= {"partial": True, "interrupted": f"by {cause.signal_name}"}
        doc = ResultsFile(tuple(stop.measured.results), environment, run, tuple(stop.measured.sweeps))
        md, js = write_report(out, doc)
        kept = len(doc.results) + len(doc.sweeps)
        print(f"lab: interrupted by {cause.signal_name}: kept {kept} results in {js} (marked partial) "
              f"and {md} (marked PARTIAL at the top)", file=sys.stderr)  # fmt: skip
        return cause.status
    run["charts"] = draw_charts(out, stem, measured.sweeps)
    doc = ResultsFile(tuple(measured.results), environment, run, tuple(measured.sweeps))
    md, js = write_report(out, doc)
    print(
        f"wrote {md} and {js}" + "".join(f" and {c['file']}" for c in run["charts"].values() if "file" in c)
    )
    return 1 if any(r.error for r in [*doc.results, *doc.sweeps]) else 0


def draw_charts(out: Path, stem: str, sweeps: Sequence[Result]) -> dict[str, dict[str, str]]:
    """One chart per swept demo, beside the report: {demo: {"file": name} or {"skipped": why}}."""
    drawn: dict[str, dict[str, str]] = {}
    for demo in dict.fromkeys(r.demo for r in sweeps):
        name = f"{stem}-sweep-{demo}.png"
        results = [r for r in sweeps if r.demo == demo]
        why = chart_atomically(results, out / name, f"{demo}: {sweep_title(results[0])}")
        drawn[demo] = {"skipped": why} if why else {"file": name}
    return drawn


def chart_atomically(results: Sequence[Result], path: Path, title: str) -> str | None:
    """`sweep.chart` into a temporary file, then renamed over `path`."""
    partial = path.with_name(f".{path.name}.tmp.png")
    try:
        why = sweep.chart(results, partial, title)
        if why is None:
            os.replace(partial, path)
        return why
    finally:
        partial.unlink(missing_ok=True)


def sweep_title(result: Result) -> str:
    """What a sweep ran: `8 tasks x sleep(0.05)` or `4 tasks x 1000000 rounds`."""
    p = result.params
    work = f"{p['rounds']} rounds" if "rounds" in p else f"sleep({p['sleep']:g})"
    return f"{p.get('tasks', '?')} tasks x {work}, {result.timing.get('clock', '')} medians"


def cmd_sweep(args: argparse.Namespace) -> int:
    """`lab sweep`: one demo at several worker counts in each model; markdown, JSON and a chart."""
    if args.demo in DEMOS and DEMOS[args.demo].task is None:
        raise InvalidParameter(f"demo {args.demo!r} runs in no model: there are no workers to sweep")
    counts = [check_int("workers", w, 1) for w in parse_counts(args.workers)]
    models = args.models or list(MODELS)
    params = {k: v for k in ("tasks", "sleep", "increments", "rounds") if (v := getattr(args, k)) is not None}
    for model in models:
        plan(args.demo, model, **params, workers=max(counts))  # everything is checked before anything runs
    out = Path(args.out)
    prepare_folder(out)
    environment = collect(args.argv)
    trials = check_int("trials", args.trials, 1)
    results = sweep.sweep(
        args.demo, models=models, workers=counts, trials=trials, params=params, run=run_trials
    )
    stem = f"lab-sweep-{args.demo}-{environment['date'][:10]}"
    charts = draw_charts(out, stem, results)
    run = {"kind": "sweep", "trials": trials, "stem": stem, "charts": charts}
    text = ResultsFile((), environment, run, tuple(results)).to_json()
    write_atomically(out / f"{stem}.json", text)
    write_atomically(out / f"{stem}.md", render_sweep(ResultsFile.from_json(text)))
    print(f"wrote {out / stem}.md, .json" + (" and .png" if "file" in charts.get(args.demo, {}) else ""))
    print(tabulate(sweep.rows(results), sweep.HEADERS, disable_numparse=True))
    return 1 if any(r.error for r in results) else 0


def write_report(out: Path, doc: ResultsFile) -> tuple[Path, Path]:
    """Write <stem>.json, then <stem>.md, each atomically; return their paths."""
    stem = str(doc.run.get("stem", "lab-report"))
    js, md = out / f"{stem}.json", out / f"{stem}.md"
    text = doc.to_json()
    write_atomically(js, text)
    # Rendered from the JSON just written, exactly as `--from` renders it.
    write_atomically(md, render(ResultsFile.from_json(text)))
    return md, js


def parse_counts(text: str) -> list[str | int]:
    """`1,2,4,8` as a list; a part that is not a whole number stays text, for check_int to name."""
    return [int(part) if part.strip().isdigit() else part.strip() for part in text.split(",")]


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "list": cmd_list,
    "run": cmd_run,
    "report": cmd_report,
    "sweep": cmd_sweep,
}


def raise_terminated(signum: int, frame: object) -> None:
    """SIGTERM handler: unwind like Ctrl-C, so pools are shut down and results kept."""
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default: sys.argv[1:]) and return the exit status."""
    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        args = build_parser().parse_args(argv)
        args.argv = argv
        if threading_is_main():
            signal.signal(signal.SIGTERM, raise_terminated)
        return COMMANDS[args.command](args)
    except LabError as exc:
        print(f"lab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        interrupt = exc if isinstance(exc, Interrupted) else Interrupted()
        print(f"lab: interrupted by {interrupt.signal_name}", file=sys.stderr)
        return interrupt.status


def threading_is_main() -> bool:
    """Signal handlers can only be set from the main thread (tests may call main elsewhere)."""
    return threading.current_thread() is threading.main_thread()


def entry() -> NoReturn:
    """The `lab` console script: run main, then exit, even if a hung thread is still running."""
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`lab list | head -1`): not our error. Point stdout at devnull so
        # that the interpreter's own final flush does not complain again (the Python docs' recipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 1
    sys.stderr.flush()
    if stuck_threads():
        # A thread cannot be killed, and the interpreter would wait for it at exit forever.
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    entry()


__all__ = ["build_parser", "entry", "main"]
