"""Timelines: who ran which task, when, as records, a Chrome trace (Perfetto) and a picture.

A recorded run (`timeline=True`) keeps one record per task in `Result.timeline`
(`lab.runner.timeline_records` makes them from the model's spans):

    lane     the worker's row in a picture: 0, 1, ... in the order the workers first started a task
             (the asyncio model's lane is the slot the coroutine held; work it handed elsewhere,
             mixed's CPU part, is on the lanes after the slots, one per thread or process)
    worker   its real id: `thread 81234`, `process 4711`, or the asyncio task's name
    item     the task's index in the demo's items
    start_s  when it started, in seconds since the timed region began
    end_s    when it ended
    cpu_s    its CPU time (`time.thread_time` inside the task; threads and processes only)

The clock is `time.perf_counter`, which on Linux and macOS is the system-wide monotonic clock
(CLOCK_MONOTONIC, mach_absolute_time), so times taken in different processes line up.

`trace(results)` is the Chrome Trace Event Format that Perfetto (ui.perfetto.dev) and
chrome://tracing open: one complete event (`"ph": "X"`, microseconds) per task, one process per
recorded result (variant and trial) and one thread per lane, named by metadata events.
`chart(results, path, title)` draws one panel per result, one row per lane, a bar per task,
shaded by the share of its time it was on a CPU, with the ideal time marked.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lab.demos import DEMOS
from lab.measure.heartbeat import BLOCKED_S
from lab.models import MODELS, Model
from lab.pictures import PLOT_HINT, pyplot, save
from lab.results import Result, write_atomically


def clock() -> str:
    """What `time.perf_counter` is here, e.g. `clock_gettime(CLOCK_MONOTONIC)`."""
    return time.get_clock_info("perf_counter").implementation


def title(recorded: Sequence[Result]) -> str:
    """A timeline picture's title."""
    return f"{recorded[0].demo}: who ran which task, when"


def label(result: Result, words: str | None = None) -> str:
    """A recorded result's name in a trace or a picture (`words`: what ran, in place of the demo's name)."""
    workers = result.params.get("workers", 1)
    plural = "s" * (workers != 1)
    return f"{result.variant} · {words or result.demo} · {workers} worker{plural} · trial {result.trial}"


def trace(results: Sequence[Result]) -> dict[str, Any]:
    """The Chrome Trace Event Format object for every recorded result (others are left out)."""
    events: list[dict[str, Any]] = []
    for pid, result in enumerate((r for r in results if r.timeline), start=1):
        events.append(
            {"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": label(result)}}
        )
        events.append(
            {"ph": "M", "name": "process_sort_index", "pid": pid, "tid": 0, "args": {"sort_index": pid}}
        )
        named: set[int] = set()
        for task in result.timeline or ():
            tid = int(task["lane"]) + 1
            if tid not in named:
                named.add(tid)
                name = f"lane {task['lane']}: {task['worker']}"
                events.append(
                    {"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": name}}
                )
            args = {
                "model": result.variant,
                "item": task["item"],
                "worker": task["worker"],
                "lane": task["lane"],
            }
            if task.get("cpu_s") is not None:
                args["cpu_s"] = task["cpu_s"]
            events.append({
                "ph": "X", "name": f"{result.demo} item {task['item']}", "cat": result.demo,
                "ts": round(float(task["start_s"]) * 1e6, 3),
                "dur": round((float(task["end_s"]) - float(task["start_s"])) * 1e6, 3),
                "pid": pid, "tid": tid, "args": args,
            })  # fmt: skip
    return {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {"clock": f"time.perf_counter: {clock()}"},
    }


def write_trace(path: Path, results: Sequence[Result]) -> int:
    """Write the trace of `results` to `path` atomically; return how many task events it holds."""
    doc = trace(results)
    write_atomically(path, json.dumps(doc, indent=None, separators=(",", ":")) + "\n")
    return sum(1 for e in doc["traceEvents"] if e["ph"] == "X")


def cpu_share(task: Mapping[str, Any]) -> float | None:
    """The share of a task's wall time it spent on a CPU (None where not measured)."""
    wall = float(task["end_s"]) - float(task["start_s"])
    cpu = task.get("cpu_s")
    return None if cpu is None or wall <= 0 else min(1.0, float(cpu) / wall)


def chart(results: Sequence[Result], path: Path, title: str) -> str | None:
    """One panel per recorded result, one row per lane, a bar per task; None, or why skipped."""
    plt = pyplot()
    if plt is None:
        return PLOT_HINT
    shown = [r for r in results if r.timeline]
    if not shown:
        return "no recorded run to draw"
    heights = [max(1, max(int(t["lane"]) for t in r.timeline or ()) + 1) for r in shown]
    size = (9, 0.9 + sum(0.3 * h + 0.55 for h in heights))
    # Constrained: a tight layout let the first panel's title run into the two-line suptitle.
    fig, axes = plt.subplots(len(shown), 1, figsize=size, dpi=100, sharex=True, layout="constrained",
                             gridspec_kw={"height_ratios": heights}, squeeze=False)  # fmt: skip
    for ax, result, lanes in zip((a[0] for a in axes), shown, heights, strict=True):
        draw_panel(ax, result, lanes)
    axes[-1][0].set_xlabel("seconds since the timed region began (time.perf_counter)")
    shade = (
        "shade: share of each task's time on a CPU (pale: waiting, or waiting for the GIL); "
        "hatched: not measured"
    )
    fig.suptitle(f"{title}\n{shade}", fontsize=10)
    save(plt, fig, path)
    return None


