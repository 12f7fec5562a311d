"""The worker sweeps, a table and a chart per swept demo."""

from __future__ import annotations

from collections.abc import Sequence

from lab import pictures
from lab.demos import describe
from lab.render.common import table
from lab.results import Result
from lab.studies.sweeps import HEADERS, rows


def sweep_section(sweeps: Sequence[Result], charts: dict[str, dict[str, str]]) -> str:
    """Each swept demo's table, and its chart beside the report (or why there is none)."""
    if not sweeps:
        return "No sweep in this run."
    parts = [
        "Each model (default options) at several worker counts. Efficiency is ideal / measured: for "
        "pool-map the waits alone; for cpu-bound the model's one-worker time / min(workers, tasks), "
        "perfect parallelism with a core per worker, which no machine reaches beyond its cores."
    ]
    for demo in dict.fromkeys(r.demo for r in sweeps):
        group = [r for r in sweeps if r.demo == demo]
        p = group[0].params
        parts.append(f"### {demo}: {describe(demo, p)}")
        parts.append(table(rows(group), HEADERS))
        parts.append(pictures.markdown(demo, charts, alt="sweep", noun="Chart"))
    return "\n\n".join(parts)
