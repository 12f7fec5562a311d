"""The answer first: for each kind of job the run measured, which model to use and the numbers
behind it, every figure read from the run's records (each model in its default variant; in a
report across Pythons, each interpreter's rows apart).

The rules, one per row: waiting and computing pick the fastest median (time, or speedup over one
worker), and among those within `CLOSE` of it the cheapest to start (then the least memory per
worker); shared state says whether each model lost updates without a lock and kept them all
with one, and names the cheapest lock that was measured.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from tabulate import tabulate

from lab.measure import stats
from lab.models import MODELS
from lab.render import mixed
from lab.render.common import table
from lab.results import Result, ResultsFile
from lab.studies.sweeps import median_metric, per_worker_bytes, size

CLOSE = 1.10  # within 10% of the best counts as as good: the machine's noise is about that


@dataclass(frozen=True)
class Answer:
    """One row: the job, what to use, the numbers behind it, and the section with the details."""

    job: str
    use: str
    measured: str
    section: str  # a key of the report's sections: "time", "network", "counters", "mixed"


@dataclass(frozen=True)
class Timed:
    """One variant's figures for one job: median seconds (or speedup), start-up, memory per worker."""

    variant: str
    value: float
    startup: float | None
    per_worker: float | None


def default_variant(r: Result) -> bool:
    """Whether `r` ran its model's default options (the first choice of each: for a start method,
    the platform's default)."""
    model = MODELS.get(r.model)
    if model is None:
        return False
    names = {o.name for o in model.takes}
    return all(value == model.option(key).choices[0] for key, value in r.options.items() if key in names)


def figures(group: Sequence[Result]) -> tuple[float | None, float | None, float | None]:
    """A group's median elapsed, median start-up and median memory per worker."""
    spread, start = stats.elapsed(group), stats.startup(group)
    return (
        spread.median if spread else None,
        start.median if start else None,
        median_metric(group, per_worker_bytes),
    )


def overlap(many: Sequence[Result], one: Sequence[Result]) -> bool:
    """Whether the slowest trial with many workers took at least as long as the fastest with one:
    the trials cannot tell the two apart (on a machine whose speed drifts, a median can)."""
    spread_many, spread_one = stats.elapsed(many), stats.elapsed(one)
    return spread_many is not None and spread_one is not None and spread_many.high >= spread_one.low


def groups(results: Sequence[Result], job: str, workers: int) -> dict[str, list[Result]]:
    """The default variants' results of `job` at `workers`, by variant, in the order first seen."""
    found: dict[str, list[Result]] = {}
    for r in results:
        if r.job == job and r.params.get("workers") == workers and default_variant(r) and not r.error:
            found.setdefault(r.variant, []).append(r)
    return found


def cores(doc: ResultsFile) -> int | None:
    """The CPUs the run could use, as it recorded them."""
    env = dict(doc.environment)
    count = env.get("cpus_usable", env.get("cpu_count"))
    return count if isinstance(count, int) else None


def with_sweep(doc: ResultsFile, job: str) -> list[Result]:
    """`job`'s main results, and its sweep's where a variant has no main row at that worker count
    with the same parameters (a costly model runs one row per demo at the quick scale; its
    sweep has the others)."""

    def key(r: Result) -> tuple[str, str]:
        return r.variant, repr(sorted(r.params.items()))

    main = [r for r in doc.results if r.job == job]
    have = {key(r) for r in main}
    shapes = {repr(sorted((k, v) for k, v in r.params.items() if k != "workers")) for r in main}
    extra = [
        r for r in doc.sweeps
        if r.job == job and key(r) not in have
        and repr(sorted((k, v) for k, v in r.params.items() if k != "workers")) in shapes
    ]  # fmt: skip
    return [*main, *extra]


def most_workers(results: Sequence[Result], job: str) -> int | None:
    """The largest worker count `job` ran with."""
    counts = [int(r.params["workers"]) for r in results if r.job == job and "workers" in r.params]
    return max(counts, default=None)


def pick(timed: Sequence[Timed], higher_is_better: bool) -> list[Timed]:
    """The variants within `CLOSE` of the best, cheapest to start first (then least memory)."""
    if not timed:
        return []
    best = max(t.value for t in timed) if higher_is_better else min(t.value for t in timed)
    close = [t for t in timed if (t.value * CLOSE >= best if higher_is_better else t.value <= best * CLOSE)]
    return sorted(close, key=lambda t: (t.startup or 0.0, t.per_worker or 0.0))


def use(chosen: Sequence[Timed], everyone: Sequence[Timed]) -> str:
    """`threads`, or `threads or asyncio`, and when all are as good, `any`: models, not variants
    (in a report across Pythons, `asyncio@3.13.0` and `asyncio@3.11.7` are one answer)."""
    names = list(dict.fromkeys(model_of(t.variant) for t in chosen))
    if len(names) == len({model_of(t.variant) for t in everyone}) > 1:
        return f"any; {names[0]} starts cheapest"
    return " or ".join(names[:2])


