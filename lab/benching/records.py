"""`lab bench`'s records: one `Row` per model and worker count, and the `Bench` that holds them.

Data flows one way: `lab.benching.run` measures trials and builds rows, the JSON (schema
`lab.bench`) holds them with the verdict computed from them, and the markdown and the chart
are rendered from that JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from lab.errors import BadResultsFile
from lab.results import variant_label

SCHEMA = "lab.bench"
SCHEMA_VERSION = 1
SERIAL = "serial"  # the baseline's `model`: the function in a loop, in one thread


@dataclass(frozen=True)
class Row:
    """One model at one worker count, over its trials (seconds; memory in bytes).

    `elapsed_s` is the median time to map the function over every item, workers already started
    (`times` holds each trial's); `speedup` is serial's median over this one, `efficiency` the
    speedup per worker. `cpu_cores` is the median, over trials, of the CPU time used by the lab
    and its worker processes during the map divided by its wall time: 1.0 is one core busy.
    `memory` is the trial with the highest peak (`lab.measure.memory`: baseline, peak and per worker).
    `outputs_match` says whether every trial's outputs equalled serial's, in order
    (`mismatched_trials` counts those that did not); None when there is nothing to compare.
    `error` is None, or why the row stopped (its completed trials are kept).
    """

    model: str
    options: Mapping[str, str]
    workers: int
    trials: int
    elapsed_s: float | None
    elapsed_min_s: float | None
    elapsed_max_s: float | None
    times: tuple[float, ...]
    speedup: float | None
    efficiency: float | None
    cpu_cores: float | None
    memory: Mapping[str, Any] | None
    outputs_match: bool | None
    mismatched_trials: int
    error: str | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))
        object.__setattr__(self, "times", tuple(self.times))
        if self.memory is not None:
            object.__setattr__(self, "memory", MappingProxyType(dict(self.memory)))

    @property
    def variant(self) -> str:
        """The model and its options, as the rest of the lab names them (`asyncio+uvloop`)."""
        return variant_label(self.model, self.options)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of every field, for JSON."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["times"] = list(self.times)
        return {k: dict(v) if isinstance(v, Mapping) else v for k, v in out.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Row:
        """The inverse of `to_dict`."""
        return cls(**{f.name: data[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class Bench:
    """A whole bench: what ran (`job`), its rows, the verdict drawn from them, and notes.

    `job` names the function(s), the items, trials, warm-up and timeout; `notes` says what was
    not run and why; `partial` is True when a Ctrl-C or SIGTERM stopped it early.
    """

    job: Mapping[str, Any]
    rows: tuple[Row, ...]
    verdict: tuple[str, ...]
    notes: tuple[str, ...] = ()
    environment: Mapping[str, Any] = field(default_factory=dict)
    partial: bool = False

    def row(self, model: str, workers: int) -> Row | None:
        """The row of `model` at `workers` workers, if it ran."""
        return next((r for r in self.rows if r.model == model and r.workers == workers), None)

    @property
    def failed(self) -> bool:
        """Whether any row stopped on an error."""
        return any(r.error for r in self.rows)

    def to_json(self) -> str:
        """The JSON file's text: schema, version, the job, the rows, verdict and notes."""
        doc = {
            "schema": SCHEMA,
            "version": SCHEMA_VERSION,
            "job": dict(self.job),
            "partial": self.partial,
            "verdict": list(self.verdict),
            "notes": list(self.notes),
            "rows": [r.to_dict() for r in self.rows],
            "environment": dict(self.environment),
        }
        return json.dumps(doc, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "bench file") -> Bench:
        """Read back what `to_json` wrote, or raise BadResultsFile saying why not."""
        try:
            doc = json.loads(text)
            if doc.get("schema") != SCHEMA or doc.get("version") != SCHEMA_VERSION:
                raise BadResultsFile(
                    f"{source} is not a lab bench file of version {SCHEMA_VERSION} "
                    f"(schema {doc.get('schema')!r}, version {doc.get('version')!r})"
                )
            return cls(
                job=doc["job"],
                rows=tuple(Row.from_dict(r) for r in doc["rows"]),
                verdict=tuple(doc["verdict"]),
                notes=tuple(doc["notes"]),
                environment=doc["environment"],
                partial=doc["partial"],
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            if isinstance(exc, BadResultsFile):
                raise
            raise BadResultsFile(f"{source} is not a lab bench file: {type(exc).__name__}: {exc}") from None
