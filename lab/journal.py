"""A report's journal: every result appended the moment it is measured, so that a report killed
at any instant (`kill -9`, the OOM killer, a CI job cancelled) loses at most the trial in progress.

The journal is `<stem>.journal.jsonl` in the report's folder, one JSON object a line, each line
flushed and fsynced before the next trial starts:

    {"journal": "lab.journal", "version": 1, "lab": "0.1.0", "plan": {...}, "runs": [...],
     "environment": {...}, "run": {...}}                     the header: what will run, and where
    {"trial": {"run": 12, "trial": 2, "seconds": 0.41, "result": {...}}}     one per trial
    {"lock_costs": {...}}  {"server_ceiling": {...}}          the report's last measurements

`lab report --resume FOLDER` reads it back (`read`), plans the same report again, checks that
the plan is the one journaled (`Journaled.check`) and measures only what is missing;
`lab report --from` publishes a journal as it stands (`Journaled.doc`). A last line cut short
(the kill came mid-write) is dropped and said so; anything else wrong is one line,
`BadResultsFile`. When a report has been published whole its journal is removed: the JSON
holds everything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import msgspec

from lab.errors import BadResultsFile, InvalidParameter
from lab.results import Result, ResultsFile, RunInfo, decode, read_text

SCHEMA = "lab.journal"
VERSION = 1
SUFFIX = ".journal.jsonl"
# A report across Pythons journals each interpreter's report in a folder beside its own journal:
# `<stem>.pythons/<label>/` (`lab.studies.across.run_each`).
CHILDREN = ".pythons"
RECORDS = ("trial", "server_ceiling", "lock_costs")  # the records after the header
# Where a journaled trial's result goes in the results file (`lab.studies.suite.SuiteResults`).
COLLECTIONS = ("results", "sweeps", "timelines", "races", "noise")


def lab_version() -> str:
    """This lab's version (`lab.__version__`), as a journal records it."""
    import importlib.metadata  # noqa: PLC0415

    try:
        return importlib.metadata.version("concurrency-lab")
    except importlib.metadata.PackageNotFoundError:  # a source tree that is not installed
        return "0+unknown"


class Header(msgspec.Struct):
    """A journal's first line, typed: what was asked for (`plan`: the arguments of `lab.report`),
    the runs that makes (`runs`: one key each, `run_key`), and the run's environment and facts."""

    journal: str
    version: int
    lab: str
    plan: dict[str, Any]
    runs: list[str]
    environment: dict[str, Any]
    run: RunInfo


class Trial(msgspec.Struct):
    """One measured trial: the index of its run in `Header.runs`, its trial number, how long it
    took whole (seconds) and its result, as the results file will hold it."""

    run: int
    trial: int
    seconds: float
    result: Result
    into: str = "results"
    also_sweep: bool = False


@dataclass
class Journaled:
    """What a journal holds: its header, the trials measured, the last measurements if they were
    reached, and whether a torn last line was dropped."""

    path: Path
    header: Header
    trials: list[Trial] = field(default_factory=list)
    lock_costs: dict[str, float] | None = None
    server_ceiling: dict[str, Any] | None = None
    torn: bool = False

    def kept(self) -> dict[tuple[int, int], Trial]:
        """The trials measured, by (run index, trial number)."""
        return {(t.run, t.trial): t for t in self.trials}

    @property
    def finished(self) -> bool:
        """Whether the report reached its last measurement (the lock costs)."""
        return self.lock_costs is not None

    def doc(self) -> ResultsFile:
        """The results file of what the journal holds (marked partial unless it is finished)."""
        collections: dict[str, list[Result]] = {name: [] for name in COLLECTIONS}
        for t in self.trials:
            collections[t.into].append(t.result)
            if t.also_sweep:
                collections["sweeps"].append(t.result)
        run = replace(self.header.run, lock_costs=self.lock_costs or {}, server_ceiling=self.server_ceiling)
        if not self.finished:
            run = replace(run, partial=True, interrupted=run.interrupted or "before it finished (journal)")
        return ResultsFile(tuple(collections["results"]), self.header.environment, run,
                           tuple(collections["sweeps"]), tuple(collections["timelines"]),
                           tuple(collections["races"]), tuple(collections["noise"]))  # fmt: skip

    def check(self, runs: Sequence[str]) -> None:
        """Raise InvalidParameter, naming what differs, unless `runs` (this lab's plan for the
        journal's arguments) is the plan the journal was written for."""
        journaled = self.header.runs
        if list(runs) == journaled:
            return
        missing = [r for r in journaled if r not in runs]
        new = [r for r in runs if r not in journaled]
        what = (
            f"{missing[0]} is no longer planned" if missing
            else f"{new[0]} was not planned then" if new
            else "the runs are in another order"
        )  # fmt: skip
        raise InvalidParameter(
            f"{str(self.path)!r} was written for another plan ({len(journaled)} runs; this lab plans "
            f"{len(runs)} for the same arguments: {what}): run the report again, or publish what "
            "the journal holds with lab report --from"
        )


