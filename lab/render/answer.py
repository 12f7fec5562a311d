"""The answer first: for each kind of job the run measured, which model to use and the numbers
behind it, every figure read from the run's records (each model in its default variant; in a
report across Pythons, each interpreter's rows apart).

The rule, one for every timed row (`decide`): the fastest median, and every variant that the
paired trials do not show to be slower than it (`lab.measure.stats.Ratio.verdict`, at the
minimum effect: 5%) tie with it; among those, a variant whose start-up costs more than the
cheapest's by over a tenth of the best time (and 10 ms), in every trial, drops out where one that
starts cheaper also ends sooner, start-up included, and the rest are named in the models' own
order. Computing rows compare the times at the most workers, and show each speedup over one
worker with its interval and the cores it used (CPU time over wall time). Shared state says
whether each model lost updates without a lock and kept them all with one, and names the
cheapest lock that was measured.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from tabulate import tabulate

from lab.demos import DEMOS, describe, having
from lab.demos.base import AnswerRow, AnswerRule
from lab.measure import stats
from lab.measure.heartbeat import BLOCKED_S
from lab.measure.stats import MIN_EFFECT, Ratio
from lab.models import MODELS
from lab.render import deadline, mixed
from lab.render.common import table
from lab.render.pipeline import crossovers
from lab.render.transfer import pays_from, speedups
from lab.results import Result, ResultsFile, job_name
from lab.studies.sweeps import median_metric, per_worker_bytes, size

STARTUP_SHARE = 0.10  # a start-up dearer than the cheapest by this share of the best time counts,
# and by at least this much: five threads took 1-9 ms to start here as the host took its CPUs back
# (steal time), against asyncio's 1 ms; forked processes never under 27 ms.
STARTUP_FLOOR_S = 0.010


@dataclass(frozen=True)
class Answer:
    """One row: the job, what to use, the numbers behind it, and the section with the details.

    `contested`: where the trials could not yet tell a variant from the fastest (nor show it as
    good), the fastest and those, each with the parameters of its row (`Result.shape`): more
    trials of them may decide (`lab.reporting`)."""

    job: str
    use: str
    measured: str
    section: str  # a key of the report's sections: "time", "counters", or a demo with its own
    demo: str = ""
    contested: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Timed:
    """One variant's trials for one job (lower is better), with its start-up and memory per worker."""

    variant: str
    trials: Sequence[Result]
    startup: float | None
    per_worker: float | None

    @property
    def value(self) -> float:
        """The median elapsed time."""
        spread = stats.elapsed(self.trials)
        return spread.median if spread else float("inf")


@dataclass(frozen=True)
class Decision:
    """What `decide` found: the variants to use, in order, each other one's ratio to the fastest
    and its verdict, the ones still undecided, and of those the ones whose verdict would change
    the variants to use (`deciding`)."""

    use: list[Timed]
    ratios: dict[str, tuple[Ratio | None, str]]
    undecided: tuple[str, ...]
    best: Timed
    timed: Sequence[Timed]
    deciding: tuple[str, ...] = ()

    @property
    def contested(self) -> tuple[tuple[str, str], ...]:
        """The rows to measure again: the fastest and each undecided variant whose verdict would
        change the answer, with their shapes (`Result.shape`)."""
        if not self.deciding:
            return ()
        rows = [self.best, *(t for t in self.timed if t.variant in self.deciding)]
        return tuple((t.variant, t.trials[0].shape) for t in rows)


