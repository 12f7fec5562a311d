"""The Timelines section: who ran which task, when, pictured from the recorded runs."""

from __future__ import annotations

from collections.abc import Sequence

from lab import pictures
from lab.demos import DEMOS
from lab.render.common import table
from lab.results import Result


def overlap_rows(recorded: Sequence[Result]) -> list[tuple[object, ...]]:
    """Per recorded run: tasks, how long they ran side by side, and their CPU share."""
    rows: list[tuple[object, ...]] = []
    for r in recorded:
        tasks = list(r.timeline or ())
        if not tasks:
            continue
        first_end = min(float(t["end_s"]) for t in tasks)
        last_start = max(float(t["start_s"]) for t in tasks)
        timed = [t for t in tasks if t.get("cpu_s") is not None]  # asyncio's coroutines: none
        cpu = [float(t["cpu_s"]) for t in timed]
        wall = sum(float(t["end_s"]) - float(t["start_s"]) for t in timed)
        rows.append((
            r.demo, r.variant, r.params.get("workers"), len({t["item"] for t in tasks}),
            len({t["lane"] for t in tasks}),
            f"{(last_start - min(float(t['start_s']) for t in tasks)) * 1000:.1f}",
            "yes" if last_start < first_end else "no",
            f"{sum(cpu) / wall:.0%}" if cpu and wall else "-",
            "-" if r.lost is None else r.lost,
        ))  # fmt: skip
    return rows


def timelines_section(recorded: Sequence[Result], charts: dict[str, dict[str, str]]) -> str:
    """Each recorded demo's picture and caption, then the figures read off the records."""
    if not recorded:
        return "No timeline in this run."
    parts = [
        "One recorded trial per model (default options, and each value of an option whose lesson "
        "is how the work overlaps), every task's start and end on one clock "
        "(`time.perf_counter`, system-wide). The JSON beside this report holds the records; "
        "`lab timeline DEMO` draws them and writes a trace that opens in Perfetto."
    ]
    for demo in dict.fromkeys(r.demo for r in recorded):
        caption = DEMOS[demo].timeline_caption if demo in DEMOS else ""  # a plug-in not installed here
        parts.append(f"### {demo}\n\n{caption}")
        parts.append(pictures.markdown(demo, charts, alt="timeline", noun="Picture"))
    headers = ["demo", "variant", "workers", "tasks", "lanes", "last start ms", "all overlap",
               "CPU share", "lost updates"]  # fmt: skip
    parts.append(table(overlap_rows(recorded), headers))
    return "\n\n".join(parts)
