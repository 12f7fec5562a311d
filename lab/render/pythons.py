"""Interpreters side by side (`lab report --python ...`): per Python, the figures the article's
claims rest on: overhead per task, cpu-bound speedups, lock costs and race rates."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from lab.demos import Role, having
from lab.measure import stats
from lab.render.common import defaults_of, model_for, table
from lab.results import Result, ResultsFile
from lab.studies import races


def first(role: Role) -> str:
    """The demo whose figures stand for `role` in this section (the first in it)."""
    return next(iter(having(role)), f"no {role} demo")


def headers() -> list[str]:
    """The table's columns, each naming the demo it is read from."""
    waits, computes = first("waiting workers"), first("computing")
    return ["Python", "free-threaded build", "GIL", f"{waits}: ms per task over the ideal (threads)",
            f"{computes}: threads speedup", f"{computes}: processes speedup", "threading.Lock us",
            "Manager().Lock() us", "racy 5 x 1: P(lost), threads / processes"]  # fmt: skip


def of(results: Sequence[Result], label: str, demo: str, model: str | None) -> list[Result]:
    """One interpreter's results of a demo in a model's default variant (any start method: each
    Python has its own default)."""
    return [
        r
        for r in results
        if r.python
        and r.python["label"] == label
        and r.job == demo
        and r.model == model
        and defaults_of(model, {k: v for k, v in r.options.items() if k != "start_method"})
    ]


def speedup(results: Sequence[Result], label: str, model: str | None) -> float | None:
    """The computing demo: the model's median with 1 worker over its median with the most workers."""
    mine = of(results, label, first("computing"), model)
    by: dict[int, list[float]] = {}
    for r in mine:
        if r.elapsed_s is not None:
            by.setdefault(int(r.params["workers"]), []).append(r.elapsed_s)
    if 1 not in by or len(by) < 2:
        return None
    return statistics.median(by[1]) / statistics.median(by[max(by)])


def per_task_ms(results: Sequence[Result], label: str) -> float | None:
    """The waiting demo in threads, a worker per task: the median over the ideal, per task."""
    mine = [
        r
        for r in of(results, label, first("waiting workers"), model_for("threads"))
        if r.params.get("workers") == r.params.get("tasks")
    ]
    spread = stats.elapsed(mine)
    if not spread or not mine or mine[0].ideal_s is None:
        return None
    return (spread.median - mine[0].ideal_s) / int(mine[0].params["tasks"]) * 1e3


def race_rate(raced: Sequence[Result], label: str, model: str | None) -> str:
    """P(lost) at the smallest size raced, for the model's default variant, sleep0."""
    mine = [r for r in raced if r.python and r.python["label"] == label and r.model == model]
    rows = [row for row in races.rows(mine) if row.yield_point == "sleep0"]
    if not rows:
        return "-"
    row = min(rows, key=lambda r: r.increments)
    return f"{row.p_lost:.2f} ({row.ci_low:.2f}-{row.ci_high:.2f})"


def figures(doc: ResultsFile) -> list[dict[str, Any]]:
    """Per interpreter, the section's figures (None where the report did not run what they need)."""
    out = []
    for p in doc.run.pythons:
        label, locks = p["label"], p.get("lock_costs", {})
        out.append(
            {
                "label": label,
                "free_threaded": p.get("free_threaded"),
                "gil_enabled": p.get("gil_enabled"),
                "per_task_ms": per_task_ms(doc.results, label),
                "threads": speedup(doc.results, label, model_for("threads")),
                "processes": speedup(doc.results, label, model_for("processes")),
                "threading_lock_us": locks.get("threading.Lock"),
                "manager_lock_us": locks.get("Manager().Lock()"),
                "race": " / ".join(
                    race_rate(doc.races, label, model_for(a)) for a in ("threads", "processes")
                ),
            }
        )
    return out


def number(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def interpreters_section(doc: ResultsFile) -> str:
    """The table, one row per interpreter."""
    rows = [
        [
            f["label"],
            "yes" if f["free_threaded"] else "no",
            "on" if f["gil_enabled"] else "OFF",
            number(f["per_task_ms"], ".3f"),
            number(f["threads"], ".2f") + ("x" if f["threads"] else ""),
            number(f["processes"], ".2f") + ("x" if f["processes"] else ""),
            number(f["threading_lock_us"], ".3f"),
            number(f["manager_lock_us"], ".1f"),
            f["race"],
        ]
        for f in figures(doc)
    ]
    note = (
        "Every row is the same suite run by that interpreter in its own environment (the lab "
        "installed from this source); each result in the tables above carries it after `@`."
    )
    return table(rows, headers()) + "\n\n" + note


def interpreter_findings(doc: ResultsFile) -> list[str]:
    """What changed from one interpreter to the next, read off the figures: on a build without
    the GIL, threads' cpu-bound speedup says whether threads compute in parallel there."""
    found = figures(doc)
    if len(found) < 2:
        return []
    lines = []
    threads = [(f["label"], f["threads"], f["gil_enabled"]) for f in found if f["threads"] is not None]
    if threads:
        parts = ", ".join(f"{label} {s:.2f}x" for label, s, _ in threads)
        free = [(label, s) for label, s, gil in threads if not gil]
        if free:
            scaling = [label for label, s in free if s > 1.3]
            tail = (
                f": without the GIL, threads compute in parallel on {', '.join(scaling)}"
                if scaling
                else ": even without the GIL, threads did not scale here"
            )
        else:
            tail = ": the GIL is on in every one of them, so threads take turns on CPU work"
        lines.append(f"**Threads on {first('computing')}, per Python**: {parts}{tail}.")
    costs = [(f["label"], f["per_task_ms"]) for f in found if f["per_task_ms"] is not None]
    if len(costs) > 1:
        lines.append(
            f"**Threads' cost per task over the ideal** ({first('waiting workers')}): "
            + ", ".join(f"{label} {ms:.3f} ms" for label, ms in costs)
            + "."
        )
    return lines


def interpreters_in(doc: ResultsFile) -> Mapping[str, Any] | None:
    """The interpreters a merged report holds, or None for a one-interpreter report."""
    pythons = doc.run.pythons or None
    return {"pythons": pythons} if pythons else None