def decide(timed: Sequence[Timed], effect: float = MIN_EFFECT) -> Decision:
    """The fastest, the variants its paired trials do not show slower (a tie, or undecided), and
    of those the ones whose start-up does not cost more than a tenth of the best time over the
    cheapest's (`STARTUP_SHARE`), or that a cheaper start-up would not make up for (`chosen`)."""
    best = min(timed, key=lambda t: t.value)
    ratios: dict[str, tuple[Ratio | None, str]] = {}
    for t in timed:
        if t is not best:
            ratio = Ratio.of(stats.paired(t.trials, best.trials))
            ratios[t.variant] = (ratio, ratio.verdict(effect) if ratio else "undecided")
    slower = {v for v, (_, verdict) in ratios.items() if verdict == "slower"}
    use = chosen(timed, best, slower)
    undecided = tuple(v for v, (_, verdict) in ratios.items() if verdict == "undecided")
    # More trials are worth their time only where the verdict matters: a variant that its
    # start-up leaves out whether it ties or not (processes beside threads on hashlib) does not.
    deciding = tuple(v for v in undecided if chosen(timed, best, slower | {v}) != use)
    return Decision(use, ratios, undecided, best, timed, deciding)


def chosen(timed: Sequence[Timed], best: Timed, slower: set[str]) -> list[Timed]:
    """The variants to use, in the models' order, when those in `slower` are shown slower than
    `best`: the others, but one whose start-up costs more than `STARTUP_SHARE` of the best time
    (and `STARTUP_FLOOR_S`) over the cheapest's median in every trial, where one of those that
    start cheaply ends sooner, its start-up included (`total`)."""
    tied = [t for t in timed if t is best or t.variant not in slower]
    cheapest = min((t.startup for t in tied if t.startup is not None), default=0.0)
    # Dearer in every trial, not by its median: five threads start in 2-20 ms here from trial to
    # trial, against asyncio's 1 ms and a limit of 5 ms, and a median would pick either.
    limit = max(STARTUP_SHARE * best.value, STARTUP_FLOOR_S)
    cheap = [t for t in tied if min(starts(t), default=0.0) - cheapest <= limit]
    # A start-up the run's own time more than pays back is no reason to leave a model out: 4 x
    # 10 MB of CPU work, processes sharing the data 0.264 s + 30 ms against asyncio's 0.510 s +
    # 1 ms, named asyncio (its time undecided in 3 noisy trials) when this looked at start-up alone.
    use = [t for t in tied if t in cheap or all(total(c) > total(t) for c in cheap)]
    return sorted(use, key=lambda t: rank(t.variant))


def total(t: Timed) -> float:
    """A variant's median time with its median start-up: what a user waits for, all told."""
    return t.value + (t.startup or 0.0)


def starts(t: Timed) -> list[float]:
    """The start-up of each of a variant's trials, where its start-up counts (`Timed.startup`
    is not None: mixed leaves it out)."""
    if t.startup is None:
        return []
    return [r.startup_s for r in t.trials if r.startup_s is not None] or [t.startup]


def rank(variant: str) -> tuple[int, str]:
    """Where a variant's model stands in the lab's lists (`Model.rank`), then its name."""
    model = MODELS.get(model_of(variant))
    return (model.rank if model else 1000, variant)


def noise_floor(doc: ResultsFile) -> Ratio | None:
    """The A/A pair's ratio: the same variant, twice a round (`ResultsFile.noise`); its interval
    is the scatter of a ratio between two runs that differ in nothing but their place."""
    first = [r for r in doc.noise if r.timing.get("twin") == "a"]
    second = [r for r in doc.noise if r.timing.get("twin") == "b"]
    return Ratio.of(stats.paired(first, second))


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


def use(chosen: Sequence[Timed], everyone: Sequence[Timed]) -> str:
    """`threads`, or `asyncio or threads`, and `any` when every model ties: models, not variants
    (in a report across Pythons, `asyncio@3.13.0` and `asyncio@3.11.7` are one answer)."""
    names = list(dict.fromkeys(model_of(t.variant) for t in chosen))
    if len(names) == len({model_of(t.variant) for t in everyone}) > 1:
        return "any"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def verdicts(decision: Decision, timed: Sequence[Timed]) -> str:
    """`; threads 1.31x the fastest (1.22-1.40), processes: start-up` for the variants not used."""
    used = {t.variant for t in decision.use}
    parts = []
    for t in timed:
        if t.variant in used:
            continue
        ratio, verdict = decision.ratios.get(t.variant, (None, "fastest"))
        if verdict == "slower" and ratio:
            parts.append(f"{t.variant} {ratio.text()} the time")
        else:
            parts.append(f"{t.variant}: {'tied, but ' if verdict == 'tie' else ''}dearer start-up")
    undecided = [v for v in decision.undecided if v in used]
    tail = f"; undecided: {', '.join(undecided)}" if undecided else ""
    return (f"; not {', '.join(parts)}" if parts else "") + tail


