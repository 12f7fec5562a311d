"""What the commands share: usage errors, signals as exceptions, argument types and groups, output helpers."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NoReturn

from lab.demos import DEMOS, parameters
from lab.errors import LabError
from lab.models import MODELS
from lab.models.base import TaskName
from lab.params import Param, check_int, help_with_defaults

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


class UsageError(LabError):
    """Bad command-line usage (argparse's own complaints), reported like every LabError."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error raises instead of printing the usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def modelled_demos() -> str:
    """The demos that run in a model (all but the serial counter), for a command's help."""
    return ", ".join(name for name, demo in DEMOS.items() if demo.task is not None)


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


def kind_of(param: Param) -> Callable[[str], Any]:
    """The argparse type of a declared parameter."""
    return {"int": whole, "seconds": number}.get(param.kind, str)


def add_work_arguments(p: argparse.ArgumentParser, *, sweep: bool = False) -> None:
    """The demos' own parameters, as `lab.params` declares them (`sweep`: those a sweep passes on)."""
    defaults = {name: demo.defaults for name, demo in DEMOS.items()}
    for param in parameters().values():
        if sweep and not param.sweeps:
            continue
        help_text = help_with_defaults(param, defaults)
        p.add_argument(param.flag, dest=param.name, type=kind_of(param), help=help_text)


def add_option_arguments(
    p: argparse.ArgumentParser, task: TaskName | None = None, uses: Callable[[str], bool] | None = None
) -> None:
    """Every model's options, as the models declare them: one flag per option name (with `task`:
    only the options that apply to it, in work that `uses` those primitives)."""
    for name, owners in MODELS.owners(task, uses).items():
        parts = []
        for owner in owners:
            option = MODELS[owner].option(name)
            choices = ", ".join(option.choices) + (" or a value of your own" if option.free else "")
            parts.append(f"{owner}: {choices}")
        first = MODELS[owners[0]].option(name)
        p.add_argument("--" + name.replace("_", "-"), dest=name, help=f"{first.help} ({'; '.join(parts)})")


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `lab run`: the models, the demo's parameters, model options, trials, faults."""
    p.add_argument("--models", "--model", dest="model", nargs="+", default=["all"],
                   help=f"one or more of {', '.join(MODELS)}, or all (default)")  # fmt: skip
    add_work_arguments(p)
    p.add_argument("--trials", type=whole, default=1, help="trials per model (default 1)")
    p.add_argument("--warmup", action="store_true", help="run one uncounted warm-up trial first")
    p.add_argument("--timeout", type=number, help="seconds before a run is stopped (default 60 + 10 x ideal)")
    p.add_argument("--fault", help="make every task fail: raise, exit (models with worker processes) or hang")
    add_option_arguments(p)
    p.add_argument(
        "--timeline",
        metavar="FILE",
        help="record who ran each task, when; write a trace for Perfetto to FILE",
    )


def seconds(value: float | None) -> str:
    """Seconds with four decimals, or '-'."""
    return "-" if value is None else f"{value:.4f}"


def yes_no(value: bool | None) -> str:
    """yes, NO, or '-'."""
    return "-" if value is None else ("yes" if value else "NO")


def parse_counts(name: str, text: str) -> list[int]:
    """`1,2,4,8` as whole numbers of 1 or more; InvalidParameter names a part that is not one."""
    return [
        check_int(name, int(part) if part.strip().isdigit() else part.strip(), 1) for part in text.split(",")
    ]
