"""One report across several Pythons (`lab report --python ...`): the suite run by each
interpreter in its own environment (`lab.studies.pythons`), and every result merged into one file
with the interpreter as a dimension (`Result.python`)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from lab.errors import InvalidParameter, LabError, StudyInterrupted
from lab.journal import SUFFIX
from lab.results import Result, ResultsFile, RunInfo
from lab.signals import PARENT_ENV
from lab.studies.pythons import describe, environments


def source() -> Path:
    """The checkout this lab runs from: every interpreter installs the lab from it."""
    root = Path(__file__).resolve().parents[2]  # lab/studies/across.py -> the checkout
    if not (root / "pyproject.toml").is_file():
        raise InvalidParameter("--python needs the lab installed from a source checkout (pip install -e .)")
    return root


def extras() -> str:
    """The extras each environment gets: the interpreters backport (its marker installs it on 3.12
    and 3.13 only), and dask where this one has it. Not `plot`: this lab draws every chart from the
    merged records, and a child's own would be thrown away. Without matplotlib (and its numpy and
    Pillow) a smoke report across 3.12 and 3.13 from an empty cache took 30 s here instead of 54 s,
    the environments 120 MB each instead of 290."""
    return "interpreters" + (",dask" if importlib.util.find_spec("distributed") else "")


def run_each(
    pythons: Sequence[Path],
    report_args: Sequence[str],
    say: Any = print,
    keep: Path | None = None,
) -> list[tuple[dict[str, Any], ResultsFile]]:
    """Run `lab report REPORT_ARGS` with each interpreter; its description and results file.

    With `keep` (a folder), each interpreter's report goes into `keep/<label>/`, journaled there
    (`lab.journal`): one that finished is kept as it is, one that has a journal is resumed
    (`lab report --resume`), so that a report whose child was killed loses only the child's trial
    in progress. Without it, each runs in a temporary folder."""
    done: list[tuple[dict[str, Any], ResultsFile]] = []
    root, wanted = source(), extras()
    try:
        say(f"lab: preparing an environment for each of {', '.join(map(str, pythons))} (once; then reused)")
        for venv in environments(pythons, root, wanted):
            info = describe(venv)
            with contextlib.ExitStack() as stack:
                if keep is None:
                    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lab-across-")))
                else:
                    folder = keep / str(info["label"])
                    folder.mkdir(parents=True, exist_ok=True)
                if finished := whole_report(folder):
                    say(f"lab: the report with Python {info['label']} finished before: kept")
                    done.append((info, finished))
                    continue
                again = any(folder.glob(f"*{SUFFIX}"))
                say(f"lab: {'resuming' if again else 'running'} the report with Python {info['label']}")
                asked = ["--resume", str(folder)] if again else [*report_args, "--out", str(folder)]
                argv = [str(venv), "-m", "lab", "report", *asked, "--quiet"]
                child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                         env={**os.environ, PARENT_ENV: str(os.getpid())})  # fmt: skip
                try:
                    _, err = child.communicate()
                except KeyboardInterrupt:
                    stop(child)  # it writes what it measured, marked partial: keep that too
                    if files := sorted(folder.glob("lab-report-*.json")):
                        done.append((info, ResultsFile.load(files[-1])))
                    raise
                files = sorted(folder.glob("lab-report-*.json"))
                if child.returncode not in (0, 1) or not files:
                    last = (err.strip().splitlines() or ["no output"])[-1]
                    status = child.returncode
                    kept = f"; its journal is kept: lab report --resume {keep.parent}" if keep else ""
                    raise LabError(
                        f"the report with Python {info['label']} failed (status {status}): {last}{kept}"
                    )
                done.append((info, ResultsFile.load(files[-1])))
    except KeyboardInterrupt as exc:
        raise StudyInterrupted(done, exc) from None  # `partial`: the Pythons that finished
    return done


def whole_report(folder: Path) -> ResultsFile | None:
    """The results file of a report that finished in `folder` (no journal left, not partial)."""
    if any(folder.glob(f"*{SUFFIX}")):
        return None
    files = sorted(folder.glob("lab-report-*.json"))
    doc = ResultsFile.load(files[-1]) if files else None
    return doc if doc is not None and not doc.run.partial else None


def stop(child: subprocess.Popen[str], within: float = 30.0) -> None:
    """Stop a report running in another Python as the lab stops itself: a Ctrl-C reached it
    already (one process group); SIGTERM, sent to this process alone, is passed on. It then
    publishes its partial results and exits; killed only if it has not within `within` s."""
    if child.poll() is None:
        child.terminate()
    try:
        child.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()


def tagged(results: Sequence[Result], info: dict[str, Any]) -> tuple[Result, ...]:
    """The results, each saying which interpreter it came from."""
    python = {k: info[k] for k in ("label", "python", "implementation", "free_threaded", "gil_enabled")}
    return tuple(Result.from_dict({**r.to_dict(), "python": python}) for r in results)


def merge(
    done: Sequence[tuple[dict[str, Any], ResultsFile]], environment: dict[str, Any], run: RunInfo
) -> ResultsFile:
    """One results file from several: every record tagged with its interpreter; each
    interpreter's own facts (lock costs, skipped variants, environment) kept in `run["pythons"]`."""
    pythons = []
    for info, doc in done:
        own = {
            "command": doc.environment.get("command"),
            "lock_costs": dict(doc.run.lock_costs),
            "skipped": list(doc.run.skipped),
            "packages": doc.environment.get("packages", {}),
        }
        pythons.append({**info, **own})
    skipped = [
        {**s, "variant": f"{s['variant']}@{info['label']}"} for info, doc in done for s in doc.run.skipped
    ]
    return ResultsFile(
        results=tuple(r for info, doc in done for r in tagged(doc.results, info)),
        environment={**environment, "interpreters": [p["label"] for p in pythons]},
        run=replace(run, pythons=tuple(pythons), skipped=tuple(skipped)),
        sweeps=tuple(r for info, doc in done for r in tagged(doc.sweeps, info)),
        timelines=tuple(r for info, doc in done for r in tagged(doc.timelines, info)),
        races=tuple(r for info, doc in done for r in tagged(doc.races, info)),
    )


def print_err(line: str) -> None:
    """Progress lines go to stderr."""
    print(line, file=sys.stderr)
