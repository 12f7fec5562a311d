"""What each counter ended at, trial by trial."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from lab.measure import stats
from lab.render.common import table
from lab.results import Result


def counter_table(results: Sequence[Result]) -> str:
    """Per counter demo and variant, what the counter ended at over the trials."""
    rows = []
    for (demo, variant), group in stats.group(r for r in results if "increments" in r.params).items():
        done = [r for r in group if r.observed is not None]
        lost = [r.lost for r in done if r.lost is not None]
        rows.append(
            (
                demo,
                variant,
                f"{group[0].params.get('workers', 1)} x {group[0].params['increments']}",
                group[0].expected,
                stats.tally(r.observed for r in group),
                f"{sum(bool(r.correct) for r in group)}/{len(group)}",
                f"{statistics.fmean(lost):.1f}" if lost else None,
            )
        )
    headers = [
        "demo",
        "variant",
        "workers x increments",
        "expected",
        "observed (value x trials)",
        "correct",
        "mean lost updates",
    ]
    return table(rows, headers)
