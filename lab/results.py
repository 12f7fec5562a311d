"""Result records, and the versioned JSON they are saved in and read back from.

A `Result` is one trial of one demo in one model variant. A results file holds a list of them
with the environment they were measured in; it is the source of truth a report is rendered from.
"""

from __future__ import annotations

import json
import os
import tempfile
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

import msgspec

from lab.errors import BadResultsFile, InvalidParameter, in_one_line

SCHEMA = "lab.results"
# 2: results gained `memory`, `metrics` and `timeline`; files gained `timelines`. 3: results gained
# `cpu_s`, files `races`. 4: files gained `noise` (the A/A pair).
SCHEMA_VERSION = 4
READS = (1, 2, 3, 4)  # the versions this lab reads; what a field's absence means is said on `Result`
UMASK = os.umask(0o022)
os.umask(UMASK)  # os.umask can only be read by setting it: put it back at once


def variant_label(model: str, options: Mapping[str, str]) -> str:
    """A model and its options as one name; an option that only repeats the model's name
    (asyncio's own loop) is left out: `asyncio`, `asyncio+uvloop`, `processes+spawn+manager`."""
    return "+".join([model, *(value for value in options.values() if value != model)])


def job_name(demo: str, kernel: str | None = None) -> str:
    """A job's name: the demo, and the work it did when that is not its default (`python`)."""
    return demo if kernel in (None, "python") else f"{demo} ({kernel})"


