"""Worker sweeps: one demo at several worker counts in each model, as a table and a chart.

Each point also shows the memory per worker (`lab.measure.memory`) and, for http-get, requests/s. A
worker count above a model's limit (`Model.max_workers`) is skipped, with the reason.

Efficiency is ideal / measured. For pool-map the ideal is the waits alone (sleep x ceil(tasks /
workers)); for cpu-bound it is the model's own one-worker time divided by min(workers, tasks),
that is, perfect parallelism with a core per worker (a 2-core machine cannot reach it past 2).
The chart needs matplotlib (`pip install 'concurrency-lab[plot]'`); without it the tables still come.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from lab.demos import DEMOS
from lab.measure import stats
from lab.models import MODELS
from lab.pictures import PLOT_HINT, pyplot, save
from lab.results import Result


def sweep(
    demo: str,
    *,
    models: Sequence[str],
    workers: Sequence[int],
    trials: int,
    params: Mapping[str, Any],
    run: Callable[..., list[Result]],
    into: list[Result] | None = None,
) -> list[Result]:
    """Run `demo` in each model at each worker count, `trials` times (`run` is `run_trials`).
    The results go into `into` as they come, so that a caller keeps them when Ctrl-C stops the rest."""
    results: list[Result] = [] if into is None else into
    for model in models:
        for count in workers:
            if count <= MODELS[model].max_workers:
                results += run(demo, model, trials, **point(demo, params, count))
    return results


def point(demo: str, params: Mapping[str, Any], workers: int) -> dict[str, Any]:
    """One sweep point's parameters, as the demo makes them (`Demo.sweep_point`)."""
    return DEMOS[demo].sweep_point(params, workers)


def skipped(models: Sequence[str], workers: Sequence[int]) -> list[dict[str, Any]]:
    """The points of a sweep above a model's limit, each with the reason."""
    return [
        {
            "variant": model,
            "workers": count,
            "reason": f"{model} runs at most {MODELS[model].max_workers} workers",
        }
        for model in models
        for count in workers
        if count > MODELS[model].max_workers
    ]


def median_metric(group: Sequence[Result], read: Callable[[Result], float | None]) -> float | None:
    """The median of a figure over a group's results (None where no result has it)."""
    values = [v for r in group if (v := read(r)) is not None]
    return statistics.median(values) if values else None


def per_worker_bytes(r: Result) -> float | None:
    """A result's memory per worker, in bytes."""
    return float(r.memory["per_worker_bytes"]) if r.memory else None


def requests_per_s(r: Result) -> float | None:
    """A result's requests per second (http-get)."""
    return r.metrics.get("requests_per_s") if r.metrics else None


