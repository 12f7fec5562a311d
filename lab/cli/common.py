"""What the commands share: usage errors, signals as exceptions, argument types and groups, output helpers."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from lab.demos import DEMOS
from lab.errors import LabError, UnknownName
from lab.models import BROKEN, MODELS
from lab.models.base import TaskName
from lab.params import PARAMS, Param, help_with_defaults
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


ALL = (["all"], "all")  # what `--models all` arrives as


def option_owners(task: TaskName | None = None) -> dict[str, list[str]]:
    """Which models declare each option, so that `--models all` hands each model only its own
    (with `task`: only options that apply to it)."""
    owners: dict[str, list[str]] = {}
    for name, model in MODELS.items():
        for option in model.options_for(task) if task else model.takes:
            owners.setdefault(option.name, []).append(name)
    return owners


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
    for param in PARAMS.values():
        if sweep and not param.sweeps:
            continue
        help_text = help_with_defaults(param, defaults)
        p.add_argument(param.flag, dest=param.name, type=kind_of(param), help=help_text)


def add_option_arguments(p: argparse.ArgumentParser, task: TaskName | None = None) -> None:
    """Every model's options, as the models declare them: one flag per option name (with `task`:
    only the options that apply to it)."""
    for name, owners in option_owners(task).items():
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


def model_names(requested: list[str], demo: str, notes: list[str]) -> list[str]:
    """The models `--models` stands for (serial-counter runs once, in none); `all` leaves out a
    model that cannot run here, adding to `notes` why (printed once the request is valid)."""
    if demo in DEMOS and DEMOS[demo].task is None:
        return [SERIAL]
    if requested in ALL:
        names = []
        for name, model in MODELS.items():
            if reason := model.unavailable(model.default_options()):
                notes.append(f"note: {reason}; running the others")
            else:
                names.append(name)
        return names
    for name in requested:
        if name not in MODELS:
            if name in BROKEN:
                MODELS.get_model(name)  # Unavailable: the plug-in's one line
            raise UnknownName("model", name, [*MODELS, "all"])
    return list(dict.fromkeys(requested))


def params_for(args: argparse.Namespace, model: str, keys: Sequence[str]) -> dict[str, Any]:
    """The parameters given on the command line, with each model option only for its own model."""
    given = {k: getattr(args, k, None) for k in keys}
    owners = option_owners()
    return {
        k: v
        for k, v in given.items()
        if v is not None and (k not in owners or args.model not in ALL or model in owners[k])
    }


def param_keys() -> tuple[str, ...]:
    """Every keyword `lab run` hands the library: the parameters, timeout, fault, model options."""
    return (*PARAMS, "timeout", "fault", *option_owners())


def seconds(value: float | None) -> str:
    """Seconds with four decimals, or '-'."""
    return "-" if value is None else f"{value:.4f}"


def yes_no(value: bool | None) -> str:
    """yes, NO, or '-'."""
    return "-" if value is None else ("yes" if value else "NO")


def parse_counts(text: str) -> list[str | int]:
    """`1,2,4,8` as a list; a part that is not a whole number stays text, for check_int to name."""
    return [int(part) if part.strip().isdigit() else part.strip() for part in text.split(",")]