def model_of(variant: str) -> str:
    """`processes+fork+mp@3.13.0` -> `processes`."""
    return variant.split("@", maxsplit=1)[0].split("+", maxsplit=1)[0]


def waiting(results: Sequence[Result]) -> Answer | None:
    """pool-map at its most workers: a few waits at once."""
    workers = most_workers(results, "pool-map")
    if not workers:
        return None
    timed = []
    ideal = None
    for variant, group in groups(results, "pool-map", workers).items():
        median, startup, memory = figures(group)
        ideal = group[0].ideal_s
        if median is not None:
            timed.append(Timed(variant, median, startup, memory))
    if not timed:
        return None
    first = next(r for r in results if r.job == "pool-map" and r.params.get("workers") == workers)
    numbers = " · ".join(
        f"{t.variant} {t.value:.3f} s"
        + (f" ({t.startup * 1000:.0f} ms start-up)" if t.startup is not None else "")
        for t in timed
    )
    return Answer(
        f"a few waits at once (pool-map: {first.params['tasks']} x sleep({first.params['sleep']:g}), "
        f"{workers} workers)",
        use(pick(timed, higher_is_better=False), timed),
        f"{numbers} (ideal {ideal:.3f} s)" if ideal is not None else numbers,
        "time",
    )


def in_flight(results: Sequence[Result], sweeps: Sequence[Result]) -> Answer | None:
    """http-get at the most requests in flight that at least two models reached (the report's
    rows, and its sweep's)."""
    pool = [r for r in [*results, *sweeps] if r.job == "http-get"]
    counts = sorted({int(r.params["workers"]) for r in pool}, reverse=True)
    for workers in counts:
        found = groups(pool, "http-get", workers)
        timed = [
            Timed(v, m, st, mem) for v, g in found.items() for m, st, mem in [figures(g)] if m is not None
        ]
        if len(timed) < 2:
            continue
        first = next(g[0] for g in found.values())
        numbers = " · ".join(f"{t.variant} {t.value:.3f} s ({size(t.per_worker)} a request)" for t in timed)
        return Answer(
            f"requests in flight (http-get: {first.params['requests']} requests, {workers} in flight, "
            f"{first.params['latency']:g} s each)",
            use(pick(timed, higher_is_better=False), timed),
            f"{numbers} (ideal {first.ideal_s:.3f} s)" if first.ideal_s is not None else numbers,
            "network",
        )
    return None


def waiting_and_computing(results: Sequence[Result]) -> Answer | None:
    """mixed, in every variant (asyncio's `offload` is the lesson): among the fastest (within
    CLOSE), the one whose caller could not run for the shortest worst stretch (its heartbeat)."""
    found = [row for row in mixed.rows(results) if row.median is not None and row.right]
    if not found:
        return None
    found.sort(key=lambda row: row.median or 0.0)
    best = found[0].median or 0.0
    # Among the fastest (within CLOSE), the one whose caller was blocked least.
    fastest = [row for row in found if (row.median or 0.0) <= best * CLOSE]
    chosen = min(fastest, key=lambda row: row.worst if row.worst is not None else float("inf")).variant
    first = next(iter(mixed.main_groups(results).values()))[0]  # the most rounds
    numbers = " · ".join(
        f"{variant} {median:.3f} s (caller blocked up to {mixed.ms(worst)} ms)"
        for variant, median, worst, *_ in found
    )
    p = first.params
    return Answer(
        f"waiting and computing in one job (mixed: {p['tasks']} x {p['latency']:g} s wait, then "
        f"{p['rounds']:,} rounds)",
        chosen,
        numbers,
        "mixed",
    )


def computing(results: Sequence[Result], job: str, what: str, cores: int | None = None) -> Answer | None:
    """cpu-bound (one kernel): each variant's speedup, its most workers over one. A speedup above
    the `cores` (by more than CLOSE) cannot be parallel work: it is marked and not chosen (a
    one-worker run that a busy moment or a first task's import slowed)."""
    workers = most_workers(results, job)
    if not workers or workers < 2:
        return None
    one, many = groups(results, job, 1), groups(results, job, workers)
    timed, noise = [], set()
    for variant, group in many.items():
        median, startup, memory = figures(group)
        single = figures(one.get(variant, []))[0]
        if median and single:
            timed.append(Timed(variant, single / median, startup, memory))
            if overlap(group, one.get(variant, [])):
                noise.add(variant)
    if not timed:
        return None
    limit = min(workers, cores or workers) * CLOSE
    # Chosen on speedups held to the limit: one above it is noise on top of using every core, so
    # it ties with the others that reached the cores (dropping it would crown the slowest). One
    # whose trials overlap the one-worker trials is no speedup that the trials can tell: 1x.
    believable = [replace(t, value=1.0 if t.variant in noise else min(t.value, limit)) for t in timed]
    numbers = " · ".join(
        f"{t.variant} {t.value:.2f}x"
        + (f" (above {cores} cores: not believed)" if t.value > limit else "")
        + (" (its trials overlap the one worker's: noise)" if t.variant in noise and t.value > CLOSE else "")
        for t in sorted(timed, key=lambda t: -t.value)
    )
    return Answer(
        f"{what} ({job}, {workers} workers over 1)",
        use(pick(believable, higher_is_better=True), believable),
        numbers,
        "time",
    )


