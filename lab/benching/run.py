"""Running a bench: serial, then each model at each worker count, trial after trial.

Trials go round-robin (every row's first trial, then every row's second, ...), so that a slow
moment of a shared machine spreads over the rows instead of landing on one. Each trial maps the
function over every item with the workers already started, like the demos (`lab.models`),
and records its time, CPU use, memory and outputs.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lab.benching.job import name_of, unpicklable
from lab.benching.records import SERIAL, Bench, Row
from lab.benching.verdict import verdict
from lab.errors import BadJob, InvalidParameter, StudyInterrupted, Unavailable, UnknownName, in_one_line
from lab.measure.environment import collect, usable_cores
from lab.measure.memory import MemorySampler
from lab.measure.stats import Spread
from lab.models import MODELS
from lab.models.base import THREAD_NAME, Measured, Work, cpu_seconds, now, uses_nothing
from lab.models.tasks import apply
from lab.models.threads import stuck_threads
from lab.params import check_int, check_seconds
from lab.runner import run_work
from lab.studies.suite import progress_display

DEFAULT_TIMEOUT_S = 60.0
TO_THREAD = (
    "asyncio not run: no coroutine function was given (--async). A sync function run from asyncio "
    "goes through asyncio.to_thread, which is threads in disguise; the threads rows already show that."
)


def default_workers(model: str, items: int) -> list[int]:
    """1, 2, the usable cores and the model's own extra counts, none above the number of items."""
    counts = {1, 2, usable_cores(), *MODELS[model].bench_workers}
    return sorted(c for c in counts if c <= max(1, items)) or [1]


def default_models(asynchronous: bool) -> list[str]:
    """The cheap models (no cluster per run) that run here with their default options: those
    that run plain functions, and those that run coroutine functions when one is given."""
    return [
        name
        for name, model in MODELS.items()
        if model.cheap and (asynchronous or not model.asynchronous)
        if model.unavailable(model.default_options()) is None
    ]


@dataclass
class Trials:
    """What one row's trials measured so far."""

    model: str
    options: Mapping[str, str]
    workers: int
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    memory: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[list[Any]] = field(default_factory=list)
    error: str | None = None


def bench(
    function: Callable[..., Any],
    items: Iterable[Any],
    *,
    async_function: Callable[..., Any] | None = None,
    workers: Sequence[int] | Mapping[str, Sequence[int]] | None = None,
    models: Sequence[str] | None = None,
    options: Mapping[str, Mapping[str, str]] | None = None,
    trials: int = 3,
    warmup: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
    quiet: bool = True,
    argv: list[str] | None = None,
) -> Bench:
    """Run `function` over `items` serially and in each model at each worker count; return a `Bench`.

    `function` is a plain function of one item, run in threads and processes (which need it at
    module level, to pickle it); `async_function`, the same job as a coroutine function, runs in
    asyncio. `workers` is one list of counts for every model or a list per model (default: 1, 2
    and the usable cores; asyncio more). `models` defaults to the cheap models that run plain
    functions (threads, processes), plus those that run coroutines (asyncio) when
    `async_function` is given; `options` maps a model to its options (`{"processes":
    {"start_method": "spawn"}}`). Each row runs `trials` times (after one uncounted warm-up if
    `warmup`); a row stops at its first error, recorded, and the others go on. Raises `BadJob`
    or another `LabError` for a bad argument, and `StudyInterrupted` (carrying the partial
    `Bench`) on Ctrl-C.
    """
    items = tuple(items)
    if not items:
        raise BadJob("no items to run the function on")
    if not callable(function) or inspect.iscoroutinefunction(function):
        raise BadJob(
            f"the function must be a plain (sync) function, not {function!r}: "
            "give a coroutine function as async_function"
        )
    if async_function is not None and not inspect.iscoroutinefunction(async_function):
        raise BadJob(f"async_function must be a coroutine function (async def), not {async_function!r}")
    trials = check_int("trials", trials, 1)
    timeout = check_seconds("timeout", timeout, positive=True)
    models = [MODELS.get_model(m).name for m in models or default_models(async_function is not None)]
    for model in models:
        if MODELS[model].asynchronous and async_function is None:
            raise BadJob(f"model {model} needs the job as a coroutine function: give --async MODULE:FUNCTION")
    chosen = {m: model_options(m, (options or {}).get(m, {})) for m in models}
    counts = {m: worker_counts(m, workers, len(items)) for m in models}
    notes = [] if async_function or any(MODELS[m].asynchronous for m in models) else [TO_THREAD]
    rows: list[Trials] = [Trials(SERIAL, {}, 1)]
    for model in models:
        why = unpicklable(function, items) if MODELS[model].pickles else None
        for count in counts[model]:
            rows.append(Trials(model, chosen[model], count, error=why and f"not run: {why}"))
        if why:
            notes.append(f"{model} not run: {why}. The other models ran.")
    job = {
        "function": name_of(function),
        "async_function": name_of(async_function) if async_function else None,
        "items": len(items),
        "first_item": repr(items[0])[:60],
        "trials": trials,
        "warmup": warmup,
        "timeout_s": timeout,
        "cores": usable_cores(),
    }
    environment = collect(argv)
    total = (trials + warmup) * sum(row.error is None for row in rows)
    try:
        with progress_display(total, quiet) as advance:
            for trial in range(0 if warmup else 1, trials + 1):
                for row in rows:
                    if row.error is None:
                        what = f"trial {trial}/{trials}" if trial else "warm-up"
                        advance(f"{row.model} · {row.workers} workers · {what}")
                        declared = MODELS.get(row.model)  # None: the serial row
                        job_function = async_function if declared and declared.asynchronous else function
                        assert job_function is not None
                        once(row, job_function, items, timeout, keep=trial > 0)
    except KeyboardInterrupt as exc:
        raise StudyInterrupted(build(job, rows, notes, environment, partial=True), exc) from None
    return build(job, rows, notes, environment)