class Journal:
    """A journal being written: `start` writes its header, `trial` and `measured` append a line
    each, flushed and fsynced, so that the line is on disk before the lab goes on."""

    def __init__(self, path: Path, handle: IO[str]) -> None:
        self.path = path
        self._handle = handle

    @classmethod
    def start(
        cls,
        folder: Path,
        stem: str,
        *,
        plan: Mapping[str, Any],
        runs: Sequence[str],
        environment: Mapping[str, Any],
        run: RunInfo,
    ) -> Journal:
        """A new journal `<stem>.journal.jsonl` in `folder`, its header written."""
        path = folder / f"{stem}{SUFFIX}"
        journal = cls(path, path.open("w", encoding="utf-8", newline="\n"))
        journal._write({"journal": SCHEMA, "version": VERSION, "lab": lab_version(),
                        "plan": dict(plan), "runs": list(runs), "environment": dict(environment),
                        "run": run.to_dict()})  # fmt: skip
        return journal

    @classmethod
    def resume(cls, journaled: Journaled) -> Journal:
        """The journal read back, open to append to (a torn last line cut off first)."""
        if journaled.torn:
            text = journaled.path.read_bytes()
            with journaled.path.open("r+b") as f:
                f.truncate(text.rfind(b"\n") + 1)
        return cls(journaled.path, journaled.path.open("a", encoding="utf-8", newline="\n"))

    def trial(self, trial: Trial) -> None:
        """Append one measured trial."""
        self._write({"trial": {"run": trial.run, "trial": trial.trial, "seconds": trial.seconds,
                               "result": trial.result.to_dict(), "into": trial.into,
                               "also_sweep": trial.also_sweep}})  # fmt: skip

    def measured(self, name: str, value: Any) -> None:
        """Append one of the report's last measurements (`lock_costs`, `server_ceiling`)."""
        self._write({name: value})

    def close(self) -> None:
        """Close the file (the journal stays)."""
        self._handle.close()

    def remove(self) -> None:
        """Close and delete the journal: the report it journaled is published whole."""
        self.close()
        self.path.unlink(missing_ok=True)

    def _write(self, record: Mapping[str, Any]) -> None:
        # allow_nan: a result's figures may be NaN, as in the results file (json's default).
        self._handle.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())


def find(place: str | Path) -> Path:
    """The journal `--resume` means: `place` itself, or the newest journal in the folder
    `place`; InvalidParameter when there is none."""
    path = Path(place)
    if path.is_file():
        return path
    if not path.is_dir():
        raise InvalidParameter(f"--resume: {str(path)!r} is neither a folder nor a journal")
    found = sorted(path.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise InvalidParameter(
            f"--resume: no journal (*{SUFFIX}) in {str(path)!r}: nothing to resume "
            "(a report that finished removes its journal)"
        )
    return found[-1]


def is_journal(path: str | Path) -> bool:
    """Whether `path` names a journal rather than a results file (by its name)."""
    return str(path).endswith(SUFFIX)


def read(path: str | Path) -> Journaled:
    """A journal read back, every line's types checked; a torn last line dropped (`torn`), any
    other damage BadResultsFile in one line naming the line."""
    source = repr(str(path))
    text = read_text(path)
    lines = text.split("\n")
    tail = lines.pop()  # "" when the file ends with a newline, as every whole line does
    torn = bool(tail)
    if not lines:
        if torn:  # the header itself was cut short: nothing was measured yet
            raise BadResultsFile(f"{source} is a journal cut short in its first line: nothing was measured")
        raise BadResultsFile(f"{source} is empty: not a lab journal")
    parsed = [line_of(line, n, source) for n, line in enumerate(lines, 1)]
    head = parsed[0]
    if not isinstance(head, dict) or head.get("journal") != SCHEMA:
        raise BadResultsFile(f'{source} is not a lab journal (no "journal": "{SCHEMA}" in its first line)')
    if head.get("version") != VERSION:
        raise BadResultsFile(
            f"{source} is a journal of version {head.get('version')!r}; this lab reads version {VERSION}"
        )
    header = decode(head, Header, f"{source} line 1")
    found = Journaled(Path(path), header, torn=torn)
    for n, record in enumerate(parsed[1:], 2):
        where = f"{source} line {n}"
        if not isinstance(record, dict) or len(record) != 1:
            raise BadResultsFile(f"{where} is not a journal record (one key: {', '.join(RECORDS)})")
        [(key, value)] = record.items()
        if key == "trial":
            trial = decode(value, Trial, where)
            if trial.into not in COLLECTIONS or not 0 <= trial.run < len(header.runs):
                raise BadResultsFile(f"{where} names no run of the journal's plan")
            found.trials.append(trial)
        elif key == "lock_costs":
            found.lock_costs = decode(value, dict[str, float], where)
        elif key == "server_ceiling":
            found.server_ceiling = decode(value, dict[str, Any] | None, where)
        else:
            raise BadResultsFile(f"{where} is an unknown journal record {key!r}")
    return found


def load(source: str | Path) -> ResultsFile:
    """A results file, or a journal's results (`Journaled.doc`): what `--from` and `compare` read."""
    return read(source).doc() if is_journal(source) else ResultsFile.load(source)


def line_of(line: str, number: int, source: str) -> Any:
    """One line's JSON, or BadResultsFile naming the line."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadResultsFile(f"{source} line {number} is not JSON ({exc.msg}): a damaged journal") from None
    except RecursionError:
        raise BadResultsFile(f"{source} line {number} nests too deep: a damaged journal") from None