@dataclass(frozen=True)
class Result:
    """One trial of one demo in one model variant. Immutable; times are in seconds.

    `elapsed_s` is the work alone, every worker already started; `startup_s` the pool or loop
    start-up and shutdown. `ideal_s` is what a perfect pool would take (pool-map only).
    `expected` and `observed` are the counter's right and final values (counter demos only);
    `correct` says whether they agree. `outputs_ok` says every output came back, in order.
    `error` is None, or the one-line reason the trial failed (its times are then None, but for
    http-get's failed requests, which are counted and leave the run's times standing).
    `timing` records how it was timed: the clock, whether GC was on, whether it was a warm-up.
    `memory` (schema 2; None in older files) is the lab's unique memory before the run, at its
    peak and per worker, in bytes (see `lab.measure.memory`). `metrics` (schema 2) holds a demo's own
    figures: http-get's requests/s, latency median and p99, and failed requests by kind.
    For http-get, `expected` is the requests sent and `observed` the responses verified.
    `timeline` (schema 2, when asked for) holds one record per task: its `lane` and `worker`,
    `item` (its index), `start_s` and `end_s` (seconds since the timed region began) and `cpu_s`
    (threads and processes); see `lab.studies.timelines`.
    `cpu_s` (schema 3; None in older files) is the CPU time the lab and its worker processes
    used during `elapsed_s`: `cpu_s / elapsed_s` is the number of cores kept busy.
    `python` (schema 3), in a report across several Pythons (`lab report --python`), describes
    the interpreter the result came from (`lab.studies.pythons`); its label then ends the variant's
    name (`threads@3.13.0`). None: the report's own interpreter.
    """

    demo: str
    model: str
    options: Mapping[str, str]
    params: Mapping[str, Any]
    elapsed_s: float | None
    startup_s: float | None
    ideal_s: float | None
    expected: int | None
    observed: int | None
    correct: bool | None
    outputs_ok: bool | None
    error: str | None
    trial: int = 1
    timing: Mapping[str, Any] = field(default_factory=dict)
    memory: Mapping[str, Any] | None = None
    metrics: Mapping[str, Any] | None = None
    timeline: tuple[Mapping[str, Any], ...] | None = None
    cpu_s: float | None = None
    python: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        for name in ("options", "params", "timing", "memory", "metrics", "python"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        if self.timeline is not None:
            object.__setattr__(self, "timeline", tuple(MappingProxyType(dict(t)) for t in self.timeline))

    @property
    def variant(self) -> str:
        """The model and its options, e.g. `asyncio+uvloop` or `processes+spawn+manager`, and the
        interpreter when the result has one (`threads@3.13.0`)."""
        label = variant_label(self.model, self.options)
        return f"{label}@{self.python['label']}" if self.python else label

    @property
    def job(self) -> str:
        """The demo, and the work it did when that is not its default: `cpu-bound (hashlib)`.
        Tables and findings group by it, so that two kinds of work are never one median."""
        return job_name(self.demo, self.params.get("kernel"))

    @property
    def shape(self) -> str:
        """The parameters it ran with, as one comparable string: which row of its demo it is."""
        return repr(sorted(self.params.items()))

    @property
    def lost(self) -> int | None:
        """Lost updates: expected minus observed (counter demos only)."""
        if self.expected is None or self.observed is None:
            return None
        return self.expected - self.observed

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of every field, for JSON."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.timeline is not None:
            out["timeline"] = [dict(t) for t in self.timeline]
        return {k: dict(v) if isinstance(v, Mapping) else v for k, v in out.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Result:
        """The inverse of `to_dict`."""
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as its plain dict (a mappingproxy is not picklable): results drawn in a child
        # process (`lab.pictures.draw_all`) travel this way.
        return (Result.from_dict, (self.to_dict(),))


@dataclass(frozen=True)
class RunInfo:
    """A results file's facts about its run (a report's, a sweep's or a race's), typed.

    `kind`: None for a report, else "sweep" or "races"; `scale` and `trials` as run; `skipped`:
    the variants left out, each `{"variant", "reason"}`; `partial` and `interrupted`: whether
    (and by what) the run was stopped; `stem`: the files' common name; `lock_costs`: us per
    acquire and release, by lock; `server_ceiling`: the HTTP server's ceiling (`lab.studies.ceiling`);
    `extra`: the extra rounds a verdict left undecided could run, (at most, seconds in all), as
    the report ran them (`Scale.extra_rounds`, `.extra_budget_s`; (0, 0.0): none; None: not a
    report, or a file written before 2026-12-07, which did not record them);
    `charts`, `timeline_charts`, `race_charts`, `heartbeat_charts`: per demo, `{"file": name}` or
    `{"skipped": why}`;
    `pythons`: in a report across several Pythons, each interpreter's own facts."""

    kind: str | None = None
    scale: str | None = None
    trials: int | None = None
    warmup: bool = False
    skipped: tuple[dict[str, Any], ...] = ()
    partial: bool = False
    interrupted: str | None = None
    stem: str | None = None
    lock_costs: dict[str, float] = field(default_factory=dict)
    server_ceiling: dict[str, Any] | None = None
    extra: tuple[int, float] | None = None
    charts: dict[str, dict[str, str]] = field(default_factory=dict)
    timeline_charts: dict[str, dict[str, str]] = field(default_factory=dict)
    race_charts: dict[str, dict[str, str]] = field(default_factory=dict)
    heartbeat_charts: dict[str, dict[str, str]] = field(default_factory=dict)
    pythons: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of every field, for JSON (tuples as lists)."""
        plain: dict[str, Any] = json.loads(json.dumps({f.name: getattr(self, f.name) for f in fields(self)}))
        return plain


@dataclass(frozen=True)
class ResultsFile:
    """What a results file holds: every result, the environment, and the run's own facts."""

    results: tuple[Result, ...]
    environment: Mapping[str, Any]
    run: RunInfo
    sweeps: tuple[Result, ...] = ()  # the worker sweeps' results, apart from the main table's
    timelines: tuple[Result, ...] = ()  # the recorded runs the report draws, apart too
    races: tuple[Result, ...] = ()  # racy-counter trials for race statistics (`lab.studies.races`), apart too
    # The A/A pair: one variant run twice a round (`timing["twin"]` "a" and "b"), whose ratio
    # is the run's noise floor (`lab.render.answer.noise_floor`).
    noise: tuple[Result, ...] = ()

    def to_json(self) -> str:
        """The file's text; keys keep their order, so a round trip gives the same text and report."""
        doc = {
            "schema": SCHEMA,
            "version": SCHEMA_VERSION,
            "environment": dict(self.environment),
            "run": self.run.to_dict(),
            "results": [r.to_dict() for r in self.results],
            "sweeps": [r.to_dict() for r in self.sweeps],
            "timelines": [r.to_dict() for r in self.timelines],
            "races": [r.to_dict() for r in self.races],
            "noise": [r.to_dict() for r in self.noise],
        }
        return json.dumps(doc, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "results file") -> ResultsFile:
        """Parse a results file, or raise BadResultsFile saying what is wrong with it."""
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadResultsFile(f"{source} is not JSON ({exc.msg} at line {exc.lineno})") from None
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            raise BadResultsFile(f'{source} is not a lab results file (no "schema": "{SCHEMA}")')
        if doc.get("version") not in READS:
            raise BadResultsFile(
                f"{source} has schema version {doc.get('version')!r}; this lab reads versions "
                + ", ".join(map(str, READS))
            )
        found = decode(doc, FileSchema, source)
        return cls(tuple(found.results), found.environment, found.run, tuple(found.sweeps),
                   tuple(found.timelines), tuple(found.races), tuple(found.noise))  # fmt: skip

    @classmethod
    def load(cls, path: str | Path) -> ResultsFile:
        """Read a results file from disk."""
        return cls.from_json(read_text(path), source=repr(str(path)))


def undrawable(source: str, exc: Exception) -> BadResultsFile:
    """The error for a file the schema admits but whose values a view of it cannot use: the
    schema types the environment, a timeline's records and a result's parameters and metrics
    loosely (JSON objects of any values, as each demo and machine has its own), so a wrong type
    there shows only where a view reads it. Said in one line, with where it failed."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return BadResultsFile(f"{source} is a damaged lab results file: {in_one_line(exc)}{where}")


def read_text(path: str | Path) -> str:
    """A results file's text, or BadResultsFile: it is missing, cannot be read, or is not UTF-8
    (JSON's encoding: a flipped byte there is damage, said in one line, not a UnicodeDecodeError)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BadResultsFile(f"cannot read results file {str(path)!r}: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadResultsFile(
            f"{str(path)!r} is not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start:,}): "
            "a damaged results file"
        ) from None


class FileSchema(msgspec.Struct):
    """A results file's typed schema (versions 1-4: what a version lacks is absent, and defaults).

    msgspec, rather than a check by hand or pydantic: it decodes into the lab's own frozen
    `Result` dataclass with every field's type checked, and names the exact field that is wrong
    (`$.results[3].elapsed_s`), at a fraction of pydantic's cost and with no model classes to
    keep beside `Result`."""

    schema: str
    version: int
    environment: dict[str, Any]
    run: RunInfo
    results: list[Result]
    sweeps: list[Result] = msgspec.field(default_factory=list)
    timelines: list[Result] = msgspec.field(default_factory=list)
    races: list[Result] = msgspec.field(default_factory=list)
    noise: list[Result] = msgspec.field(default_factory=list)


def decode(data: Any, schema: Any, source: str) -> Any:
    """`data` (parsed JSON) as `schema`, every type checked, or BadResultsFile naming the field."""
    try:
        return msgspec.convert(data, type=schema)
    except msgspec.ValidationError as exc:
        raise BadResultsFile(f"{source} is a damaged lab results file: {exc}") from None


def results_from(data: Any, source: str) -> tuple[Result, ...]:
    """A JSON array of results (`lab run --json`), every type checked; BadResultsFile for
    anything else, an empty array included (nothing to read)."""
    if not isinstance(data, list) or not data:
        raise BadResultsFile(f"{source} is neither a lab results file nor a non-empty JSON array of results")
    return tuple(decode(data, list[Result], source))


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` so that a reader sees the old file or the whole new one, never part.

    The text goes to a temporary file in the same folder, flushed to disk, then renamed over
    `path` (a rename within one file system is atomic).
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~UMASK)  # mkstemp makes the file private; a report is for reading
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def prepare_folder(path: Path) -> None:
    """Create `path` if needed and check that files can be written in it, or raise LabError."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".lab-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InvalidParameter(f"cannot write reports into {str(path)!r}: {exc.strerror}") from None


def dump_results(results: Iterable[Result]) -> str:
    """A JSON array of results, one object per result (what `lab run --json` prints)."""
    return json.dumps([r.to_dict() for r in results], indent=1)
