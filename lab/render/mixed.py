"""Waiting and computing in one job (mixed): each variant's time beside its caller's heartbeat.

A heartbeat in the caller (a coroutine on asyncio's loop, a thread of the lab's process for the
other models) asks to wake every millisecond; how late it woke says how long the caller could not
run. The worst lateness and the blocked share (time in gaps over 10 ms) show a stalled loop that
a percentile of beats hides (`lab.measure.heartbeat`)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import NamedTuple

from lab import pictures
from lab.measure import stats
from lab.render.common import by_workers, note, s, table
from lab.results import Result
from lab.studies.sweeps import median_metric


def metric(group: Sequence[Result], key: str) -> float | None:
    """The median over trials of one heartbeat figure."""
    return median_metric(group, lambda r: r.metrics.get(key) if r.metrics else None)


def ms(value: float | None) -> str:
    """Seconds as milliseconds, or '-'."""
    return "-" if value is None else f"{value * 1000:.1f}"


class Row(NamedTuple):
    """One variant's medians over its trials, and whether every trial was right."""

    variant: str
    median: float | None
    worst: float | None  # the heartbeat's worst lateness, s
    blocked: float | None  # the share of the run in gaps over 10 ms
    right: bool


def by_share(results: Sequence[Result], demo: str) -> dict[int, dict[tuple[str, str, int], list[Result]]]:
    """The demo's results by rounds (the CPU part's size), most first, then as `by_workers`."""
    ran = [r for r in results if r.job == demo]
    return {
        rounds: by_workers(r for r in ran if r.params["rounds"] == rounds)
        for rounds in sorted({int(r.params["rounds"]) for r in ran}, reverse=True)
    }


def main_groups(results: Sequence[Result], demo: str) -> dict[tuple[str, str, int], list[Result]]:
    """The groups at the most rounds: the job whose CPU part the section and the answer weigh."""
    shares = by_share(results, demo)
    return next(iter(shares.values())) if shares else {}


def rows(results: Sequence[Result], demo: str) -> list[Row]:
    """One `Row` per variant that ran the demo, at the most rounds."""
    found = []
    for (_, variant, _), group in main_groups(results, demo).items():
        spread = stats.elapsed(group)
        right = all(r.correct and r.outputs_ok for r in group)
        found.append(Row(variant, spread.median if spread else None, metric(group, "heartbeat_max_s"),
                         metric(group, "heartbeat_blocked_share"), right))  # fmt: skip
    return found


def mixed_section(results: Sequence[Result], charts: dict[str, dict[str, str]], demo: str) -> str:
    """One row per variant: time, the heartbeat's lateness (p50, p99, worst), the blocked share,
    verified responses and computed values; then the heartbeat's course over one recorded run
    per variant (`charts`: the run's `heartbeat_charts`)."""
    groups = main_groups(results, demo)
    if not groups:
        return f"_{demo} did not run._"
    table_rows = []
    for (_, variant, workers), group in groups.items():
        spread, start, p = stats.elapsed(group), stats.startup(group), group[0].params
        share = metric(group, "heartbeat_blocked_share")
        table_rows.append((
            variant, workers, f"{p['tasks']} x ({p['latency']:g} s wait + {p['rounds']:,} rounds)",
            s(spread.median if spread else None), s(start.median if start else None),
            ms(metric(group, "heartbeat_p50_s")),
            ms(metric(group, "heartbeat_p99_s")), ms(metric(group, "heartbeat_max_s")),
            "-" if share is None else f"{share:.0%}",
            f"{sum(r.observed or 0 for r in group)}/{sum(r.expected or 0 for r in group)}",
            "yes" if all(r.outputs_ok for r in group) else "NO", note(spread),
        ))  # fmt: skip
    headers = ["variant", "workers", "items", "median s", "start-up s", "beat p50 ms", "beat p99 ms",
               "beat worst ms", "blocked", "verified", "values right", ""]  # fmt: skip
    return (
        "Each item waits on the lab's server, then computes on what it received. While the work "
        "runs, a heartbeat in the caller (a coroutine on asyncio's loop; a thread of the lab's "
        "process for the other models) asks to wake every 1 ms: *beat* columns say how late it "
        "woke; *blocked* is the share of the run spent in gaps over 10 ms, when the caller could "
        "not run at all. asyncio's option `offload` says where the CPU part went: `none` (in the "
        "coroutine, on the loop), `thread`, `process` or `interpreter`; *start-up* is outside the "
        "median (a pool started, and stopped, before and after the clock).\n\n"
        + table(table_rows, headers)
        + "\n\nThe heartbeat over one recorded run per variant (its worst lateness in each slice of "
        "the run; the same runs' timelines are in Timelines):\n\n"
        + pictures.markdown(demo, charts, alt="heartbeat", noun="Picture")
        + share_section(results, demo)
    )