def model_of(variant: str) -> str:
    """`processes+fork+mp@3.13.0` -> `processes`."""
    return variant.split("@", maxsplit=1)[0].split("+", maxsplit=1)[0]


def timed_of(found: Mapping[str, list[Result]]) -> list[Timed]:
    """Each variant's trials, start-up and memory per worker (the ones with a time)."""
    return [
        Timed(variant, group, start, memory)
        for variant, group in found.items()
        for median, start, memory in [figures(group)]
        if median is not None
    ]


def waiting(results: Sequence[Result], demo: str, what: str, effect: float = MIN_EFFECT) -> Answer | None:
    """The demo at its most workers (pool-map: a few waits at once)."""
    workers = most_workers(results, demo)
    if not workers:
        return None
    timed = timed_of(groups(results, demo, workers))
    if not timed:
        return None
    first = timed[0].trials[0]
    decision = decide(timed, effect)
    numbers = " · ".join(
        f"{t.variant} {t.value:.3f} s"
        + (f" ({t.startup * 1000:.0f} ms start-up)" if t.startup is not None else "")
        for t in timed
    )
    ideal = f" (ideal {first.ideal_s:.3f} s)" if first.ideal_s is not None else ""
    p = first.params
    work = f"{p['tasks']} x sleep({p['sleep']:g}), " if "tasks" in p and "sleep" in p else ""
    return Answer(
        f"{what} ({demo}: {work}{workers} workers)",
        use(decision.use, timed),
        numbers + ideal + verdicts(decision, timed),
        section_of(demo),
        demo,
        decision.contested,
    )


def rate(group: Sequence[Result]) -> str:
    """A group's median messages per second, ` (1,230,000 msg/s)` (nothing where no trial has it)."""
    value = median_metric(group, lambda r: (r.metrics or {}).get("messages_per_s"))
    return f" ({value:,.0f} msg/s)" if value is not None else ""


def messages(results: Sequence[Result], demo: str, what: str, effect: float = MIN_EFFECT) -> Answer | None:
    """The demo (pipeline) at its first row's parameters: the times of every variant that ran
    exactly those (a costly model's smaller run is shown apart, never compared), and each one's
    messages per second; then the crossover of its rounds ladder, where the run has one."""
    rows = [r for r in results if r.job == demo and default_variant(r) and not r.error]
    if not rows:
        return None
    first = rows[0].params
    same: dict[str, list[Result]] = {}
    for r in rows:
        if r.params == first:
            same.setdefault(r.variant, []).append(r)
    timed = timed_of(same)
    if not timed:
        return None
    decision = decide(timed, effect)
    numbers = " · ".join(f"{t.variant} {t.value:.3f} s{rate(t.trials)}" for t in timed)
    apart = {
        r.variant: r for r in rows if r.variant not in same and r.params.get("size") == first.get("size")
    }
    smaller = "".join(
        f"; {variant} at {r.params['messages']:,} messages (not compared)"
        f"{rate([g for g in rows if g.variant == variant and g.params == r.params])}"
        for variant, r in apart.items()
    )
    # Where CPU work on each message pays for a slower queue (the section's rounds ladder).
    found = crossovers(results, demo)
    crossing = (
        f"; with CPU work on each message, faster than {found[0]} from: "
        + ", ".join(f"{variant} {rounds}" for variant, rounds in found[1].items())
        if found and found[1]
        else ""
    )
    return Answer(
        f"{what} ({demo}: {describe(demo, first)})",
        use(decision.use, timed),
        numbers + verdicts(decision, timed) + smaller + crossing,
        section_of(demo),
        demo,
        decision.contested,
    )


