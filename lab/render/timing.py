"""Execution time per demo, variant and worker count."""

from __future__ import annotations

from collections.abc import Sequence

from lab.measure import stats
from lab.render.common import by_workers, median_of, note, s, table
from lab.results import Result
from lab.studies.sweeps import median_metric, per_worker_bytes, size


def time_table(results: Sequence[Result]) -> str:
    """Time per demo, variant and worker count."""
    groups = by_workers(results)
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
