"""Execution time per demo, variant and worker count (and, for a demo whose rows differ in more
than workers, per row: `mixed (rounds 0)`, `transfer (rounds 100, via shared)`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lab.measure import stats
from lab.render.common import median_of, note, s, table
from lab.results import Result
from lab.studies.sweeps import median_metric, per_worker_bytes, size

# Parameters that set how a row runs, not what it does: never a row of their own.
NOT_WORK = {"workers", "timeout", "fault"}


def labels(results: Sequence[Result]) -> list[str]:
    """Each result's job, with what sets its row apart from the job's other rows (the parameters
    but `NOT_WORK` whose values differ within the job), so that two kinds of work are never one
    median: `transfer (rounds 0, via shared)`; a job with one kind of work keeps its name."""
    values: dict[str, dict[str, set[str]]] = {}
    for r in results:
        for key, v in r.params.items():
            if key not in NOT_WORK:
                values.setdefault(r.job, {}).setdefault(key, set()).add(repr(v))
    varying = {job: [k for k, seen in keys.items() if len(seen) > 1] for job, keys in values.items()}
    shown = [", ".join(f"{k} {value(r.params[k])}" for k in varying[r.job] if k in r.params) for r in results]
    return [f"{r.job} ({apart})" if apart else r.job for r, apart in zip(results, shown, strict=True)]


def value(v: Any) -> str:
    """A parameter's value in a row's label: `10,000,000`, `0.5`, `shared`."""
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return f"{v:g}" if isinstance(v, float) else str(v)


def by_row(results: Sequence[Result]) -> dict[tuple[str, str, int], list[Result]]:
    """Results grouped by (labelled job, variant, workers), in the order first seen (`labels`)."""
    groups: dict[tuple[str, str, int], list[Result]] = {}
    for label, r in zip(labels(results), results, strict=True):
        groups.setdefault((label, r.variant, int(r.params.get("workers", 1))), []).append(r)
    return groups


def time_table(results: Sequence[Result]) -> str:
    """Time per demo, variant and worker count, a row per kind of work (`labels`)."""
    groups = by_row(results)
    rows = []
    for (demo, variant, workers), group in groups.items():
        spread, start = stats.elapsed(group), stats.startup(group)
        first = group[0]
        ideal = first.ideal_s
        over_ms = over_pct = speedup = None
        if spread and ideal is not None:
            over_ms = f"{(spread.median - ideal) * 1000:.1f}"
            over_pct = f"{(spread.median - ideal) / ideal * 100:.1f}" if ideal else None
        single = median_of(groups, (demo, variant, 1))
        if spread and single and workers > 1 and spread.median > 0:
            speedup = f"{single / spread.median:.2f}x"
        rows.append(
            (
                demo,
                variant,
                workers,
                first.params.get("tasks", first.params.get("requests", workers)),
                s(ideal, 2) if ideal is not None else None,
                s(spread.median if spread else None),
                f"{s(spread.low)}-{s(spread.high)}" if spread else None,
                f"{spread.stdev * 1000:.2f}" if spread else None,
                over_ms,
                over_pct,
                s(start.median if start else None),
                speedup,
                size(median_metric(group, per_worker_bytes)),
                note(spread),
            )
        )
    headers = [
        "demo",
        "variant",
        "workers",
        "tasks",
        "ideal s",
        "median s",
        "min-max s",
        "stdev ms",
        "overhead ms",
        "overhead %",
        "start-up s",
        "speedup vs 1 worker",
        "memory per worker",
        "note",
    ]
    return table(rows, headers)