def model_options(model: str, given: Mapping[str, str]) -> dict[str, str]:
    """A model's options for `call`: the given ones checked, the others at their defaults."""
    declared = {option.name: option for option in MODELS[model].options_for("call", uses_nothing)}
    options = {name: option.choices[0] for name, option in declared.items()}
    for key, value in given.items():
        if key not in declared:
            takes = ", ".join(declared) or "none"
            raise InvalidParameter(f"option {key!r} does not apply to model {model}; it takes: {takes}")
        options[key] = declared[key].check(value)
    if reason := MODELS[model].unavailable(options):
        raise Unavailable(reason)
    return options


def worker_counts(
    model: str, workers: Sequence[int] | Mapping[str, Sequence[int]] | None, items: int
) -> list[int]:
    """The worker counts for `model`, checked against its limit."""
    given = workers.get(model) if isinstance(workers, Mapping) else workers
    if not given:
        return default_workers(model, items)
    return sorted({check_int("workers", w, 1, MODELS[model].max_workers) for w in given})


def once(
    row: Trials, function: Callable[..., Any], items: tuple[Any, ...], timeout: float, keep: bool
) -> None:
    """One trial of one row; kept in `row` unless it is a warm-up (an error is always kept)."""
    pairs = tuple(enumerate(items))
    model = MODELS.get(row.model)
    with MemorySampler(children=model is not None and model.children) as sampler:
        if model is None:
            measured, error = serially(function, pairs, timeout)
        else:
            work = Work(task="call", items=pairs, workers=row.workers, timeout=timeout, function=function)
            measured, error = run_work(model, row.options, work)
            if error and error.startswith("timed out") and (stuck := stuck_threads()):
                error += f"; {stuck} threads abandoned, still running"
    if error or measured is None:
        row.error = error or "no result"
        return
    if keep:
        row.times.append(measured.elapsed_s)
        row.cpu.append(measured.cpu_s or 0.0)
        row.memory.append(sampler.summary(row.workers))
        row.outputs.append(measured.outputs)


def serially(
    function: Callable[..., Any], pairs: tuple[tuple[int, Any], ...], timeout: float
) -> tuple[Measured | None, str | None]:
    """The baseline: the function in a plain loop, in one thread, timed like the models.

    The loop runs in a helper thread while the calling thread waits, so that a hanging function
    can be given up on after `timeout` (that thread is then abandoned, and counted)."""
    box: dict[str, Any] = {}

    def loop() -> None:
        try:
            cpu, begin = cpu_seconds(), now()
            outputs = [apply(function, pair) for pair in pairs]
            elapsed = now() - begin
            box["measured"] = Measured(outputs, None, elapsed, 0.0, cpu_s=cpu_seconds() - cpu)
        except Exception as exc:
            box["error"] = in_one_line(exc)

    helper = threading.Thread(target=loop, name=f"{THREAD_NAME}-serial", daemon=True)
    helper.start()
    helper.join(timeout)
    if helper.is_alive():
        return None, f"timed out after {timeout:g} s (see --timeout); its thread is abandoned, still running"
    return box.get("measured"), box.get("error")


def build(
    job: Mapping[str, Any],
    trials: Sequence[Trials],
    notes: Sequence[str],
    environment: Mapping[str, Any],
    partial: bool = False,
) -> Bench:
    """The rows from what the trials measured, and the verdict from the rows."""
    serial = trials[0]
    reference = serial.outputs[0] if serial.outputs else None
    deterministic = all(o == reference for o in serial.outputs)
    base = Spread.of(serial.times)
    rows = []
    for t in trials:
        spread = Spread.of(t.times)
        speedup = base.median / spread.median if base and spread and spread.median > 0 else None
        compared = reference is not None and deterministic
        mismatched = sum(o != reference for o in t.outputs) if compared else 0
        rows.append(
            Row(
                model=t.model,
                options=t.options,
                workers=t.workers,
                trials=len(t.times),
                elapsed_s=spread.median if spread else None,
                elapsed_min_s=spread.low if spread else None,
                elapsed_max_s=spread.high if spread else None,
                times=tuple(t.times),
                speedup=speedup,
                efficiency=speedup / t.workers if speedup is not None else None,
                cpu_cores=median([c / s for c, s in zip(t.cpu, t.times, strict=True) if s > 0]),
                memory=max(t.memory, key=lambda m: m.get("peak_bytes") or 0) if t.memory else None,
                outputs_match=(mismatched == 0) if compared and t.outputs else None,
                mismatched_trials=mismatched,
                error=t.error,
            )
        )
    return Bench(
        job=job,
        rows=tuple(rows),
        verdict=tuple(verdict(rows, int(job["cores"]), deterministic)),
        notes=tuple(notes),
        environment=environment,
        partial=partial,
    )


def median(values: Sequence[float]) -> float | None:
    """The median, or None of nothing."""
    spread = Spread.of(values)
    return spread.median if spread else None


__all__ = ["UnknownName", "bench"]
