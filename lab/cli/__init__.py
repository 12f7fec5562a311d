"""The command line, one module per command: `lab list`, `run`, `report`, `sweep`, `serve`,
`timeline`, `bench`, `races`, `compare`.

`main(argv)` returns the exit status.

Exit status: 0 when every run completed (a racy counter losing updates is the lesson, not an
error), 1 when a run failed (a task raised, a worker died, a timeout), 2 for bad usage (one line
on stderr, never a traceback), 130 after Ctrl-C and 143 after SIGTERM.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from lab.cli.common import Parser

# Command -> its module, imported when the command line is parsed, not when this package is. A
# process worker started by spawn or forkserver imports the `lab` script, and so this package,
# before every task: importing every command there (rich, tabulate, the bench's machinery) cost
# each worker about 0.3 s, and start-up under spawn was mostly that (1.2 s for 5 workers here).
COMMANDS: dict[str, str] = {
    "list": "listing",
    "run": "run",
    "report": "report",
    "sweep": "sweep",
    "serve": "serve",
    "timeline": "timeline",
    "bench": "bench",
    "races": "races",
    "compare": "compare",
}


def command_module(name: str) -> ModuleType:
    """The module of command `name`."""
    return importlib.import_module(f"lab.cli.{COMMANDS[name]}")


def build_parser() -> Parser:
    """The argument parser, with one subcommand per module."""
    from lab.cli.common import EXAMPLES, Parser  # noqa: PLC0415 (see COMMANDS)

    parser = Parser(
        prog="lab",
        description="The same demos as asyncio coroutines, threads and processes, measured side by side.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name in COMMANDS:
        command_module(name).add(sub)
    return parser


def raise_terminated(signum: int, frame: object) -> None:
    """SIGTERM handler: unwind like Ctrl-C, so pools are shut down and results kept."""
    from lab.errors import Terminated  # noqa: PLC0415 (see COMMANDS)

    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default: sys.argv[1:]) and return the exit status."""
    from lab.errors import LabError, signal_of  # noqa: PLC0415 (see COMMANDS)

    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        args = build_parser().parse_args(argv)
        args.argv = argv
        if threading_is_main():
            signal.signal(signal.SIGTERM, raise_terminated)
        command: Callable[[argparse.Namespace], int] = command_module(args.command).command
        return command(args)
    except LabError as exc:
        print(f"lab: error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        interrupt = signal_of(exc)
        print(f"lab: interrupted by {interrupt.signal_name}", file=sys.stderr)
        return interrupt.status


def printable(text: str) -> str:
    """`text` as one line: a character that is not printable (a newline, a control character
    from a damaged file a message quotes) written as its escape, `\\n`, `\\x1e`."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def threading_is_main() -> bool:
    """Signal handlers can only be set from the main thread (tests may call main elsewhere)."""
    return threading.current_thread() is threading.main_thread()


def entry() -> NoReturn:
    """The `lab` console script: run main, then exit, even if a hung thread is still running.
    A lab started by another (a report across Pythons: `lab.signals.PARENT_ENV`) ends with it."""
    from lab.signals import PARENT_ENV, die_with_parent  # noqa: PLC0415 (see COMMANDS)

    if parent := os.environ.pop(PARENT_ENV, ""):  # popped: its own children watch it, not its parent
        die_with_parent(int(parent))
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`lab list | head -1`): not our error. Point stdout at devnull so
        # that the interpreter's own final flush does not complain again (the Python docs' recipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 1
    sys.stderr.flush()
    from lab.models.threads import stuck_threads  # noqa: PLC0415 (see COMMANDS)

    if stuck_threads():
        # A thread cannot be killed, and the interpreter would wait for it at exit forever.
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    entry()


def __getattr__(name: str) -> Any:
    """`show` (the run command's table), imported on first use (see COMMANDS)."""
    if name == "show":
        return command_module("run").show
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["build_parser", "entry", "main", "show"]
