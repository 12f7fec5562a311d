"""Every demo parameter, declared once: name, type, bounds, help and short label.

Validation (`Param.check`), the command line's flags (`lab run`, `lab sweep`, `lab races`),
the sweep keys, progress labels (`describe`) and the docs all derive from the declarations:
`PARAMS` holds those several demos share, and a demo declares its own beside them
(`lab.demos.Demo.params`; `lab.demos.parameters()` is both). A demo says which it takes and
with which defaults; a model's own options are declared on the model (`lab.models.base.Option`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lab.errors import InvalidParameter, UnknownName
from lab.http.server import MAX_SIZE
from lab.models.base import KERNELS, YIELD_POINTS

MAX_REQUESTS = 1_000_000
MAX_LATENCY_S = 3600.0


@dataclass(frozen=True)
class Param:
    """One parameter: `kind` is "int", "seconds", "bytes" (a byte count: `100000`, `1MB`, `10MiB`),
    "choice" or "url"; `low` and `high` bound
    numbers (None: unbounded); `choices` for a choice; `label` is its short name in progress
    lines and sweep labels (`w5 t5 s0.1`); `sweeps` whether `lab sweep` passes it on."""

    name: str
    kind: str
    help: str
    label: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    sweeps: bool = True

    @property
    def flag(self) -> str:
        """The command line's flag: `--yield-point`."""
        return "--" + self.name.replace("_", "-")

    def check(self, value: Any, high: float | None = None) -> Any:
        """`value` checked and converted, or InvalidParameter naming it and what is valid
        (`high` overrides the declared upper bound: a model's worker limit)."""
        top = self.high if high is None else high
        if self.kind == "int":
            return check_int(self.name, value, int(self.low or 0), None if top is None else int(top))
        if self.kind == "seconds":
            seconds = check_seconds(self.name, value, positive=bool(self.low))
            if top is not None and seconds > top:
                raise InvalidParameter(f"{self.name} must be at most {top:g} seconds, not {seconds:g}")
            return seconds
        if self.kind == "bytes":
            return check_bytes(self.name, value, int(self.low or 0), None if top is None else int(top))
        if self.kind == "choice":
            if value not in self.choices:
                raise UnknownName(self.name.replace("_", " "), value, self.choices)
            return value
        return check_url(value)


PARAMS: dict[str, Param] = {
    p.name: p
    for p in (
        Param("tasks", "int", "number of tasks", "t", low=0),
        Param("sleep", "seconds", "seconds each task waits", "s", low=0),
        Param("workers", "int", "workers per model", "w", low=1, sweeps=False),
        Param("increments", "int", "increments per worker", "i", low=0),
        Param("rounds", "int", "rounds of work per task (python: multiply-adds; hashlib: 64 bytes each)",
              "r", low=0),
        Param("kernel", "choice", "what a cpu-bound task computes: python (arithmetic, holding the GIL) "
              "or hashlib (SHA-256 in C, letting go of it)", "k ", choices=KERNELS),
        Param("chunksize", "int", "items per message to a worker process (default like Pool.map)",
              "chunksize", low=1, sweeps=False),
        Param("yield_point", "choice", "between the counter's read and its write: sleep0 (a sleep(0)) "
              "or none (a bare read-modify-write)", "yield ", choices=YIELD_POINTS),
        Param("requests", "int", "requests to send", "n", low=1, high=MAX_REQUESTS),
        Param("latency", "seconds", "seconds the server waits per request", "l", low=0, high=MAX_LATENCY_S),
        Param("size", "bytes", "bytes per response or message (1MB, 10MiB)", "size", low=0, high=MAX_SIZE),
        Param("server", "url", "URL of a running lab server (default: start one on 127.0.0.1)", "server "),
    )
}  # fmt: skip


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """`value` as an int within [low, high], or InvalidParameter naming it and the valid range."""
    if isinstance(value, bool) or not isinstance(value, int):
        if not (isinstance(value, float) and value.is_integer()):
            raise InvalidParameter(f"{name} must be a whole number, not {value!r}")
        value = int(value)
    assert isinstance(value, int)
    if value < low or (high is not None and value > high):
        valid = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise InvalidParameter(f"{name} must be {valid}, not {value}")
    return value


