"""What the numbers show, in sentences computed from the numbers, never canned."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from lab.demos import DEMOS, having
from lab.measure import stats
from lab.models import MODELS
from lab.render.common import by_workers, median_of
from lab.render.network import network_findings
from lab.results import Result
from lab.studies import races
from lab.studies.sweeps import median_metric, per_worker_bytes, size


def findings(
    results: Sequence[Result],
    environment: dict[str, Any],
    ceiling: Mapping[str, Any] | None = None,
    lock_costs_us: Mapping[str, float] | None = None,
    raced: Sequence[Result] = (),
) -> list[str]:
    """What the numbers show, as sentences computed from them."""
    groups = by_workers(results)
    lines = []
    for demo in having("speed"):  # each of its jobs: cpu-bound, then cpu-bound (hashlib)
        jobs = sorted({r.job for r in results if r.demo == demo}, key=lambda job: (job != demo, job))
        for job in jobs or [demo]:
            lines += speed_findings(job, groups)
    for demo in (name for name, d in DEMOS.items() if d.section and d.section.kind == "network"):
        lines += network_findings(results, ceiling, demo)
    for demo in having("waiting workers"):
        lines += memory_findings(results, demo)
        lines += startup_findings(results, demo)
    for demo in having("racy counter"):
        lines += race_findings([r for r in results if r.demo == demo])
    lines += race_statistics_findings(raced)
    for demo in having("locked counter"):
        lines += locked_findings([r for r in results if r.demo == demo], demo)
    lines += cluster_findings(results, lock_costs_us or {})
    if any(r.demo in having("computing") for r in results):
        gil = environment.get("gil_enabled", True)
        lines.append(
            "This interpreter "
            + (
                "has the GIL enabled: threads are one cook, taking turns on CPU work."
                if gil
                else "runs without the GIL: threads can compute in parallel."
            )
        )
    return lines


def speed_findings(demo: str, groups: dict[tuple[str, str, int], list[Result]]) -> list[str]:
    """Which variant was fastest with the most workers, and each one's speedup over one worker."""
    most = max((w for d, _, w in groups if d == demo), default=0)
    timed = {v: median_of(groups, (d, v, w)) for d, v, w in groups if d == demo and w == most}
    ranked = sorted((t, v) for v, t in timed.items() if t is not None)
    if not ranked:
        return []
    (fast, fastest), (slow, slowest) = ranked[0], ranked[-1]
    line = (
        f"**{demo}** with {most} workers: fastest {fastest} at {fast:.4f} s, slowest {slowest} at "
        f"{slow:.4f} s ({slow / fast:.2f}x)."
    )
    speedups = []
    for variant, t in timed.items():
        single = median_of(groups, (demo, variant, 1))
        if single and t:
            speedups.append(f"{variant} {single / t:.2f}x")
    if speedups and most > 1:
        line += f" Speedup of {most} workers over 1: " + ", ".join(speedups) + "."
    return [line]


def race_findings(racy: Sequence[Result]) -> list[str]:
    """Where updates were lost, how often and how many."""
    if not racy:
        return []
    parts = []
    for variant, group in stats.group(racy).items():
        lossy = [r.lost for r in group if r.lost]
        parts.append(
            f"{variant[1]} in {len(lossy)}/{len(group)} trials"
            + (f" (mean {statistics.fmean(lossy):.1f} of {group[0].expected})" if lossy else "")
        )
    return ["**racy-counter**: updates were lost in " + "; ".join(parts) + "."]


def lock_costs(locked: Sequence[Result]) -> list[str]:
    """Median elapsed per increment for each locked variant, in microseconds."""
    out = []
    for (_, variant), group in stats.group(locked).items():
        spread = stats.elapsed(group)
        n = group[0].params.get("increments", 0) * group[0].params.get("workers", 1)
        if spread and n and not group[0].params.get("sleep"):  # with a wait first, the wait dominates
            out.append(f"{variant} {spread.median / n * 1e6:.1f} us")
    return out


def locked_findings(locked: Sequence[Result], demo: str) -> list[str]:
    """Whether the locked counter was exact, and the time per locked increment."""
    if not locked:
        return []
    wrong = sorted({r.variant for r in locked if not r.correct})
    lines = [
        f"**{demo}**: exact in {sum(bool(r.correct) for r in locked)} of {len(locked)} trials"
        + (f"; wrong or failed in {', '.join(wrong)}." if wrong else ": every lock kept every update.")
    ]
    per_op = lock_costs(locked)
    if per_op:
        lines.append(
            "Time per locked increment (elapsed / all increments, which the lock serialises): "
            + "; ".join(per_op)
            + "."
        )
    return lines


