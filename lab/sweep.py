"""Worker sweeps: one demo at several worker counts in each model, as a table and a chart.

Efficiency is ideal / measured. For pool-map the ideal is the waits alone (sleep x ceil(tasks /
workers)); for cpu-bound it is the model's own one-worker time divided by min(workers, tasks),
that is, perfect parallelism with a core per worker (a 2-core machine cannot reach it past 2).
The chart needs matplotlib (`pip install 'lab[plot]'`); without it the tables still come.
"""

from __future__ import annotations

import importlib.util
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from lab import stats
from lab.results import Result

PLOT_HINT = "matplotlib is not installed (pip install 'lab[plot]')"


def sweep(
    demo: str,
    *,
    models: Sequence[str],
    workers: Sequence[int],
    trials: int,
    params: Mapping[str, Any],
    run: Callable[..., list[Result]],
) -> list[Result]:
    """Run `demo` in each model at each worker count, `trials` times (`run` is `run_trials`)."""
    results: list[Result] = []
    for model in models:
        for count in workers:
            results += run(demo, model, trials, **{**params, "workers": count})
    return results


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
        out.append((
            variant, workers,
            f"{med:.4f}" if med is not None else "-",
            f"{spread.low:.4f}-{spread.high:.4f}" if spread else "-",
            f"{best:.4f}" if best is not None else "-",
            f"{single / med:.2f}x" if single and med else "-",
            f"{best / med:.0%}" if best is not None and med else "-",
        ))  # fmt: skip
    return out


HEADERS = ["variant", "workers", "median s", "min-max s", "ideal s", "speedup", "efficiency"]


def chart(results: Sequence[Result], path: Path, title: str) -> str | None:
    """Draw time and speedup against workers, one line per variant; None, or why it was skipped."""
    if importlib.util.find_spec("matplotlib") is None:
        return PLOT_HINT
    import matplotlib  # noqa: PLC0415  (optional dependency)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    times = medians(results)
    variants = list(dict.fromkeys(v for v, _ in times))
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6), dpi=100)
    markers, lines = "osD^v<>p", ["-", "--", ":", "-."]
    for i, variant in enumerate(variants):
        points = sorted((w, t) for (v, w), t in times.items() if v == variant)
        xs, ys = [w for w, _ in points], [t for _, t in points]
        # Variants often coincide (waiting tasks scale the same in every model): shrinking
        # markers and different dashes keep each one visible on top of the others.
        style = {"marker": markers[i % len(markers)], "markersize": max(3.0, 10 - 2.5 * i),
                 "linestyle": lines[i % len(lines)], "label": variant, "linewidth": 1.8}  # fmt: skip
        left.plot(xs, ys, **style)
        if (variant, 1) in times:
            right.plot(xs, [times[(variant, 1)] / t for t in ys], **style)
    counts = sorted({w for _, w in times})
    ideal_times = [ideal(r, None) for r in results[:1]]
    if ideal_times and ideal_times[0] is not None:
        sample = results[0]
        sleep, tasks = float(sample.params["sleep"]), int(sample.params["tasks"])
        ideal_line = [sleep * math.ceil(tasks / w) for w in counts]
        left.plot(counts, ideal_line, color="grey", linestyle="--", linewidth=1, label="ideal")
    right.plot(counts, counts, color="grey", linestyle="--", linewidth=1, label="ideal (linear)")
    if results[0].demo == "cpu-bound" and (cores := os.cpu_count()):
        right.axhline(cores, color="grey", linestyle=":", linewidth=1, label=f"cores here ({cores})")
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_xticks(counts, [str(c) for c in counts])
        ax.set_xlabel("workers")
        ax.grid(True, alpha=0.3)
    left.set_ylabel("median time (s)")
    left.set_ylim(bottom=0)
    right.set_ylabel("speedup over 1 worker")
    right.legend(fontsize=8, loc="upper left")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return None
