"""What the commands share: usage errors, signals as exceptions, argument types and groups, output helpers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from lab import pictures, races, sweep, timeline
from lab.demos import DEMOS
from lab.errors import LabError, UnknownName
from lab.models import MODELS
from lab.report import render
from lab.results import Result, ResultsFile, write_atomically
from lab.runner import SERIAL

EXAMPLES = """examples:
  lab list
  lab run pool-map --sleep 0.2                       every model, 5 tasks of 0.2 s, 5 workers
  lab run pool-map --model processes --workers 1     the article's 25 s
  lab run racy-counter --increments 10000 --json     lost updates in every model, as JSON
  lab run locked-counter --model processes --start-method spawn --lock manager
  lab report                                         the quick report, into reports/
  lab report --scale article                         the article's own parameters (minutes)
  lab run http-get --requests 200 --latency 0.05 --workers 50    real HTTP against a local server
  lab serve --port 8080                              that server, in the foreground
"""

# Which model each model option belongs to, so `--model all` hands each model only its own.
OPTION_OWNERS: dict[str, set[str]] = {}
for _name, _model in MODELS.items():
    for _key in _model.option_choices:
        OPTION_OWNERS.setdefault(_key, set()).add(_name)


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
    p.add_argument(
        "--yield-point",
        dest="yield_point",
        help="counters: sleep0 (a sleep(0) between the read and the write, default) or none (bare)",
    )
    p.add_argument("--requests", type=whole, help="http-get: requests to send (default 160, Real Python's)")
    p.add_argument("--latency", type=number, help="http-get: seconds the server waits per request (0.05)")
    p.add_argument("--size", type=whole, help="http-get: bytes per response (default 2000)")
    p.add_argument("--server", help="http-get: URL of a running lab server (default: start one on 127.0.0.1)")


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
    p.add_argument(
        "--scheduler", help="dask: local (a cluster per run, default) or tcp://HOST:PORT of a running one"
    )
    p.add_argument(
        "--client", help="http-get's HTTP library: aiohttp (asyncio's default), requests (the others'), httpx"
    )
    p.add_argument(
        "--timeline",
        metavar="FILE",
        help="record who ran each task, when; write a trace for Perfetto to FILE",
    )


def model_names(requested: str, demo: str) -> list[str]:
    """The models a `--model` value stands for (serial-counter runs once, in none)."""
    if demo in DEMOS and DEMOS[demo].task is None:
        return [SERIAL]
    if requested == "all":
        return [name for name in MODELS if not skipped_model(name)]
    if requested not in MODELS:
        raise UnknownName("model", requested, [*MODELS, "all"])
    return [requested]


def skipped_model(name: str) -> str | None:
    """Why `--model all` leaves a model out (it is not installed here), saying so on stderr."""
    model = MODELS[name]
    reason = model.unavailable(model.default_options())
    if reason:
        print(f"note: {reason}; running the others", file=sys.stderr)
    return reason


def params_for(args: argparse.Namespace, model: str, keys: Sequence[str]) -> dict[str, Any]:
    """The parameters given on the command line, with each model option only for its own model."""
    given = {k: getattr(args, k, None) for k in keys}
    return {
        k: v
        for k, v in given.items()
        if v is not None and (k not in OPTION_OWNERS or args.model != "all" or model in OPTION_OWNERS[k])
    }


PARAM_KEYS = (
    "tasks",
    "sleep",
    "workers",
    "requests",
    "latency",
    "size",
    "server",
    "client",
    "increments",
    "yield_point",
    "rounds",
    "chunksize",
    "timeout",
    "fault",
    "loop",
    "start_method",
    "lock",
    "scheduler",
)


def seconds(value: float | None) -> str:
    """Seconds with four decimals, or '-'."""
    return "-" if value is None else f"{value:.4f}"


def yes_no(value: bool | None) -> str:
    """yes, NO, or '-'."""
    return "-" if value is None else ("yes" if value else "NO")


def draw_charts(out: Path, stem: str, sweeps: Sequence[Result]) -> dict[str, dict[str, str]]:
    """One chart per swept demo, beside the report: {demo: {"file": name} or {"skipped": why}}."""
    return pictures.per_demo(
        out, f"{stem}-sweep", sweeps, sweep.chart, lambda g: f"{g[0].demo}: {sweep_title(g[0])}"
    )


def draw_timelines(out: Path, stem: str, recorded: Sequence[Result]) -> dict[str, dict[str, str]]:
    """One timeline picture per recorded demo, beside the report (or why there is none)."""
    return pictures.per_demo(out, f"{stem}-timeline", recorded, timeline.chart, timeline.title)


def draw_races(out: Path, stem: str, raced: Sequence[Result]) -> dict[str, dict[str, str]]:
    """The race statistics' chart, beside the report (or why there is none)."""
    return pictures.per_demo(
        out,
        f"{stem}-races",
        raced,
        races.chart,
        lambda g: "racy-counter: P(a trial loses an update), 95% intervals",
    )


def sweep_title(result: Result) -> str:
    """What a sweep ran: `8 tasks x sleep(0.05)` or `4 tasks x 1000000 rounds`."""
    return f"{sweep.describe_work(result.params)}, {result.timing.get('clock', '')} medians"


def stamp(environment: dict[str, Any]) -> str:
    """A run's date and time in its file names (`2026-11-25-153012`, UTC), so that a new run never
    overwrites an earlier one, such as a report committed the same day."""
    date = str(environment["date"])  # "2026-11-25 15:30:12 UTC"
    return date[:10] + "-" + date[11:19].replace(":", "")


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
