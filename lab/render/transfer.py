"""Big data handed to workers, a demo's own section (`Section("sizes", ...)`: transfer's): by
payload size, each variant's time on one worker and on all, the speedup between them, and the
smallest size from which it pays; then, at the largest size, the moving alone (`rounds` 0) for
each way of handing the payload over (`via`), with the run's peak memory."""

from __future__ import annotations

from collections.abc import Sequence

from lab.measure import stats
from lab.measure.stats import MIN_EFFECT, Ratio
from lab.render.common import defaults_of, s, table
from lab.results import Result
from lab.studies.sweeps import median_metric, size


def default_rows(results: Sequence[Result], demo: str) -> list[Result]:
    """The demo's results with a time and a `via` (each model's default variant: the section
    teaches how data moves, not start methods)."""
    return [
        r for r in results
        if r.demo == demo and defaults_of(r.model, r.options) and r.elapsed_s and "via" in r.params
    ]  # fmt: skip


Speedup = tuple[str, int, Sequence[Result], Sequence[Result], Ratio | None]


def speedups(results: Sequence[Result], demo: str) -> list[Speedup]:
    """Each (variant, size, the trials on one worker, those on the most workers, the speedup
    between them) of the rows with work (`rounds` above 0) handed as an argument, smallest size first."""
    rows = [r for r in default_rows(results, demo) if r.params["rounds"] and r.params["via"] == "argument"]
    found: list[Speedup] = []
    for variant in dict.fromkeys(r.variant for r in rows):
        mine = [r for r in rows if r.variant == variant]
        for payload in sorted({int(r.params["size"]) for r in mine}):
            at = [r for r in mine if r.params["size"] == payload]
            most = max(int(r.params["workers"]) for r in at)
            one = [r for r in at if r.params["workers"] == 1]
            many = [r for r in at if r.params["workers"] == most]
            if most > 1 and one:
                found.append((variant, payload, one, many, Ratio.of(stats.paired(one, many))))
    return found


def median_s(group: Sequence[Result]) -> str:
    """A group's median time, or '-'."""
    spread = stats.elapsed(group)
    return s(spread.median if spread else None)


def rate(group: Sequence[Result]) -> str:
    """A group's median MB/s."""
    value = median_metric(group, lambda r: (r.metrics or {}).get("megabytes_per_s"))
    return "-" if value is None else f"{value:,.0f}"


def pays_from(found: Sequence[Speedup], variant: str) -> str:
    """The smallest size from which the variant's speedup is shown (one worker's time over all
    workers', its whole interval above `MIN_EFFECT`: `Ratio.verdict` "slower") at every size above
    it too; `never` where it is at none, `-` where unmeasured."""
    mine = [(payload, ratio) for v, payload, _, _, ratio in found if v == variant]
    if not mine or any(ratio is None for _, ratio in mine):
        return "-"
    shown = [ratio is not None and ratio.verdict(MIN_EFFECT) == "slower" for _, ratio in mine]
    for i, (payload, _) in enumerate(mine):
        if all(shown[i:]):
            return size(payload)
    return "never"


def sizes_section(results: Sequence[Result], demo: str) -> str:
    """The speedup by payload size, then the moving alone at the largest size."""
    found = speedups(results, demo)
    rows = [
        (variant, size(payload), median_s(one), f"{many[0].params['workers']}: {median_s(many)}",
         ratio.text() if ratio else "-", rate(many))
        for variant, payload, one, many, ratio in found
    ]  # fmt: skip
    parts = []
    if rows:
        parts.append(
            "Each task handed its payload as an argument, with its work (`rounds` per KiB), on one worker "
            "and on one per task; speedup: one worker's time over all workers', paired by trial, with its "
            "95% interval.\n\n"
            + table(rows, ["variant", "payload", "1 worker s", "all workers: s", "speedup", "MB/s"])
        )
        variants = list(dict.fromkeys(v for v, *_ in found))
        parts.append(
            f"The speedup is shown (its interval above {MIN_EFFECT:g}x) from: "
            + ", ".join(f"{v} {pays_from(found, v)}" for v in variants)
            + "."
        )
    moving = moving_rows(results, demo)
    if moving:
        parts.append(
            "The moving alone (`rounds` 0, the largest payload): each way of handing it over, with what "
            "the run added to memory at its peak, the lab and its workers (a copy per worker shows here; "
            "the caller's payload counts in every row).\n\n"
            + table(
                moving, ["variant", "via", "payload", "tasks", "median s", "MB/s", "memory added at peak"]
            )
        )
    return "\n\n".join(parts) if parts else f"No {demo} results in this run."


def added(r: Result) -> float | None:
    """What a run added to memory at its peak: its peak over its baseline (`lab.measure.memory`)."""
    memory = r.memory or {}
    if "peak_bytes" not in memory or "baseline_bytes" not in memory:
        return None
    return float(memory["peak_bytes"] - memory["baseline_bytes"])


def moving_rows(results: Sequence[Result], demo: str) -> list[tuple[str, str, str, int, str, str, str]]:
    """At the largest payload, each variant and `via` with `rounds` 0: its time, MB/s and peak memory."""
    idle = [r for r in default_rows(results, demo) if not r.params["rounds"]]
    if not idle:
        return []
    top = max(int(r.params["size"]) for r in idle)
    groups: dict[tuple[str, str], list[Result]] = {}
    for r in idle:
        if r.params["size"] == top:
            groups.setdefault((r.variant, str(r.params["via"])), []).append(r)
    return [
        (
            variant,
            via,
            size(top),
            int(group[0].params["tasks"]),
            median_s(group),
            rate(group),
            size(median_metric(group, added)),
        )
        for (variant, via), group in groups.items()
    ]
