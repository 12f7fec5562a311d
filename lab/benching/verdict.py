"""The verdict of a bench: what a user should do, each clause read off a figure in the rows.

The rules, all here:

- The fastest row, with its speedup over serial and its CPU use.
- Serial's CPU use says what the function does: at `BUSY` cores or more it computes, below it
  waits (sleeps, I/O). A computing function that threads speed up by less than `SCALES` holds
  the GIL; one they speed up by more lets go of it (C code such as hashlib). A waiting function
  overlaps in every model; asyncio is compared with threads by memory per worker.
- A model whose outputs differ from serial's in some trial is named, with how many trials, and
  what that means for it (its `Model.mismatch_means`: threads, not thread-safe; asyncio, not
  safe across its awaits).
- A row that failed is named, with its error.

Models are told apart by what they declare, never by name: `parallel` (processes, dask: Python
runs at once in each worker), `asynchronous` (asyncio: coroutines), and the others, which share
one GIL (threads).
"""

from __future__ import annotations

from collections.abc import Sequence

from lab.benching.records import SERIAL, Row
from lab.models import MODELS, Model

SCALES = 1.3  # a speedup above this is a model helping; at or below it, it did not
BUSY = 0.5  # serial CPU use (cores) from which the function is said to compute rather than wait


def kind(model: str) -> str:
    """`parallel`, `asynchronous` or `gil` (workers taking turns on one GIL), as the model declares."""
    declared: type[Model] | None = MODELS.get(model)
    if declared is None:
        return "gil"
    return "parallel" if declared.parallel else "asynchronous" if declared.asynchronous else "gil"


def of_kind(rows: Sequence[Row], wanted: str) -> list[str]:
    """The models of the rows that are of kind `wanted`, in order."""
    return list(dict.fromkeys(r.model for r in rows if r.model != SERIAL and kind(r.model) == wanted))


def best(rows: Sequence[Row], model: str | None = None) -> Row | None:
    """The row (of `model`, or any but serial) with the highest speedup, among those that ran
    and returned serial's outputs: a wrong answer is not a fast one."""
    ran = [
        r
        for r in rows
        if (r.model == model if model else r.model != SERIAL)
        and r.speedup is not None
        and r.outputs_match is not False
    ]
    return max(ran, key=lambda r: (r.speedup or 0.0, -r.workers)) if ran else None


def widest(rows: Sequence[Row], model: str) -> Row | None:
    """`model`'s row at the most workers, among those that ran: where a GIL would show."""
    ran = [r for r in rows if r.model == model and r.speedup is not None]
    return max(ran, key=lambda r: r.workers) if ran else None


def cores(row: Row) -> str:
    """A row's CPU use, as the verdict quotes it."""
    return "?" if row.cpu_cores is None else f"{row.cpu_cores:.1f}"


def at(row: Row) -> str:
    """`threads at 8 workers: 7.6x (CPU use 0.1 cores)`."""
    workers = f"{row.workers} worker" + ("s" if row.workers != 1 else "")
    return f"{row.variant} at {workers}: {row.speedup:.1f}x (CPU use {cores(row)} cores)"


def verdict(rows: Sequence[Row], usable_cores: int, deterministic: bool = True) -> list[str]:
    """The verdict's sentences, most important first."""
    serial = next((r for r in rows if r.model == SERIAL), None)
    if serial is None or serial.elapsed_s is None:
        why = serial.error if serial else "it did not run"
        return [f"Serial failed ({why}): there is no baseline, so no speedups.", *failures(rows)]
    lines: list[str] = []
    top = best(rows)
    if top:
        lines.append(f"Fastest: {at(top)}, {top.elapsed_s:.3g} s against serial's {serial.elapsed_s:.3g} s.")
    sharing, parallel = of_kind(rows, "gil"), of_kind(rows, "parallel")
    busy = serial.cpu_cores is not None and serial.cpu_cores >= BUSY
    if busy:
        lines += computing(rows, sharing, parallel, usable_cores)
    else:
        lines.append(
            f"Serial's CPU use is {cores(serial)} cores: the function waits more than it computes, "
            "so every model overlaps its waits."
        )
        for row in (best(rows, m) for m in (*sharing, *parallel)):
            if row and row.workers > 1:  # one worker overlaps nothing: no news
                lines.append(f"{at(row)}.")
    for coroutines in filter(None, (best(rows, m) for m in of_kind(rows, "asynchronous"))):
        lines.append(f"{at(coroutines)}{memory_against_threads(rows, coroutines)}.")
    if not deterministic:
        lines.append(
            "Serial's own trials returned different outputs: the function is not deterministic, "
            "so outputs are not compared."
        )
    lines += mismatches(rows)
    lines += failures(rows)
    return lines