def shared_state(results: Sequence[Result], lock_costs: Mapping[str, float]) -> Answer | None:
    """The counters: who lost updates without a lock, whether the locks kept them all."""
    racy = [r for r in results if r.demo == "racy-counter" and default_variant(r) and r.lost is not None]
    locked = [r for r in results if r.demo == "locked-counter" and default_variant(r)]
    if not racy and not locked:
        return None
    parts = []
    if racy:
        lost: dict[str, list[float]] = {}
        for r in racy:
            lost.setdefault(r.variant, []).append(r.lost / r.expected if r.expected else 0.0)  # type: ignore[operator]
        medians = {v: statistics.median(x) for v, x in lost.items()}
        losers = [m for m in medians.values() if m > 0]
        kept = [v for v, m in medians.items() if m == 0]
        size_of = f"{racy[0].params['workers']} x {racy[0].params['increments']}"
        parts.append(
            f"no lock: {len(losers)} of {len(medians)} variants lost updates"
            + (
                f" ({min(losers):.0%}-{max(losers):.0%} of them, median, at {size_of})"
                if losers
                else f" at {size_of}"
            )
            + (f"; {', '.join(kept)} lost none" if kept else "")
        )
    if locked:
        exact = sum(bool(r.correct) for r in locked)
        parts.append(f"with a lock: exact in {exact} of {len(locked)} trials")
    if lock_costs:
        cheapest, dearest = (
            min(lock_costs.items(), key=lambda kv: kv[1]),
            max(lock_costs.items(), key=lambda kv: kv[1]),
        )
        parts.append(
            f"a lock costs {cheapest[1]:.2f} us ({cheapest[0]}) to {dearest[1]:.0f} us ({dearest[0]}) "
            "an acquire and release"
        )
    if not locked:
        verdict = "a lock (locked-counter not measured in a default variant)"
    elif all(r.correct for r in locked):
        verdict = "a lock, in every model"
    else:
        wrong = len(locked) - sum(bool(r.correct) for r in locked)
        verdict = f"a lock; {wrong} of {len(locked)} locked trials were not exact here"
    return Answer(
        "shared state (racy-counter, locked-counter)",
        verdict,
        "; ".join(parts),
        "counters",
    )


ROWS: tuple[Callable[[ResultsFile], Answer | None], ...] = (
    lambda doc: waiting(doc.results),
    lambda doc: in_flight(doc.results, doc.sweeps),
    lambda doc: computing(with_sweep(doc, "cpu-bound"), "cpu-bound", "pure-Python CPU work", cores(doc)),
    lambda doc: computing(
        with_sweep(doc, "cpu-bound (hashlib)"),
        "cpu-bound (hashlib)",
        "CPU work in C that lets go of the GIL",
        cores(doc),
    ),
    lambda doc: shared_state(doc.results, doc.run.lock_costs),
    lambda doc: waiting_and_computing(doc.results),
)


def answers(doc: ResultsFile) -> list[Answer]:
    """The rows the run has the records for (a job it did not run has no row)."""
    return [a for a in (row(doc) for row in ROWS) if a is not None]


def measured_on(doc: ResultsFile) -> str:
    """The interpreter(s) the figures come from."""
    labels = sorted({str(r.python["label"]) for r in doc.results if r.python})
    if labels:
        return "CPython " + " and ".join(labels)
    env = dict(doc.environment)
    return f"{env.get('implementation', 'Python')} {env.get('python', '')}".strip()


def answer_section(doc: ResultsFile, anchors: Mapping[str, str]) -> str:
    """The report's first section: the answer table, each row linking to its details (`anchors`:
    a section key -> its link target)."""
    found = answers(doc)
    if not found:
        return "Nothing measured that answers a job: run more demos."
    rows = [(a.job, f"**{a.use}**", a.measured, f"[details]({anchors[a.section]})") for a in found]
    env = dict(doc.environment)
    return (
        f"Measured on {measured_on(doc)}, {env.get('cpu_count', '?')} CPUs: each model in its default "
        f"variant, medians over {doc.run.trials} trials. *Use* is the fastest, or among those within "
        f"{CLOSE - 1:.0%} of it the cheapest to start.\n\n" + table(rows, ["job", "use", "measured", "see"])
    )


def answer_text(doc: ResultsFile) -> str:
    """The same table for a terminal."""
    rows = [(a.job, a.use, a.measured) for a in answers(doc)]
    return tabulate(rows, ["job", "use", "measured"], tablefmt="simple", maxcolwidths=[34, 24, 60])