def memory_findings(results: Sequence[Result], demo: str) -> list[str]:
    """The demo's (pool-map's) memory per waiting worker in each model, at its most workers."""
    groups = {k: g for k, g in by_workers(results).items() if k[0] == demo}
    if not groups:
        return []
    most = max(w for _, _, w in groups)
    memory = {
        v: m for (_, v, w), g in groups.items() if w == most and (m := median_metric(g, per_worker_bytes))
    }
    if not memory:
        return []
    return [
        f"**Memory per waiting worker** ({demo}, {most} workers; peak PSS over the baseline): "
        + ", ".join(f"{v} {size(m)}" for v, m in sorted(memory.items(), key=lambda kv: kv[1]))
        + f". `lab sweep {demo} --workers 16,500,2000` shows it where the models part ways."
    ]


def startup_findings(results: Sequence[Result], demo: str) -> list[str]:
    """The demo's (pool-map's) start-up per worker in each variant (pool or loop start and
    shutdown over the workers), at its most workers: what a worker costs before it does anything."""
    groups = {k: g for k, g in by_workers(results).items() if k[0] == demo}
    if not groups:
        return []
    most = max(w for _, _, w in groups)
    per = {v: s.median / most for (_, v, w), g in groups.items() if w == most and (s := stats.startup(g))}
    if len(per) < 2:
        return []
    ranked = sorted(per.items(), key=lambda kv: kv[1])
    return [
        f"**Start-up per worker** ({demo}, {most} workers; start and shutdown over the workers): "
        + ", ".join(f"{v} {seconds * 1e3:.2f} ms" for v, seconds in ranked)
        + "."
    ]


def cluster_findings(results: Sequence[Result], lock_costs_us: Mapping[str, float]) -> list[str]:
    """What a costly model costs (a cluster per run, `Model.cheap` False: dask): time per task over
    the ideal against the other models with worker processes, where its counter lives, and a
    `distributed.Lock` against the other locks."""
    costly = {r.model for r in results if (m := MODELS.get(r.model)) is not None and not m.cheap}
    if not costly:
        return []
    lines = []
    with_children = {r.model for r in results if (m := MODELS.get(r.model)) is not None and m.children}
    waits = having("waiting workers")
    pool = [r for r in results if r.demo in waits and r.ideal_s and r.model in with_children]
    costs = []
    for (_, variant, workers), group in by_workers(pool).items():
        spread, first = stats.elapsed(group), group[0]
        if spread and first.ideal_s and workers == first.params.get("tasks"):  # every task at once
            per_task = (spread.median - first.ideal_s) / int(first.params["tasks"]) * 1e3
            costs.append(f"{variant} {per_task:.2f} ms")
    if costs:
        lines.append(
            f"**A cluster's cost per task** ({', '.join(waits)}, a worker per task, median over the "
            "ideal per task): "
            + ", ".join(costs)
            + ". Each Dask task travels to the scheduler, then to a worker, and its result back."
        )
    racers = having("racy counter")
    for model in sorted(costly):
        note = MODELS[model].counter_note
        racy = [r for r in results if r.demo in racers and r.model == model and r.lost is not None]
        if racy and note:
            lost = [r.lost or 0 for r in racy]
            lines.append(
                f"**{model}'s racy counter** is {note}, and {sum(x > 0 for x in lost)} of {len(racy)} "
                f"trials lost updates (median {statistics.median(lost):.0f} of {racy[0].expected})."
            )
    if "distributed.Lock" in lock_costs_us and "Manager().Lock()" in lock_costs_us:
        dask_us, manager_us = lock_costs_us["distributed.Lock"], lock_costs_us["Manager().Lock()"]
        lines.append(
            f"**A `distributed.Lock`** costs {dask_us / 1e3:.2f} ms per acquire and release, "
            f"{dask_us / manager_us:.0f}x a `Manager().Lock()` ({manager_us:.0f} us): two messages through "
            "the scheduler, which also runs every other task's bookkeeping."
        )
    return lines


def race_statistics_findings(raced: Sequence[Result]) -> list[str]:
    """At the smallest size raced, each variant's P(lost) with its interval, and what changed
    without a yield point."""
    rows = races.rows(raced)
    if not rows:
        return []
    smallest = min(r.increments for r in rows)
    at = [r for r in rows if r.increments == smallest]
    parts = [
        f"{r.variant}{'' if r.yield_point == 'sleep0' else ' (no yield point)'} {r.lost_trials}/{r.trials} "
        f"({r.ci_low:.2f}-{r.ci_high:.2f})"
        for r in at
    ]
    lines = [
        f"**How random is the race** at {at[0].workers} x {smallest} (trials that lost an update, "
        "with the 95% interval): " + "; ".join(parts) + "."
    ]
    bare = [r for r in rows if r.yield_point == "none"]
    if bare:
        never = sorted({r.variant for r in bare} - {r.variant for r in bare if r.lost_trials})
        ever = sorted({r.variant for r in bare if r.lost_trials})
        lines.append(
            "**Without a yield point** (a bare read-modify-write): "
            + (f"never lost an update in {', '.join(never)}" if never else "every variant lost updates")
            + (f"; lost in {', '.join(ever)}" if ever and never else "")
            + f" (up to {max(r.increments for r in bare)} increments per worker, "
            f"{max(r.trials for r in bare)} trials each)."
        )
    return lines