def share_section(results: Sequence[Result], demo: str) -> str:
    """Each variant's median time at each CPU share (rounds an item) that ran, the fastest in
    bold, and where the fastest changes: the break-even of each way of placing the CPU part.
    Empty when one share ran."""
    shares = by_share(results, demo)
    if len(shares) < 2:
        return ""
    ordered = sorted(shares)  # fewest rounds first
    medians: dict[str, dict[int, float]] = {}
    for rounds in ordered:
        for (_, variant, _), group in shares[rounds].items():
            spread = stats.elapsed(group)
            if spread and all(r.correct and r.outputs_ok for r in group):
                medians.setdefault(variant, {})[rounds] = spread.median
    fastest = {
        rounds: min((v for v in medians if rounds in medians[v]), key=lambda v: medians[v][rounds])
        for rounds in ordered
        if any(rounds in m for m in medians.values())
    }
    steps = list(fastest.items())
    if not steps:  # no share with a right run
        return ""
    changes = [f"{steps[0][1]} at {steps[0][0]:,}"] + [
        f"{variant} from {rounds:,}"
        for (_, before), (rounds, variant) in itertools.pairwise(steps)
        if variant != before
    ]
    # Each variant against the fastest at the least CPU on its own interpreter (a report across
    # Pythons holds several): what handing the CPU part elsewhere must beat there.
    python = {r.variant: str((r.python or {}).get("label", "")) for r in results if r.job == demo}
    baseline = {
        label: min((v for v in medians if python[v] == label and ordered[0] in medians[v]),
                   key=lambda v: medians[v][ordered[0]], default=None)
        for label in set(python.values())
    }  # fmt: skip
    table_rows = []
    for variant, mine in medians.items():
        base = baseline.get(python[variant])
        pays = "-" if base is None or base == variant else pays_from(mine, medians[base])
        table_rows.append((
            variant, *(cell(mine.get(rounds), fastest.get(rounds) == variant) for rounds in ordered),
            pays if pays == "-" else f"{pays} ({base})",
        ))  # fmt: skip
    return (
        "\n\n### Where the answer flips: the CPU part's size\n\n"
        "The same items with more or fewer rounds of work after each wait (0: waiting alone), "
        "median seconds over the trials, the fastest in bold. Handing the CPU part elsewhere "
        "costs a hand-over per item; it pays once the part is large enough. Fastest: "
        + ", then ".join(changes)
        + ". *Break-even*: the fewest rounds from which a variant is faster, at every share from "
        "there on, than the fastest variant at the least CPU on the same interpreter (named).\n\n"
        + table(table_rows, ["variant", *(f"{r:,} rounds" for r in ordered), "break-even"])
    )


def pays_from(mine: dict[int, float], theirs: dict[int, float]) -> str:
    """The fewest rounds from which `mine` is faster than `theirs` at every share both ran,
    'never', or '-' when they share fewer than two (the break-even of one way of placing the CPU
    part)."""
    both = sorted(set(mine) & set(theirs))
    if len(both) < 2:  # a costly model runs one share: no break-even to read
        return "-"
    for i, rounds in enumerate(both):
        if all(mine[r] < theirs[r] for r in both[i:]):
            return f"{rounds:,} rounds"
    return "never"


def cell(median: float | None, best: bool) -> str:
    """A median time, in bold when it is the fastest of its column."""
    if median is None:
        return "-"
    return f"**{median:.4f}**" if best else f"{median:.4f}"
