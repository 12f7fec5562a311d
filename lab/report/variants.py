"""The variants of a model side by side: event loops, start methods, locks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lab import stats
from lab.report.common import by_workers, median_of, s, table
from lab.results import Result


def loops_table(results: Sequence[Result]) -> str:
    """asyncio's own event loop beside uvloop, demo by demo."""
    groups = by_workers(r for r in results if r.model == "asyncio")
    rows = []
    for demo, variant, workers in groups:
        if variant != "asyncio" or (demo, "asyncio+uvloop", workers) not in groups:
            continue
        own, uv = (
            median_of(groups, (demo, variant, workers)),
            median_of(groups, (demo, "asyncio+uvloop", workers)),
        )
        ratio = f"{uv / own:.2f}" if own and uv else None
        rows.append((demo, workers, s(own), s(uv), ratio))
    if not rows:
        return "_No run here had both loops._"
    return table(rows, ["demo", "workers", "asyncio loop s", "uvloop s", "uvloop / asyncio"])


def start_methods_table(results: Sequence[Result]) -> str:
    """Processes under each start method: start-up and the map, apart."""
    methods = list(dict.fromkeys(r.options["start_method"] for r in results if r.model == "processes"))
    groups = by_workers(r for r in results if r.model == "processes" and r.options.get("lock") == "mp")
    rows: dict[tuple[str, int], list[str]] = {}
    for (demo, _, workers), group in groups.items():
        method = group[0].options["start_method"]
        spread, start = stats.elapsed(group), stats.startup(group)
        cells = rows.setdefault((demo, workers), ["-"] * (2 * len(methods)))
        i = 2 * methods.index(method)
        cells[i : i + 2] = [s(start.median if start else None), s(spread.median if spread else None)]
    if not rows:
        return "_No processes run here._"
    headers = ["demo", "workers"] + [f"{m} {what} s" for m in methods for what in ("start-up", "map")]
    return table([(d, w, *cells) for (d, w), cells in rows.items()], headers)


def locks_table(lock_costs: dict[str, float]) -> str:
    """Each lock's cost per acquire and release, measured apart from the demos."""
    rows = [(name, f"{us:.3f}") for name, us in lock_costs.items()]
    return table(rows, ["lock", "us per acquire + release (uncontended, median)"])


def variants_section(results: Sequence[Result], run: dict[str, Any]) -> str:
    """The variants of a model next to each other."""
    parts = [
        "Event loops (medians of `elapsed`):",
        loops_table(results),
        "Start methods (medians; start-up is the pool's start and shutdown, apart from the map):",
        start_methods_table(results),
    ]
    if run.get("lock_costs"):
        parts += [
            "Locks, measured apart in the parent process (the manager's is a socket round trip per "
            "acquire and per release):",
            locks_table(run["lock_costs"]),
        ]
    return "\n\n".join(parts)
