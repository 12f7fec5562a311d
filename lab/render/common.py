"""What every section shares: tables, number formats, grouping, and what was timed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tabulate import tabulate

from lab.measure import stats
from lab.models import MODELS
from lab.results import Result

TIMED = (
    "`elapsed` is the work alone, every worker already started, as the article timed its map; "
    "`start-up` is starting and shutting down the pool or event loop, reported apart. "
    "Clock: `time.perf_counter`. Medians over the trials, with min-max; a row whose max/min is "
    "above 1.5 or whose standard deviation is above 10% is marked *unstable*."
)


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A GitHub pipe table, with numbers kept exactly as formatted here."""
    return tabulate(rows, headers, tablefmt="github", disable_numparse=True, missingval="-")


def s(value: float | None, digits: int = 4) -> str:
    """Seconds, or '-'."""
    return "-" if value is None else f"{value:.{digits}f}"


def by_workers(results: Iterable[Result]) -> dict[tuple[str, str, int], list[Result]]:
    """Results grouped by (job, variant, workers), in the order first seen (`Result.job`: the
    demo, and its kind of work where that is not the default)."""
    groups: dict[tuple[str, str, int], list[Result]] = {}
    for r in results:
        groups.setdefault((r.job, r.variant, int(r.params.get("workers", 1))), []).append(r)
    return groups


def median_of(groups: dict[tuple[str, str, int], list[Result]], key: tuple[str, str, int]) -> float | None:
    """The median elapsed time of one group, or None."""
    spread = stats.elapsed(groups.get(key, []))
    return spread.median if spread else None


def note(spread: stats.Spread | None) -> str:
    """The warning a timing row deserves, if any."""
    if spread is None:
        return "FAILED"
    if spread.too_short:
        return "too short to time"
    return "unstable" if spread.unstable else ""


def model_for(approach: str) -> str | None:
    """The model that declares itself the article's `approach` (None if none is installed)."""
    return next((name for name, m in MODELS.items() if vars(m).get("approach") == approach), None)


def defaults_of(model: str, options: Mapping[str, str]) -> bool:
    """Whether `options` are the model's defaults (its first choice of each option)."""
    declared = MODELS.get(model)
    return declared is not None and all(
        value == declared.option(key).choices[0] for key, value in options.items() if key != "client"
    )
