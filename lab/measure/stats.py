"""Summaries of repeated trials: median, spread, and whether the spread is too wide to trust."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lab.results import Result

UNSTABLE_MAX_OVER_MIN = 1.5  # pyperf-style warnings: max/min above this ...
UNSTABLE_REL_STDEV = 0.10  # ... or a standard deviation above 10% of the mean
TOO_SHORT_S = 0.001  # below a millisecond, the spread is mostly clock and scheduler noise


@dataclass(frozen=True)
class Spread:
    """Median, min, max and standard deviation of some timings, in seconds."""

    n: int
    median: float
    low: float
    high: float
    stdev: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread | None:
        """The spread of `values`, or None when there are none."""
        if not values:
            return None
        stdev = statistics.stdev(values) if len(values) > 1 else 0.0
        return cls(len(values), statistics.median(values), min(values), max(values), stdev)

    @property
    def too_short(self) -> bool:
        """True when the median is too short (under 1 ms) for its spread to say anything."""
        return self.median < TOO_SHORT_S

    @property
    def unstable(self) -> bool:
        """True when the trials disagree too much for the median to mean much."""
        if self.n < 2 or self.low <= 0 or self.too_short:
            return False
        mean = statistics.fmean([self.low, self.median, self.high])
        return self.high / self.low > UNSTABLE_MAX_OVER_MIN or self.stdev / mean > UNSTABLE_REL_STDEV


def elapsed(results: Iterable[Result]) -> Spread | None:
    """The spread of the elapsed times of the results that did not fail."""
    return Spread.of([r.elapsed_s for r in results if r.elapsed_s is not None])


def startup(results: Iterable[Result]) -> Spread | None:
    """The spread of the start-up times of the results that did not fail."""
    return Spread.of([r.startup_s for r in results if r.startup_s is not None])


def group(results: Iterable[Result]) -> dict[tuple[str, str], list[Result]]:
    """Results grouped by (demo, variant), in the order first seen."""
    groups: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        groups.setdefault((r.demo, r.variant), []).append(r)
    return groups


def tally(values: Iterable[int | None]) -> str:
    """Observed counter values, most frequent first: `5 x3, 4 x1`."""
    counts: dict[int | None, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], -(kv[0] or 0)))
    return ", ".join(f"{'-' if v is None else v} x{n}" for v, n in ordered)