def computing(rows: Sequence[Row], sharing: list[str], parallel: list[str], usable_cores: int) -> list[str]:
    """For a function that computes: did threads take turns on the GIL, did processes scale."""
    lines = []
    for threads in filter(None, (widest(rows, m) for m in sharing)):
        if (threads.speedup or 0.0) <= SCALES:
            lines.append(f"{at(threads)}: the function holds the GIL, so one thread computes at a time.")
        else:
            lines.append(
                f"{at(threads)}: the function lets go of the GIL while it computes (C code such as "
                "hashlib, zlib or numpy), so threads run it in parallel too, without processes' "
                "start-up and copying."
            )
    for processes in filter(None, (best(rows, m) for m in parallel)):
        if (processes.speedup or 0.0) > SCALES:
            lines.append(
                f"{at(processes)}, on {usable_cores} usable cores: {processes.model} compute in parallel."
            )
        else:
            lines.append(
                f"{at(processes)}: {processes.model} did not pay for their start-up and copying here."
            )
    return lines


def memory_against_threads(rows: Sequence[Row], row: Row) -> str:
    """`, 0.1 KB per worker against threads' 10.4 KB` when a model of threads (workers sharing
    one GIL) ran at the same count."""
    sharing = [r for r in rows if kind(r.model) == "gil" and r.model != SERIAL]
    twin = next((r for r in sharing if r.workers == row.workers), None)
    mine, theirs = per_worker(row), per_worker(twin) if twin else None
    if twin is None or mine is None or theirs is None or theirs <= 0:
        return ""
    return f", {max(mine, 0) / 1024:.1f} KB per worker against {twin.model}' {theirs / 1024:.1f} KB"


def per_worker(row: Row) -> int | None:
    """A row's memory per worker, in bytes."""
    return None if row.memory is None else int(row.memory.get("per_worker_bytes") or 0)


def mismatches(rows: Sequence[Row]) -> list[str]:
    """One sentence per model whose outputs differed from serial's in some trial."""
    lines = []
    models = dict.fromkeys(r.model for r in rows if r.model != SERIAL)
    matched = [m for m in models if all(r.outputs_match for r in rows if r.model == m)]
    for model in models:
        bad = [r for r in rows if r.model == model and r.mismatched_trials]
        if not bad:
            continue
        differed, total = (
            sum(r.mismatched_trials for r in bad),
            sum(r.trials for r in rows if r.model == model),
        )
        others = f" ({', '.join(matched)} matched)" if matched else ""
        counts = ", ".join(str(r.workers) for r in bad)
        declared = MODELS.get(model)
        means = declared.mismatch_means if declared else "the outputs differ"
        lines.append(
            f"{model} returned different outputs from serial in {differed} of {total} trials "
            f"(at {counts} workers): {means}{others}."
        )
    return lines


def failures(rows: Sequence[Row]) -> list[str]:
    """One sentence per row that stopped on an error."""
    return [
        f"{r.variant} at {r.workers} worker{'s' * (r.workers != 1)} failed: {r.error}"
        for r in rows
        if r.error and r.model != SERIAL
    ] + [
        f"serial failed: {r.error}" for r in rows if r.error and r.model == SERIAL and r.elapsed_s is not None
    ]