def draw_panel(ax: Any, result: Result, lanes: int) -> None:
    """One recorded result: its lanes, its tasks' bars, the ideal time (or the demo's deadline),
    and labels."""
    model = MODELS.get(result.model)
    colour = model.colour if model else Model.colour
    span = max((float(t["end_s"]) for t in result.timeline or ()), default=1.0) or 1.0
    demo = DEMOS.get(result.demo)
    names = list(demo.item_names(result.params)) if demo and demo.item_names else []
    for task in result.timeline or ():
        start, end = float(task["start_s"]), float(task["end_s"])
        share = cpu_share(task)
        alpha = 0.5 if share is None else 0.2 + 0.75 * share
        ax.broken_barh([(start, max(end - start, 1e-6))], (int(task["lane"]) - 0.4, 0.8),
                       facecolors=colour, alpha=alpha, edgecolor="black", linewidth=0.5,
                       hatch="///" if share is None else None)  # fmt: skip
        item = int(task["item"])
        words = [names[item]] if item < len(names) else []
        words += [f"{share:.0%} CPU"] if share is not None else []
        if words and end - start > 0.08 * span:  # room for a label
            text = " · ".join(words)
            ax.text((start + end) / 2, int(task["lane"]), text, ha="center", va="center", fontsize=7)
    if demo and demo.deadline and result.params.get(demo.deadline) is not None:
        # A demo whose work must stop on time: its deadline, where every bar should end.
        due = float(result.params[demo.deadline])
        ax.axvline(due, color="red", linestyle="-", linewidth=1.2)
        ax.text(due, -0.45, " deadline", fontsize=7, color="red", va="top")  # at the top: bars end below
    elif result.ideal_s:
        ax.axvline(result.ideal_s, color="grey", linestyle="--", linewidth=1)
        ax.text(result.ideal_s, lanes - 0.45, " ideal", fontsize=7, color="grey", va="top")
    if result.elapsed_s:
        ax.axvline(result.elapsed_s, color="black", linestyle=":", linewidth=1)
    ax.set_yticks(range(lanes), [f"lane {i}" for i in range(lanes)], fontsize=7)
    ax.set_ylim(lanes - 0.5, -0.5)
    # The demo's own words for what ran (a picture may hold several of its parameter sets:
    # deadline's kinds of work, one after another).
    title = label(result, demo.in_words(result.params) if demo else None)
    ax.set_title(f"{title}: {result.elapsed_s or 0:.3f} s", fontsize=9, loc="left")
    ax.grid(True, axis="x", alpha=0.3)


def beating(results: Sequence[Result]) -> list[Result]:
    """The recorded results that kept their heartbeat's course (`heartbeat_series`)."""
    return [r for r in results if r.metrics and r.metrics.get("heartbeat_series")]


def heartbeat_title(recorded: Sequence[Result]) -> str:
    """A heartbeat picture's title."""
    return f"{recorded[0].demo}: how late the caller's 1 ms heartbeat woke, over one recorded run per variant"


def heartbeat_chart(results: Sequence[Result], path: Path, title: str) -> str | None:
    """One line per recorded variant: the heartbeat's worst lateness in each slice of the run,
    on a log scale (on-time beats are a fraction of a millisecond late, a blocked loop 100 times
    more); None, or why skipped."""
    plt = pyplot()
    if plt is None:
        return PLOT_HINT
    shown = beating(results)
    if not shown:
        return "no recorded run kept its heartbeat"
    fig, ax = plt.subplots(figsize=(10, 4), dpi=100)
    for result in shown:
        points = result.metrics["heartbeat_series"] if result.metrics else []
        late_ms = [max(float(late), 1e-5) * 1000 for _, late in points]
        name = f"{result.variant}: {result.elapsed_s or 0:.3f} s"
        ax.step([float(t) for t, _ in points], late_ms, where="pre", linewidth=1.2, label=name)
    ax.axhline(BLOCKED_S * 1000, color="grey", linestyle="--", linewidth=1)
    ax.text(0, BLOCKED_S * 1000, " blocked beyond this", fontsize=7, color="grey", va="bottom")
    ax.set_yscale("log")
    ax.set_xlabel("seconds since the timed region began (time.perf_counter)")
    ax.set_ylabel("worst lateness in the slice, ms")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside: the lines fill the plot
    ax.set_title(title, fontsize=10)
    save(plt, fig, path)
    return None