def big_data(results: Sequence[Result], demo: str, what: str, effect: float = MIN_EFFECT) -> Answer | None:
    """The demo (transfer) at its largest payload with work to do, at its most workers: every
    variant with each way it was handed the payload (`via`), compared as variants are (`decide`);
    each shown with its time with `rounds` 0 at the same size, the moving alone."""
    rows = [r for r in results if r.job == demo and default_variant(r) and not r.error and "via" in r.params]
    working = [r for r in rows if r.params.get("rounds")]
    if not working:
        return None
    top = max(working, key=lambda r: (r.params["size"], r.params["workers"])).params

    def shape(r: Result, **change: object) -> dict[str, object]:
        return {k: v for k, v in {**r.params, **change}.items() if k != "via"}

    def label(r: Result) -> str:
        return f"{r.variant} ({r.params['via']})"

    same: dict[str, list[Result]] = {}
    for r in working:
        if shape(r) == shape_of(top):
            same.setdefault(label(r), []).append(r)
    timed = timed_of(same)
    if not timed:
        return None
    decision = decide(timed, effect)

    def moving(t: Timed) -> str:
        first = t.trials[0]
        idle = [r for r in rows if label(r) == t.variant and shape(r) == shape(first, rounds=0)]
        spread = stats.elapsed(idle)
        return f" (moving alone {spread.median:.3f} s)" if spread else ""

    numbers = " · ".join(
        f"{t.variant} {t.value:.3f} s{moving(t)}" for t in sorted(timed, key=lambda t: t.value)
    )
    # Why, by size: from which payload each model's speedup over one worker shows (the section's ladder).
    ladder = speedups(results, demo)
    pays = ", ".join(f"{v} {pays_from(ladder, v)}" for v in dict.fromkeys(v for v, *_ in ladder))
    chosen = list(
        # `asyncio (argument)` and `processes+fork+mp (shared)` name a model and how it was handed the data
        dict.fromkeys(
            f"{model_of(model)} ({via}" for t in decision.use for model, via in [t.variant.rsplit(" (", 1)]
        )
    )
    return Answer(
        f"{what} ({demo}: {describe(demo, {**top, 'via': 'argument or shared'})}, {top['workers']} workers)",
        " or ".join(chosen),
        numbers
        + verdicts(decision, timed)
        + (f"; speedup over 1 worker (as arguments) from: {pays}" if pays else ""),
        section_of(demo),
        demo,
        decision.contested,
    )


def stopping(
    results: Sequence[Result], demo: str, row: AnswerRow, effect: float = MIN_EFFECT
) -> Answer | None:
    """The demo (deadline) on its kind of work `row.kernel`: every variant that ran it (a way of
    stopping is a variant: threads' `stop` event or none), those whose every task's cleanup ran
    compared by their map's time (the deadline, then the stop: `decide`), and the others shown
    with what they skipped. A tie is a stop within `effect` of the deadline's whole time."""
    variants = deadline.by_kind(results, demo).get(row.kernel or "")
    if not variants:
        return None

    def label(variant: str, group: Sequence[Result]) -> str:
        way = group[0].options.get("stop")
        return f"{model_of(variant)} (stop: {way})" if way else model_of(variant)

    timed = [Timed(variant, group, None, None) for variant, group in variants.items()]
    clean = [t for t in timed if deadline.all_cleaned(t.trials)] or timed
    decision = decide(clean, effect)
    numbers = " · ".join(
        f"{t.variant} {deadline.ms(deadline.median_metric(t.trials, 'stopped_after_s'))} ms after, "
        f"{deadline.cleanups(t.trials)} cleaned up"
        for t in sorted(timed, key=lambda t: t.value)
    )
    skipped = [t.variant for t in timed if t not in clean]
    return Answer(
        f"{row.what} ({demo}: {DEMOS[demo].in_words(timed[0].trials[0].params)})",
        " or ".join(dict.fromkeys(label(t.variant, t.trials) for t in decision.use)),
        numbers
        + verdicts(decision, clean)
        + (f"; not {', '.join(skipped)}: no cleanup ran" if skipped else ""),
        section_of(demo),
        demo,
        decision.contested,
    )


