"""`lab bench`'s views, all rendered from a `Bench` (as read back from its JSON): the terminal
table, the markdown report and the chart."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tabulate import tabulate

from lab.benching.records import SERIAL, Bench, Row
from lab.pictures import PLOT_HINT, pyplot, save

HEADERS = (
    "model",
    "workers",
    "median s",
    "min-max s",
    "speedup",
    "efficiency",
    "CPU use (cores)",
    "peak memory",
    "per worker",
    "outputs",
    "error",
)

COLUMNS = """\
- **median s**: the median, over the trials, of the wall time (`time.perf_counter`) to map the
  function over every item, in order, with every worker already started (pool or event loop
  start-up and shutdown are not in it); **min-max s**: the fastest and slowest trial.
- **speedup**: serial's median over this row's; **efficiency**: speedup per worker (1.0 is
  perfect scaling).
- **CPU use (cores)**: CPU seconds (user + system) used by the lab and its worker processes
  during the map, over its wall time: 1.0 is one core busy all along, 0.0 a function that waits.
- **peak memory**: the lab's unique memory (PSS) at its peak, worker processes included;
  **per worker**: the peak's growth over the baseline, divided by the workers (`lab.measure.memory`).
- **outputs**: whether every trial returned serial's outputs, in order (`differ in N/M`
  otherwise); **error**: why a row stopped (its completed trials are kept).
"""


def cells(row: Row) -> list[str]:
    """One row as the tables show it."""
    low, high = row.elapsed_min_s, row.elapsed_max_s
    memory = row.memory or {}
    return [
        row.variant,
        str(row.workers),
        "-" if row.elapsed_s is None else f"{row.elapsed_s:.4f}",
        "-" if low is None or high is None else f"{low:.4f}-{high:.4f}",
        "-" if row.speedup is None else f"{row.speedup:.2f}x",
        "-" if row.efficiency is None else f"{row.efficiency:.2f}",
        "-" if row.cpu_cores is None else f"{row.cpu_cores:.2f}",
        size(memory.get("peak_bytes")),
        size(memory.get("per_worker_bytes")),
        outputs(row),
        row.error or "",
    ]


def size(value: Any) -> str:
    """Bytes as KB or MB."""
    if value is None:
        return "-"
    value = max(0, int(value))
    return f"{value / 1e6:.1f} MB" if value >= 1e6 else f"{value / 1e3:.1f} KB"


def outputs(row: Row) -> str:
    """`match`, `differ in 3/3`, or `-` when nothing was compared."""
    if row.outputs_match is None:
        return "-"
    return "match" if row.outputs_match else f"differ in {row.mismatched_trials}/{row.trials}"


def table(bench: Bench, fmt: str = "simple") -> str:
    """Every row as a table (`github` for markdown)."""
    return tabulate([cells(r) for r in bench.rows], HEADERS, tablefmt=fmt, disable_numparse=True)


def describe(bench: Bench) -> str:
    """What ran: the function(s), the items, the trials."""
    job = bench.job
    also = f" (asyncio: `{job['async_function']}`)" if job.get("async_function") else ""
    warm = ", after one uncounted warm-up each" if job.get("warmup") else ""
    return (
        f"`{job['function']}`{also} over {job['items']} items (the first: `{job['first_item']}`), "
        f"{job['trials']} trials per row{warm}, taken round-robin across the rows"
    )


def markdown(bench: Bench, chart: str | None = None) -> str:
    """The bench as markdown: the verdict first, then the rows, the chart and what each column means."""
    env = bench.environment
    title = f"# lab bench: {bench.job['function']}" + (" (PARTIAL: interrupted)" if bench.partial else "")
    lines = [
        title,
        "",
        describe(bench) + ".",
        f"Measured on {env.get('implementation', 'Python')} {env.get('python', '?')}, "
        f"{env.get('cpus_usable', bench.job.get('cores', '?'))} usable cores ({env.get('cpu_model', '?')}), "
        f"{env.get('date', '?')}: `{env.get('command', 'lab bench')}`.",
        "",
        "## Verdict",
        "",
        *(f"- {line}" for line in bench.verdict),
        "",
    ]
    if bench.notes:
        lines += [*(f"_{note}_" for note in bench.notes), ""]
    lines += ["## Every row", "", table(bench, "github"), ""]
    if chart:
        lines += [f"![speedup and CPU use against workers]({chart})", ""]
    lines += ["## What each column means", "", COLUMNS]
    return "\n".join(lines)


def draw(rows: Sequence[Row], path: Path, title: str) -> str | None:
    """Speedup and CPU use against workers, one line per model, serial as the reference;
    None, or why nothing was drawn."""
    plt = pyplot()
    if plt is None:
        return PLOT_HINT
    ran = [r for r in rows if r.model != SERIAL and r.speedup is not None]
    if not ran:
        return "no row ran"
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=100)
    markers, dashes = "osD^v", ["-", "--", ":", "-."]
    variants = list(dict.fromkeys(r.variant for r in ran))
    for i, variant in enumerate(variants):
        mine = sorted((r for r in ran if r.variant == variant), key=lambda r: r.workers)
        style = {"marker": markers[i % len(markers)], "linestyle": dashes[i % len(dashes)], "label": variant,
                 "markersize": max(3.0, 9 - 2 * i)}  # fmt: skip
        left.plot([r.workers for r in mine], [r.speedup for r in mine], **style)
        right.plot([r.workers for r in mine], [r.cpu_cores or 0.0 for r in mine], **style)
    counts = sorted({r.workers for r in ran})
    left.plot(counts, counts, color="grey", linestyle="--", linewidth=1, label="ideal (linear)")
    serial = next((r for r in rows if r.model == SERIAL and r.cpu_cores is not None), None)
    if serial is not None:
        right.axhline(serial.cpu_cores or 0.0, color="grey", linestyle=":", linewidth=1, label="serial")
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_xticks(counts, [str(c) for c in counts])
        ax.set_xlabel("workers")
        ax.grid(True, alpha=0.3)
        ax.set_ylim(bottom=0)
    left.set_ylabel("speedup over serial")
    right.set_ylabel("CPU use (cores)")
    left.legend(fontsize=8, loc="upper left")
    fig.suptitle(title, fontsize=11)
    save(plt, fig, path)
    return None
