"""`lab compare A.json B.json [...]`: rows matched across results files, medians, ratios, noise."""

from __future__ import annotations

import argparse
from pathlib import Path

from lab.errors import BadResultsFile
from lab.results import prepare_folder, write_atomically
from lab.studies import compare


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `compare` subcommand's arguments."""
    p = sub.add_parser("compare", help="compare results files: matched rows, medians, ratios, noise")
    p.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="results JSON files (reports, sweeps, lab run --json); the first is the baseline",
    )
    p.add_argument("--out", metavar="FILE", help="write the markdown to FILE instead of stdout")


def command(args: argparse.Namespace) -> int:
    """`lab compare`: every file against the first, as markdown."""
    if len(args.files) < 2:
        raise BadResultsFile(
            f"compare needs two files or more, not {len(args.files)}: lab compare A.json B.json"
        )
    text = compare.markdown(args.files)
    if args.out:
        out = Path(args.out)
        prepare_folder(out.parent if str(out.parent) else Path("."))
        write_atomically(out, text)
        print(f"wrote {out}")
    else:
        print(text, end="")
    return 0