def shape_of(params: Mapping[str, object]) -> dict[str, object]:
    """A row's parameters but `via`: what the variants of `big_data` share."""
    return {k: v for k, v in params.items() if k != "via"}


def in_flight(
    results: Sequence[Result], sweeps: Sequence[Result], demo: str, what: str, effect: float = MIN_EFFECT
) -> Answer | None:
    """The demo (http-get) at the most requests in flight that at least two models reached (the
    report's rows, and its sweep's)."""
    pool = [r for r in [*results, *sweeps] if r.job == demo]
    counts = sorted({int(r.params["workers"]) for r in pool}, reverse=True)
    for workers in counts:
        timed = timed_of(groups(pool, demo, workers))
        if len(timed) < 2:
            continue
        first = timed[0].trials[0]
        decision = decide(timed, effect)
        numbers = " · ".join(f"{t.variant} {t.value:.3f} s ({size(t.per_worker)} a request)" for t in timed)
        ideal = f" (ideal {first.ideal_s:.3f} s)" if first.ideal_s is not None else ""
        return Answer(
            f"{what} ({demo}: {first.params['requests']} requests, {workers} in flight, "
            f"{first.params['latency']:g} s each)",
            use(decision.use, timed),
            numbers + ideal + verdicts(decision, timed),
            section_of(demo),
            demo,
            decision.contested,
        )
    return None


def waiting_and_computing(
    results: Sequence[Result], demo: str, what: str, effect: float = MIN_EFFECT
) -> Answer | None:
    """The demo (mixed), in every variant (asyncio's `offload` is the lesson): among the fastest
    and those that tie with it (`decide`), the ones whose caller's worst stretch without running
    (its heartbeat) is within `BLOCKED_S` of the least blocked one's, in the models' own order."""
    groups_ = {variant: group for (_, variant, _), group in mixed.main_groups(results, demo).items()}
    found = {row.variant: row for row in mixed.rows(results, demo) if row.median is not None and row.right}
    if not found:
        return None
    timed = [Timed(v, groups_[v], None, None) for v in found]
    decision = decide(timed, effect)
    worst = {
        t.variant: w if (w := found[t.variant].worst) is not None else float("inf") for t in decision.use
    }
    calm = min(worst.values())
    # A heartbeat is noisy by a few milliseconds run to run: within the lab's own threshold for
    # "blocked" of the calmest, two callers are as responsive.
    chosen = [v for v in worst if worst[v] <= calm + BLOCKED_S]
    first = next(iter(mixed.main_groups(results, demo).values()))[0]  # the most rounds
    numbers = " · ".join(
        f"{row.variant} {row.median:.3f} s (caller blocked up to {mixed.ms(row.worst)} ms)"
        for row in sorted(found.values(), key=lambda row: row.median or 0.0)
    )
    tied = [v for v in worst if v not in chosen]
    p = first.params
    return Answer(
        f"{what} ({demo}: {p['tasks']} x {p['latency']:g} s wait, then {p['rounds']:,} rounds)",
        " or ".join(chosen),
        numbers + (f"; as fast, but its caller blocked longer: {', '.join(tied)}" if tied else ""),
        section_of(demo),
        demo,
        decision.contested,
    )


def cores_used(group: Sequence[Result]) -> float | None:
    """The median over trials of CPU time over wall time: the cores the work kept busy."""
    return median_metric(
        group, lambda r: r.cpu_s / r.elapsed_s if r.cpu_s is not None and r.elapsed_s else None
    )


