"""`lab list`: every demo and model with its description, and the plug-ins that failed to load."""

from __future__ import annotations

import argparse

from tabulate import tabulate

from lab.demos import BROKEN as BROKEN_DEMOS
from lab.demos import DEMOS
from lab.models import BROKEN, MODELS


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `list` subcommand (no arguments)."""
    sub.add_parser("list", help="the demos and the models")


def command(args: argparse.Namespace) -> int:
    """`lab list`: every demo and model with its description."""
    print(tabulate([(n, d.description) for n, d in DEMOS.items()], ["demo", "what it shows"]))
    print()
    print(tabulate([(n, m.description) for n, m in MODELS.items()], ["model", "how it runs the work"]))
    if broken := {**BROKEN_DEMOS, **BROKEN}:  # read after the listings above loaded them
        print()
        print(tabulate(sorted(broken.items()), ["unavailable", "why"]))
    return 0