# A byte count's units: SI (kB, MB, GB: powers of 1000) and IEC (KiB, MiB, GiB: powers of 1024),
# as `pip`, `du --si` and hyperfine's docs write them; the letters' case does not matter.
UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
         "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}  # fmt: skip
BYTES = re.compile(r"\s*(-?\d+(?:\.\d+)?)\s*([a-z]*)\s*", re.IGNORECASE)


def parse_bytes(name: str, value: Any) -> int:
    """A byte count from a whole number or a text like `100000`, `1MB`, `1.5 KiB`, or InvalidParameter."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return check_int(name, value, -(2**63))  # whole; the caller checks the range
    found = BYTES.fullmatch(value) if isinstance(value, str) else None
    unit = found.group(2).lower() if found else ""
    if found is None or unit not in UNITS:
        raise InvalidParameter(
            f"{name} must be a byte count like 100000, 1MB or 10MiB "
            f"(units: B, kB, MB, GB, TB, KiB, MiB, GiB, TiB), not {value!r}"
        )
    count = float(found.group(1)) * UNITS[unit]
    if not count.is_integer():
        raise InvalidParameter(f"{name} must be a whole number of bytes, not {value!r} ({count:g} bytes)")
    return int(count)


def check_bytes(name: str, value: Any, low: int, high: int | None = None) -> int:
    """A byte count (`parse_bytes`) within [low, high], or InvalidParameter naming both."""
    count = parse_bytes(name, value)
    if count < low or (high is not None and count > high):
        valid = f"from {low:,} to {high:,} bytes" if high is not None else f"{low:,} bytes or more"
        raise InvalidParameter(f"{name} must be {valid}, not {value!r}")
    return count


def check_seconds(name: str, value: Any, positive: bool = False) -> float:
    """`value` as a finite number of seconds, >= 0 (or > 0), or InvalidParameter."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidParameter(f"{name} must be a number of seconds, not {value!r}")
    if math.isnan(value) or math.isinf(value) or value < 0 or (positive and value == 0):
        sign = "positive" if positive else "0 or more"
        raise InvalidParameter(f"{name} must be a finite number of seconds, {sign}, not {value}")
    return float(value)


def check_url(value: Any) -> str:
    """A server's base URL, `http://host:port` (a path prefix allowed), or InvalidParameter."""
    parts = urlsplit(value) if isinstance(value, str) else None
    try:
        ok = parts is not None and parts.scheme in ("http", "https") and bool(parts.hostname)
        ok = ok and parts is not None and parts.port != 0 and not parts.query and not parts.fragment
    except ValueError:  # a port that is not a number, or out of range
        ok = False
    if not ok:
        raise InvalidParameter(
            f"server must be a URL like http://127.0.0.1:8080 (a lab server: see `lab serve`), not {value!r}"
        )
    return str(value).rstrip("/")


def describe(params: Mapping[str, Any]) -> str:
    """A short label of a parameter set: `w5 t5 s0.1`."""
    return " ".join(
        f"{label(k)}{v:g}" if isinstance(v, float) else f"{label(k)}{v}" for k, v in params.items()
    )


def label(name: str) -> str:
    """A parameter's short label (its name, for one the lab does not declare)."""
    return PARAMS[name].label if name in PARAMS else name


def help_with_defaults(param: Param, defaults: Mapping[str, Mapping[str, Any]]) -> str:
    """A flag's help: the parameter's own, and each demo's default (`pool-map: 5, cpu-bound: 4`)."""
    found = {
        demo: value for demo, values in defaults.items() if (value := values.get(param.name)) is not None
    }
    shown = [
        f"{demo}: {value:g}" if isinstance(value, float) else f"{demo}: {value}"
        for demo, value in found.items()
    ]
    return param.help + (f" ({', '.join(shown)})" if shown else "")