def size(n: float | None) -> str:
    """Bytes as `850 B`, `14.5 KB` or `5.6 MB`."""
    if n is None:
        return "-"
    for unit, scale in (("MB", 1e6), ("KB", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"


def medians(results: Sequence[Result]) -> dict[tuple[str, int], float]:
    """Median elapsed time per (variant, workers)."""
    groups: dict[tuple[str, int], list[Result]] = {}
    for r in results:
        groups.setdefault((r.variant, int(r.params["workers"])), []).append(r)
    out = {}
    for key, group in groups.items():
        spread = stats.elapsed(group)
        if spread:
            out[key] = spread.median
    return out


def ideal(result: Result, one_worker: float | None) -> float | None:
    """The ideal time of a sweep point (see the module docstring)."""
    if result.ideal_s is not None:
        return result.ideal_s
    if one_worker is None:
        return None
    tasks, workers = int(result.params.get("tasks", 1)), int(result.params["workers"])
    return one_worker / max(1, min(workers, tasks))


def rows(results: Sequence[Result]) -> list[tuple[Any, ...]]:
    """One row per (variant, workers): median, min-max, ideal, speedup, efficiency."""
    times = medians(results)
    seen: dict[tuple[str, int], list[Result]] = {}
    for r in results:
        seen.setdefault((r.variant, int(r.params["workers"])), []).append(r)
    out = []
    for (variant, workers), group in seen.items():
        spread = stats.elapsed(group)
        single = times.get((variant, 1))
        best = ideal(group[0], single)
        med = spread.median if spread else None
        rate = median_metric(group, requests_per_s)
        out.append((
            variant, workers,
            f"{med:.4f}" if med is not None else "-",
            f"{spread.low:.4f}-{spread.high:.4f}" if spread else "-",
            f"{best:.4f}" if best is not None else "-",
            f"{single / med:.2f}x" if single and med else "-",
            f"{best / med:.0%}" if best is not None and med else "-",
            f"{rate:.0f}" if rate is not None else "-",
            size(median_metric(group, per_worker_bytes)),
        ))  # fmt: skip
    return out


HEADERS = ["variant", "workers", "median s", "min-max s", "ideal s", "speedup", "efficiency", "requests/s",
           "memory per worker"]  # fmt: skip


def bars(values: Sequence[float], spans: Sequence[tuple[float, float] | None]) -> list[list[float]]:
    """matplotlib's `yerr` for points `values` with intervals `spans` (none: no bar)."""
    return [
        [max(0.0, v - s[0]) if s else 0.0 for v, s in zip(values, spans, strict=True)],
        [max(0.0, s[1] - v) if s else 0.0 for v, s in zip(values, spans, strict=True)],
    ]


def draw(
    variant: str,
    i: int,
    axes: tuple[Any, Any, Any],
    *,
    times: Mapping[tuple[str, int], float],
    by_point: Mapping[tuple[str, int], list[Result]],
    memory: Mapping[tuple[str, int], float | None],
    fewest: int = 1,
) -> None:
    """One variant's three lines: time and speedup (over `fewest` workers, the sweep's first
    point) with each point's 95% interval, and memory."""
    left, right, third = axes
    markers, lines = "osD^v<>p", ["-", "--", ":", "-."]
    points = sorted((w, t) for (v, w), t in times.items() if v == variant)
    xs, ys = [w for w, _ in points], [t for _, t in points]
    # Variants often coincide (waiting tasks scale the same in every model): shrinking
    # markers and different dashes keep each one visible on top of the others.
    style = {"marker": markers[i % len(markers)], "markersize": max(3.0, 10 - 2.5 * i),
             "linestyle": lines[i % len(lines)], "label": variant, "linewidth": 1.8}  # fmt: skip
    bar = {"capsize": 3, "elinewidth": 1}
    spans = [stats.interval([r.elapsed_s for r in by_point[variant, w] if r.elapsed_s]) for w in xs]
    left.errorbar(xs, ys, yerr=bars(ys, spans), **style, **bar)
    if (variant, fewest) in times:  # the speedup's interval: its trials paired with the first point's
        ratios = [stats.Ratio.of(stats.paired(by_point[variant, fewest], by_point[variant, w])) for w in xs]
        speedups = [times[(variant, fewest)] / t for t in ys]
        intervals = [(q.low, q.high) if q else None for q in ratios]
        right.errorbar(xs, speedups, yerr=bars(speedups, intervals), **style, **bar)
    kept = [(w, m / 1e3) for w in xs if (m := memory.get((variant, w))) is not None and m > 0]
    third.plot([w for w, _ in kept], [m for _, m in kept], **style)


def legend_of(*axes: Any) -> dict[str, Any]:
    """Each label drawn on `axes` once, with the first handle drawn for it."""
    handles: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    return handles


def chart(results: Sequence[Result], path: Path, title: str) -> str | None:
    """Draw time, speedup and memory per worker against workers, one line per variant; None, or
    why it was skipped."""
    plt = pyplot()
    if plt is None:
        return PLOT_HINT
    times = medians(results)
    variants = list(dict.fromkeys(v for v, _ in times))
    memory = {(r.variant, int(r.params["workers"])): per_worker_bytes(r) for r in results}
    fig, (left, right, third) = plt.subplots(1, 3, figsize=(12, 3.6), dpi=100)
    by_point: dict[tuple[str, int], list[Result]] = {}
    for r in results:
        by_point.setdefault((r.variant, int(r.params["workers"])), []).append(r)
    counts = sorted({w for _, w in times})
    # A sweep whose fewest workers are more than one (the pipeline's: a producer and a consumer at
    # least) shows its speedups over its first point, which its label says.
    fewest = counts[0] if counts else 1
    for i, variant in enumerate(variants):
        draw(variant, i, (left, right, third), times=times, by_point=by_point, memory=memory, fewest=fewest)
    ideals = {int(r.params["workers"]): r.ideal_s for r in results if r.ideal_s is not None}
    if ideals:
        xs = sorted(ideals)
        left.plot(xs, [ideals[w] for w in xs], color="grey", linestyle="--", linewidth=1, label="ideal")
    if fewest in ideals and all(ideals.get(w) for w in counts):
        # The ideals' own ratio: 5 waits on 2 workers take 3 rounds, a speedup of 5/3, not 2.
        right.plot(counts, [ideals[fewest] / ideals[w] for w in counts], color="grey", linestyle="--",
                   linewidth=1, label="ideal")  # fmt: skip
    else:
        right.plot(counts, [w / fewest for w in counts], color="grey", linestyle="--", linewidth=1,
                   label="ideal (linear)")  # fmt: skip
    if results[0].demo in DEMOS and DEMOS[results[0].demo].computes and (cores := os.cpu_count()):
        right.axhline(cores, color="grey", linestyle=":", linewidth=1, label=f"cores here ({cores})")
    base = 10 if counts and counts[-1] / counts[0] > 100 else 2
    for ax in (left, right, third):
        ax.set_xscale("log", base=base)
        ax.set_xticks(counts, [str(c) for c in counts])
        ax.set_xlabel("workers")
        ax.grid(True, alpha=0.3)
    left.set_ylabel("median time (s), 95% interval")
    if times and max(times.values()) > 50 * min(times.values()):
        left.set_yscale("log")  # from one request at a time to thousands in flight
    else:
        left.set_ylim(bottom=0)
    right.set_ylabel(f"speedup over {fewest} worker{'s' if fewest > 1 else ''}")
    if base == 10:
        right.set_yscale("log")  # an ideal of 10,000x would flatten every measured line
    if any(m and m > 0 for m in memory.values()):
        third.set_yscale("log")  # from a coroutine's kilobyte to a process's megabytes
    third.set_ylabel("memory per worker (KB, PSS)")
    # Every variant draws its time (left), not always a speedup (a variant missing the sweep's first
    # point has none): the legend takes the variants from the left, the guides from the right.
    handles = legend_of(left, right)
    right.legend(list(handles.values()), list(handles), fontsize=8, loc="upper left")
    fig.suptitle(title, fontsize=11)
    save(plt, fig, path)
    return None
