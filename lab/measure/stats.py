"""Summaries of repeated trials: median, spread, and whether the spread is too wide to trust;
paired ratios with their confidence intervals, and the verdict they allow.

How the lab decides "A is faster than B" (pyperf's and hyperfine's way, on paired trials): trial
i of every variant of a demo runs in round i, side by side, so a ratio is taken per round, where
a machine's drift slows both sides alike. A `Ratio` is the geometric mean of the paired ratios
with a 95% Student-t interval on their logarithms. B is slower than A only when the whole
interval of B/A lies above a minimum effect (`MIN_EFFECT`); an interval that lies
within the minimum effect is a tie, and one that straddles its edge is undecided (more trials
may decide it). An A/A pair (one variant run twice a round) checks the method: its interval
should hold 1.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from lab.results import Result

UNSTABLE_MAX_OVER_MIN = 1.5  # pyperf-style warnings: max/min above this ...
UNSTABLE_REL_STDEV = 0.10  # ... or a standard deviation above 10% of the mean
TOO_SHORT_S = 0.001  # below a millisecond, the spread is mostly clock and scheduler noise
MIN_EFFECT = 1.05  # the smallest ratio the lab calls a difference: 5%, as pyperf's "not significant"
# Two-sided 95% quantiles of Student's t for 1-30 degrees of freedom; the normal's 1.96 beyond.
T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
       2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
       2.052, 2.048, 2.045, 2.042)  # fmt: skip
Verdict = Literal["slower", "faster", "tie", "undecided"]


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


def t95(df: int) -> float:
    """The two-sided 95% quantile of Student's t with `df` degrees of freedom."""
    return T95[df - 1] if df <= len(T95) else 1.96


@dataclass(frozen=True)
class Ratio:
    """A ratio of two variants' times from paired trials: geometric mean, median, 95% interval.

    `low` and `high` bound the geometric mean of the paired ratios (a Student-t interval on their
    logarithms); with one pair there is no interval, and both are the ratio itself."""

    n: int
    mean: float  # the geometric mean of the paired ratios
    median: float  # the median of the paired ratios
    low: float
    high: float

    @classmethod
    def of(cls, pairs: Iterable[tuple[float, float]]) -> Ratio | None:
        """The ratio a/b of `(a, b)` pairs (both positive), or None when there are none."""
        logs = [math.log(a / b) for a, b in pairs if a > 0 and b > 0]
        if not logs:
            return None
        centre = statistics.fmean(logs)
        half = t95(len(logs) - 1) * statistics.stdev(logs) / math.sqrt(len(logs)) if len(logs) > 1 else 0.0
        median = math.exp(statistics.median(logs))
        return cls(len(logs), math.exp(centre), median, math.exp(centre - half), math.exp(centre + half))

    def verdict(self, effect: float = MIN_EFFECT) -> Verdict:
        """`slower` (a/b above `effect`, the whole interval), `faster` (below 1/`effect`), `tie`
        (the whole interval within them), or `undecided` (the interval straddles one edge)."""
        if self.n < 2:
            return "undecided"
        if self.low > effect:
            return "slower"
        if self.high < 1 / effect:
            return "faster"
        if self.high <= effect and self.low >= 1 / effect:
            return "tie"
        return "undecided"

    @property
    def floor(self) -> float:
        """For an A/A pair (one variant twice a round): the gap its geometric mean shows either
        way, what a run's place in its round alone did to a ratio in this run."""
        return max(self.mean, 1 / self.mean)

    def text(self, unit: str = "x") -> str:
        """`1.93x (1.85-2.01)`: the geometric mean and its interval."""
        if self.n < 2:
            return f"{self.mean:.2f}{unit}"
        return f"{self.mean:.2f}{unit} ({self.low:.2f}-{self.high:.2f})"


def interval(values: Sequence[float]) -> tuple[float, float] | None:
    """The 95% interval of the geometric mean of positive `values` (Student's t on their
    logarithms), or None with fewer than two."""
    ratio = Ratio.of((v, 1.0) for v in values)
    return (ratio.low, ratio.high) if ratio and ratio.n > 1 else None


def paired(a: Iterable[Result], b: Iterable[Result]) -> list[tuple[float, float]]:
    """The elapsed times of `a` and `b` trial by trial (the trials both have, by `Result.trial`)."""
    by_trial: Mapping[int, float] = {r.trial: r.elapsed_s for r in b if r.elapsed_s is not None}
    return [(r.elapsed_s, by_trial[r.trial]) for r in a if r.elapsed_s is not None and r.trial in by_trial]


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