def computing(
    results: Sequence[Result],
    demo: str,
    job: str,
    what: str,
    *,
    cores: int | None = None,
    effect: float = MIN_EFFECT,
) -> Answer | None:
    """cpu-bound (one kernel): the variants' times at their most workers decide (`decide`); each
    is shown with its speedup over one worker (paired by trial, with its interval) and the cores
    it kept busy, a second witness that a machine's drifting speed cannot fake."""
    workers = most_workers(results, job)
    if not workers or workers < 2:
        return None
    one, many = groups(results, job, 1), groups(results, job, workers)
    timed = timed_of(many)
    if not timed:
        return None
    decision = decide(timed, effect)

    def shown(t: Timed) -> str:
        speedup = Ratio.of(stats.paired(one.get(t.variant, []), t.trials))
        busy = cores_used(t.trials)
        return (
            f"{t.variant} {t.value:.3f} s"
            + (f", {speedup.text()} over 1 worker" if speedup else "")
            + (f", {busy:.1f} cores busy" if busy is not None else "")
        )

    numbers = " · ".join(shown(t) for t in sorted(timed, key=lambda t: t.value))
    on = f" on {cores} cores" if cores else ""
    return Answer(
        f"{what} ({job}, {workers} workers{on}; speedups over 1 worker with their 95% intervals)",
        use(decision.use, timed),
        numbers + verdicts(decision, timed),
        section_of(demo),
        demo,
        decision.contested,
    )


def shared_state(
    results: Sequence[Result], lock_costs: Mapping[str, float], demo: str, what: str
) -> Answer | None:
    """The counters: who lost updates without a lock (`demo`), whether the locks kept them all
    (every demo in the role "locked counter")."""
    with_lock = having("locked counter")
    racy = [r for r in results if r.demo == demo and default_variant(r) and r.lost is not None]
    locked = [r for r in results if r.demo in with_lock and default_variant(r)]
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
            f"a lock costs {cheapest[1]:.2f} us ({cheapest[0]})"
            + (f" to {dearest[1]:.0f} us ({dearest[0]})" if len(lock_costs) > 1 else "")  # one lock: one cost
            + " an acquire and release"
        )
    if not locked:
        verdict = f"a lock ({', '.join(with_lock)} not measured in a default variant)"
    elif all(r.correct for r in locked):
        verdict = "a lock, in every model"
    else:
        wrong = len(locked) - sum(bool(r.correct) for r in locked)
        verdict = f"a lock; {wrong} of {len(locked)} locked trials were not exact here"
    return Answer(f"{what} ({', '.join([demo, *with_lock])})", verdict, "; ".join(parts), "counters")


# Each rule of a row (`AnswerRow.rule`), in the order of the table's rows: (the file, the demo,
# its row, the minimum effect) -> the row, or None where the run has no records for it.
RULES: dict[AnswerRule, Callable[[ResultsFile, str, AnswerRow, float], Answer | None]] = {
    "fastest at most workers": lambda doc, demo, row, effect: waiting(doc.results, demo, row.what, effect),
    "requests in flight": lambda doc, demo, row, effect: in_flight(
        doc.results, doc.sweeps, demo, row.what, effect
    ),
    "computing": lambda doc, demo, row, effect: computing(
        with_sweep(doc, job_name(demo, row.kernel)),
        demo,
        job_name(demo, row.kernel),
        row.what,
        cores=cores(doc),
        effect=effect,
    ),
    "shared state": lambda doc, demo, row, effect: shared_state(
        doc.results, doc.run.lock_costs, demo, row.what
    ),
    "waiting and computing": lambda doc, demo, row, effect: waiting_and_computing(
        doc.results, demo, row.what, effect
    ),
    "passing messages": lambda doc, demo, row, effect: messages(doc.results, demo, row.what, effect),
    "big data": lambda doc, demo, row, effect: big_data(doc.results, demo, row.what, effect),
    "stopping on time": lambda doc, demo, row, effect: stopping(doc.results, demo, row, effect),
}


