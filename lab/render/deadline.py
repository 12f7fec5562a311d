"""Work that must stop on time, a demo's own section (`Section("stops", ...)`: deadline's): for
each kind of work and each variant, how long after the deadline the work stopped, how many
tasks' cleanup ran, the CPU spent after the deadline, and what the run left behind."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence

from lab.demos import DEMOS
from lab.render.common import table
from lab.results import Result


def by_kind(results: Sequence[Result], demo: str) -> dict[str, dict[str, list[Result]]]:
    """The demo's results with metrics, by kind of work then variant, in the order first seen."""
    found: dict[str, dict[str, list[Result]]] = {}
    for r in results:
        if r.demo == demo and r.metrics and not r.error:
            found.setdefault(str(r.params["kind"]), {}).setdefault(r.variant, []).append(r)
    return found


def median_metric(group: Sequence[Result], name: str) -> float | None:
    """The median of a metric over the trials that have it."""
    values = [float(r.metrics[name]) for r in group if r.metrics and r.metrics.get(name) is not None]
    return statistics.median(values) if values else None


def ms(value: float | None) -> str:
    """Seconds as milliseconds, or '-'."""
    return "-" if value is None else f"{value * 1000:,.1f}"


def spread_ms(group: Sequence[Result], name: str) -> str:
    """A metric's median over the trials in ms, with its min-max where the trials differ."""
    values = sorted(float(r.metrics[name]) for r in group if r.metrics and r.metrics.get(name) is not None)
    if not values:
        return "-"
    middle = ms(statistics.median(values))
    return middle if len(values) == 1 else f"{middle} ({ms(values[0])}-{ms(values[-1])})"


def cleanups(group: Sequence[Result]) -> str:
    """`3/3`: the tasks whose `finally` ran, of those started, in the trial that ran fewest."""
    done = [r.metrics.get("cleaned_up") for r in group if r.metrics]
    counted = [int(d) for d in done if d is not None]
    return f"{min(counted)}/{group[0].params['tasks']}" if counted else "-"


def all_cleaned(group: Sequence[Result]) -> bool:
    """Whether every task's `finally` ran in every trial."""
    return all(r.metrics and r.metrics.get("cleaned_up") == r.params["tasks"] for r in group)


def left(group: Sequence[Result]) -> str:
    """The most threads, processes and connections any trial left once it ended (0: nothing)."""
    counts = [int(r.metrics.get("left_behind") or 0) for r in group if r.metrics]
    return str(max(counts, default=0))


ROW: tuple[tuple[str, Callable[[Sequence[Result]], str]], ...] = (
    ("stopped after, ms", lambda g: spread_ms(g, "stopped_after_s")),
    ("median task, ms", lambda g: ms(median_metric(g, "stopped_after_p50_s"))),
    ("cleaned up", cleanups),
    ("CPU after, ms", lambda g: ms(median_metric(g, "ran_past_s"))),
    ("left behind", left),
)


def stops_section(results: Sequence[Result], demo: str) -> str:
    """For each kind of work, one row per variant: the stop after the deadline and the cleanup."""
    parts = []
    for kind, variants in by_kind(results, demo).items():
        first: Result = next(iter(variants.values()))[0]
        rows = [(variant, *(cell(group) for _, cell in ROW)) for variant, group in variants.items()]
        parts.append(
            f"**{kind}**: {DEMOS[demo].in_words(first.params)} (medians over the trials, min-max)\n\n"
            + table(rows, ["variant", *(name for name, _ in ROW)])
        )
    if not parts:
        return f"No {demo} results in this run."
    return (
        "*Stopped after*: from the deadline to the map's end, every task stopped and the pool "
        "free; *median task*: the median task's end after it; *cleaned up*: tasks whose `finally` "
        "ran, in the trial that ran fewest; *CPU after*: CPU time the run used after the deadline "
        "(work that ran on); *left behind*: worker threads and processes alive, and TCP connections "
        "open in the lab's process, once the run ended.\n\n" + "\n\n".join(parts)
    )