def answers(doc: ResultsFile) -> list[Answer]:
    """The rows the run has the records for (a job it did not run has no row): each demo's
    (`Demo.answers`), in the order of their rules, then of the demos."""
    declared = [(name, row) for name, demo in DEMOS.items() for row in demo.answers]
    declared.sort(key=lambda pair: list(RULES).index(pair[1].rule))  # stable: demos stay in rank order
    found = (RULES[row.rule](doc, name, row, MIN_EFFECT) for name, row in declared)
    return [a for a in found if a is not None]


def section_of(demo: str) -> str:
    """The key of the section with a demo's details: its own (`Demo.section`) or the time table."""
    return demo if DEMOS[demo].section else "time"


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
        f"variant, medians over {trials_text(doc)} trials. *Use* names the fastest and every model "
        f"whose paired trials do not show it {MIN_EFFECT - 1:.0%} or more slower (95% intervals; "
        f"[how the lab decides]({anchors.get('decides', '#how-the-lab-decides')})), but one whose "
        f"start-up costs more than a tenth of the best time (and 10 ms) over the cheapest's in every "
        "trial, where one that starts cheaper ends sooner, start-up included.\n\n"
        + table(rows, ["job", "use", "measured", "see"])
    )


def trials_text(doc: ResultsFile) -> str:
    """`3`, or `3-6` when some rows ran extra trials to decide."""
    planned = doc.run.trials or 1
    most = max((r.trial for r in doc.results), default=planned)
    return str(planned) if most <= planned else f"{planned}-{most}"


def noise_text(doc: ResultsFile) -> str:
    """The environment's row on how the run decided: its A/A pair, minimum effect, extra trials."""
    floor = noise_floor(doc)
    twin = next(iter(doc.noise), None)
    # The pair's interval should hold 1: where it does not, a run's place in its round (what ran
    # just before it) moves its time, and every comparison made in rounds is suspect.
    biased = floor is not None and floor.n > 1 and (floor.low > 1 or floor.high < 1)
    bias = (
        "; its interval leaves out 1: a run's place in its round moves its time, and verdicts near "
        "the edge are suspect"
        if biased
        else "; its interval holds 1, as it should"
        if floor is not None and floor.n > 1
        else ""
    )
    aa = (
        f"A/A pair ({twin.variant}, {twin.job}, {describe_params(twin)}, twice a round): "
        f"{floor.text()} over {floor.n} rounds, a gap of {floor.floor:.3f} between two runs of one "
        f"variant{bias}"
        if floor and twin
        else "no A/A pair measured"
    )
    # From the record, not from the scale as the code has it now: its budget may have changed.
    rounds, budget = doc.run.extra or (0, 0.0)
    extra = (
        f"; a verdict left undecided ran up to {rounds} more rounds of the variants it "
        f"compares, within {budget:g} s in all (it ran {trials_text(doc)} trials)"
        if rounds
        else f"; it ran {trials_text(doc)} trials"
        if doc.run.extra is None and trials_text(doc) != str(doc.run.trials or 1)
        else ""
    )
    return (
        f"{aa}. A variant is slower than the fastest only where the whole 95% interval of its "
        f"paired trials' ratio lies above {MIN_EFFECT:.2f} (the minimum effect, as pyperf's), tied "
        f"where it lies within that either way, undecided otherwise{extra}."
    )


def describe_params(r: Result) -> str:
    """`tasks=4 rounds=500000 workers=1`: the parameters a result ran with, but its timeout."""
    return " ".join(
        f"{k}={v}" for k, v in r.params.items() if k not in ("timeout", "fault") and v is not None
    )


def answer_text(doc: ResultsFile) -> str:
    """The same table for a terminal."""
    rows = [(a.job, a.use, a.measured) for a in answers(doc)]
    return tabulate(rows, ["job", "use", "measured"], tablefmt="simple", maxcolwidths=[34, 24, 60])
