"""The runs a report is made of: every demo in every variant available here, at one scale.

`plan_suite` lists the runs (and the variants skipped, with why); `run_suite` runs them with a
progress display and returns every result measured, even when interrupted (the results so far
travel on the KeyboardInterrupt as `exc.results`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from time import perf_counter as now  # the lab's one clock (lab.models.base.now)
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Column

from lab.demos import DEMOS
from lab.errors import StudyInterrupted
from lab.http.server import KEEPER
from lab.journal import Journal, Trial
from lab.models import MODELS
from lab.params import check_int, describe
from lab.results import Result, variant_label
from lab.runner import SERIAL, plan, run_trials
from lab.signals import threads_without_sigint
from lab.studies import sweeps
from lab.studies.scales import Scale


@dataclass(frozen=True)
class Variant:
    """A model with the options that make one variant of it."""

    model: str
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The variant's name, as results name it."""
        return variant_label(self.model, self.options)


def variants(model: str, demo: str, lean: bool = False) -> list[Variant]:
    """Every variant of a model worth running for a demo: each choice of each option that applies
    to it, but those an option declares fixed there (the lock kind where nothing locks, a start
    method where start-up is not what the demo shows).

    `lean` (a lean scale's): one option off its default at a time rather than every combination,
    and each only for the tasks that show what it changes (`Option.shown_by`)."""
    work, declared = DEMOS[demo], MODELS[model]
    varied = [
        option
        for option in declared.options_for(work.task, work.uses)
        if not ((option.only_locked and not work.locked) or work.task in option.fixed_for)
    ]
    if not lean:
        found = [Variant(model)]
        for option in varied:
            found = [Variant(model, {**v.options, option.name: c}) for v in found for c in option.choices]
        return found
    base = {option.name: option.choices[0] for option in varied}
    return [Variant(model, base)] + [
        Variant(model, {**base, option.name: value})
        for option in varied
        if option.shown_by is None or work.task in option.shown_by
        for value in option.choices[1:]
    ]


@dataclass(frozen=True)
class Run:
    """One line of the suite: a demo in a variant with one parameter set."""

    demo: str
    variant: Variant
    params: Mapping[str, Any]
    sweep: bool = False  # part of a worker sweep (reported apart), not of the main tables
    # A main-table run that is also a point of a sweep (the same demo, variant and parameters):
    # measured once, its trials kept in both (the table and the chart then show the same trials).
    also_sweep: bool = False
    timeline: bool = False  # one recorded trial, drawn in the Timelines section (reported apart)
    race: int = 0  # race statistics (reported apart): this many trials
    twin: str = ""  # "a" or "b": the A/A pair, a main run measured twice a round (reported apart)

    @property
    def key(self) -> str:
        """The run as one line, which a journal's plan lists (`lab.journal.Header.runs`):
        `pool-map · threads · [('sleep', 0.1), ...] · sweep`."""
        kinds = [name for name, on in (("sweep", self.sweep), ("also sweep", self.also_sweep),
                                        ("timeline", self.timeline)) if on]  # fmt: skip
        kinds += [f"races {self.race}"] * bool(self.race) + [f"twin {self.twin}"] * bool(self.twin)
        return " · ".join([self.demo, self.variant.label, repr(sorted(self.params.items())), *kinds])


def plan_suite(
    scale: Scale, demos: Sequence[str] | None = None, models: Sequence[str] | None = None
) -> tuple[list[Run], list[dict[str, str]]]:
    """The runs of a report (its sweeps last), and the variants skipped here with the reason."""
    demos = [DEMOS.find(d).name for d in demos or DEMOS]
    models = [MODELS.get_model(m).name for m in models or MODELS]
    runs, skipped = main_runs(scale, demos, models)
    runs += sweep_runs(scale, demos, models)
    runs += timeline_runs(scale, demos, models)
    runs += race_runs(scale, demos, models)
    runs += noise_runs(scale, runs)
    for demo in demos:  # a point above a model's limit, once
        at = DEMOS[demo].at(scale.name)
        if at.sweep is not None:
            swept = [m for m in models if at.sweep_models(MODELS[m])]
            skipped += [point for point in sweeps.skipped(swept, at.sweep[1]) if point not in skipped]
    return share_twins(runs), skipped


def share_twins(runs: list[Run]) -> list[Run]:
    """Validate every run (before anything runs), and measure a sweep's point once where a main
    run is the same request: the sweep's run goes and the main run is marked `also_sweep`."""
    planned = [
        plan(
            r.demo,
            r.variant.model,
            **r.variant.options,
            **r.params,
            **({"timeline": True} if r.timeline else {}),
        )
        for r in runs
    ]
    keys = [
        repr(
            (
                p.demo.name,
                p.model and p.model.name,
                sorted(p.options.items()),
                sorted(p.params.items()),
                p.timeline,
            )
        )
        for p in planned
    ]
    main = {
        key: i
        for i, (r, key) in enumerate(zip(runs, keys, strict=True))
        if not (r.sweep or r.timeline or r.race or r.twin)
    }
    twins = {main[key] for r, key in zip(runs, keys, strict=True) if r.sweep and key in main}
    return [
        replace(r, also_sweep=True) if i in twins else r
        for i, (r, key) in enumerate(zip(runs, keys, strict=True))
        if not (r.sweep and key in main)
    ]


def main_runs(scale: Scale, demos: list[str], models: list[str]) -> tuple[list[Run], list[dict[str, str]]]:
    """Every demo in every variant available here, at the scale's parameters."""
    runs, skipped = [], []
    for demo in demos:
        for row, params in enumerate(DEMOS[demo].at(scale.name).rows):
            if DEMOS[demo].task is None:
                runs.append(Run(demo, Variant(SERIAL), params))
                continue
            for variant in (v for model in models for v in variants(model, demo, scale.lean)):
                if row and scale.lean and not (every_row(variant) and MODELS[variant.model].cheap):
                    continue
                reason = MODELS[variant.model].unavailable(variant.options)
                # A costly model (a cluster per run) runs what the demo declares for it here.
                adjusted = {} if MODELS[variant.model].cheap else DEMOS[demo].at(scale.name).costly
                if isinstance(adjusted, str):
                    reason, adjusted = reason or f"{demo}: {adjusted.format(model=variant.model)}", {}
                if reason is None:
                    runs.append(Run(demo, variant, {**params, **adjusted}))
                elif {"variant": variant.label, "reason": reason} not in skipped:
                    skipped.append({"variant": variant.label, "reason": reason})
    return runs, skipped


def noise_runs(scale: Scale, runs: Sequence[Run]) -> list[Run]:
    """The A/A pair: the first demo's noise run at this scale (`AtScale.noise`), in the first
    model planned that it chooses, twice (`twin` "a" and "b"); none when no such run is planned."""
    declared = [(d.name, noise) for d in DEMOS.values() if (noise := d.at(scale.name).noise)]
    if not declared:
        return []
    demo, (params, chooses) = declared[0]
    for r in (r for r in runs if r.demo == demo and r.variant.model in MODELS):
        model = MODELS[r.variant.model]
        planned = not (r.sweep or r.timeline or r.race) and dict(r.params) == dict(params)
        default = all(value == model.option(name).choices[0] for name, value in r.variant.options.items())
        if planned and chooses(model) and default:
            return [replace(r, twin="a"), replace(r, twin="b")]
    return []


def every_row(variant: Variant) -> bool:
    """Whether a lean scale runs the variant on every parameter set: each of its options is at
    its default or declares that what it changes depends on them (`Option.every_row`)."""
    declared = MODELS[variant.model]
    return all(
        value == declared.option(name).choices[0] or declared.option(name).every_row
        for name, value in variant.options.items()
    )


def sweep_runs(scale: Scale, demos: list[str], models: list[str]) -> list[Run]:
    """The scale's worker sweeps: each model with its default options, at each worker count."""
    return [
        Run(demo, Variant(model), DEMOS[demo].sweep_point(params, count), sweep=True)
        for demo, at in ((d, DEMOS[d].at(scale.name)) for d in demos)
        if at.sweep is not None
        for params, counts in [at.sweep]
        for model in models
        if at.sweep_models(MODELS[model])
        and MODELS[model].unavailable(MODELS[model].default_options()) is None
        for count in counts
        if count <= MODELS[model].max_workers  # the others are listed as skipped by `plan_suite`
    ]


def timeline_runs(scale: Scale, demos: list[str], models: list[str]) -> list[Run]:
    """The scale's recorded runs: each of its models once per parameter set, in its default
    variant and in each value of an option whose lesson is how the work overlaps
    (`Option.recorded`: asyncio's offload)."""
    return [
        Run(demo, variant, params, timeline=True)
        for demo, at in ((d, DEMOS[d].at(scale.name)) for d in demos)
        for params in at.timelines
        for model in models
        if at.timeline_models(MODELS[model])
        for variant in recorded_variants(model, demo)
        if MODELS[model].unavailable({**MODELS[model].default_options(), **variant.options}) is None
    ]


def recorded_variants(model: str, demo: str) -> list[Variant]:
    """A model's variants that a report records a timeline of, for a demo."""
    declared = MODELS[model]
    return [Variant(model)] + [
        Variant(model, {option.name: value})
        for option in declared.options_for(DEMOS[demo].task, DEMOS[demo].uses)
        if option.recorded
        for value in option.choices[1:]
    ]


def race_variants(demo: str, models: Sequence[str], all_variants: bool = True) -> list[Variant]:
    """The variants to race: every variant of each model (loops, start methods), or its default."""
    found: list[Variant] = []
    for model in models:
        for variant in variants(model, demo) if all_variants else [Variant(model)]:
            if MODELS[model].unavailable({**MODELS[model].default_options(), **variant.options}) is None:
                found.append(variant)
    return found


def race_runs(scale: Scale, demos: list[str], models: list[str]) -> list[Run]:
    """The race statistics of each demo that declares them at this scale (`AtScale.races`)."""
    runs = []
    for demo in demos:
        spec = DEMOS[demo].at(scale.name).races
        if spec is None:
            continue
        chosen = race_variants(demo, [m for m in models if spec.models(MODELS[m])], spec.all_variants)
        runs += [
            Run(
                demo,
                variant,
                {"workers": spec.workers, "increments": count, "yield_point": point},
                race=spec.trials,
            )
            for variant in chosen
            for point in spec.yield_points
            for count in spec.increments
        ]
    return runs


@dataclass
class SuiteResults:
    """A suite's results: the main tables', the worker sweeps' and the recorded timelines'."""

    results: list[Result] = field(default_factory=list)
    sweeps: list[Result] = field(default_factory=list)
    timelines: list[Result] = field(default_factory=list)
    races: list[Result] = field(default_factory=list)
    noise: list[Result] = field(default_factory=list)  # the A/A pair's trials


# A row to measure again: (demo, variant as results name it, the row's parameters: `Result.shape`).
Contest = tuple[str, str, str]


def run_suite(
    runs: Sequence[Run],
    trials: int,
    quiet: bool = False,
    warmup: bool = False,
    *,
    observe: Callable[[Run, Result, float], None] | None = None,
    undecided: Callable[[SuiteResults], Sequence[Contest]] | None = None,
    extra: tuple[int, float] = (0, 0.0),
    journal: Journal | None = None,
    kept: Mapping[tuple[int, int], Trial] | None = None,
) -> SuiteResults:
    """Run every run `trials` times (after an uncounted warm-up trial if `warmup`), in the order
    of `schedule`, showing progress. `observe(run, result, seconds)`, if given, hears of each
    trial and how long it took whole, start-up and bookkeeping included
    (`benchmarks/report_time.py`).

    `undecided(results)`, if given, names the comparisons the trials so far leave undecided
    (`Contest`s: the fastest and the variants not yet told from it): their runs then run more
    rounds, side by side as before, up to `extra` = (rounds, seconds in all:
    `Scale.extra_rounds`, `.extra_budget_s`), asking again after each round; a round starts
    only while the time spent on extra rounds so far and the round's own (its runs' last
    trials) fit the budget.

    Each trial measured is appended to `journal`; a trial in `kept` (by the run's index in
    `runs` and its number: a journal read back, `lab report --resume`) is not measured again,
    its journaled result taking its place, so that the results come out as one uninterrupted
    run would give them."""
    trials = check_int("trials", trials, 1)
    measured = SuiteResults()
    order = schedule(runs, trials)
    book = Book({id(r): i for i, r in enumerate(runs)}, journal, kept or {})
    with progress_display(len(order), quiet) as advance, KEEPER.keep():  # http-get runs share one server
        try:
            took = perform(order, measured, advance, warmup, observe, book=book)
            spent, added = 0.0, 0
            while undecided is not None and added < extra[0]:
                wanted = set(undecided(measured))
                again = [run for run, trial, _ in order
                         if trial == 1 and not (run.timeline or run.race or run.twin) and id(run) in took
                         and (run.demo, *took[id(run)][:2]) in wanted]  # fmt: skip
                if not again or spent + sum(took[id(run)][2] for run in again) > extra[1]:
                    break
                added += 1
                extra_round = perform([(run, trials + added, trials + added) for run in again],
                                      measured, advance, False, observe, book=book)  # fmt: skip
                took.update(extra_round)
                spent += sum(seconds for _, _, seconds in extra_round.values())
        except KeyboardInterrupt as exc:
            raise StudyInterrupted(measured, exc) from None
    return measured


@dataclass(frozen=True)
class Book:
    """Where a suite's trials are journaled and which are already (`run_suite`'s `journal`
    and `kept`), with each run's index in the plan."""

    index: Mapping[int, int]  # id(run) -> its index in the suite's runs
    journal: Journal | None
    kept: Mapping[tuple[int, int], Trial]


# A run's flag, the collection of `SuiteResults` its results go to, and how its progress line
# says so: the first flag set decides; a run with none is one of the tables' `results`.
KINDS = (
    ("twin", "noise", " · A/A"),
    ("timeline", "timelines", " · timeline"),
    ("sweep", "sweeps", " · sweep"),
    ("race", "races", " · races"),
)


def perform(
    order: Sequence[tuple[Run, int, int]],
    measured: SuiteResults,
    advance: Callable[[str], None],
    warmup: bool,
    observe: Callable[[Run, Result, float], None] | None,
    *,
    book: Book,
) -> dict[int, tuple[str, str, float]]:
    """Run `order`'s trials into `measured` (those `book` keeps taken from it, each new one
    journaled); for each run (by `id`), the variant and shape its results name
    (`Result.shape`) and how long its last trial took whole (seconds)."""
    took: dict[int, tuple[str, str, float]] = {}
    for run, trial, times in order:
        name, kind = next(((into, said) for flag, into, said in KINDS if getattr(run, flag)), ("results", ""))
        into: list[Result] = getattr(measured, name)
        advance(f"{run.demo} · {run.variant.label} · {describe(run.params)} · trial {trial}/{times}{kind}")
        if (done := book.kept.get((book.index[id(run)], trial))) is not None:
            took[id(run)] = (done.result.variant, done.result.shape, done.seconds)
            into.append(done.result)
        else:
            options = {**run.variant.options, **run.params, **({"timeline": True} if run.timeline else {})}
            began = now()
            [result] = run_trials(run.demo, run.variant.model, 1, warmup=warmup and trial == 1, **options)
            seconds = now() - began
            took[id(run)] = (result.variant, result.shape, seconds)
            if observe is not None:
                observe(run, result, seconds)
            into.append(with_trial(result, trial, warmup, run.twin))
            if book.journal is not None:
                book.journal.trial(Trial(book.index[id(run)], trial, seconds, into[-1], name, run.also_sweep))
        if run.also_sweep:
            measured.sweeps.append(into[-1])
    return took


def schedule(runs: Sequence[Run], trials: int) -> list[tuple[Run, int, int]]:
    """(run, trial, of how many) in the order they run. A demo's table and sweep runs go in rounds,
    trial 1 of each, then trial 2 of each: a machine whose speed drifts (this project's varies by
    half within minutes) then slows every variant's trials alike, instead of whichever ran last,
    and a ratio between rows (a speedup) compares trials taken side by side. A recorded run (one
    trial) and a race statistic (its own trials, back to back) follow."""
    repeated = [r for r in runs if not (r.timeline or r.race)]
    order = [
        (run, trial, trials)
        for demo in dict.fromkeys(r.demo for r in repeated)
        for trial in range(1, trials + 1)
        for run in repeated
        if run.demo == demo
    ]
    for run in (r for r in runs if r.timeline or r.race):
        times = 1 if run.timeline else run.race
        order += [(run, trial, times) for trial in range(1, times + 1)]
    return order


def with_trial(result: Result, trial: int, warmup: bool, twin: str = "") -> Result:
    """The same result, numbered as trial `trial` (and saying whether its row was warmed up, and
    which of the A/A pair it is)."""
    data = result.to_dict()
    data["trial"] = trial
    data["timing"] = {**data["timing"], "warmup": warmup, **({"twin": twin} if twin else {})}
    return Result.from_dict(data)


@contextmanager
def progress_display(total: int, quiet: bool) -> Iterator[Callable[[str], None]]:
    """A rich progress bar on stderr (silent when stderr is not a terminal, or `quiet`)."""
    console = Console(stderr=True)
    description = TextColumn(
        "{task.description}", table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis")
    )

    def fixed() -> Column:
        return Column(no_wrap=True, min_width=7)

    # Bar and times first: on a narrow terminal it is the description that gets cut, not the times.
    columns = (BarColumn(bar_width=20), TextColumn("{task.completed}/{task.total}", table_column=fixed()),
               TimeElapsedColumn(table_column=fixed()), TextColumn("left"),
               TimeRemainingColumn(table_column=fixed()), description)  # fmt: skip
    bar = Progress(*columns, console=console, disable=quiet or not sys.stderr.isatty(), transient=True)
    with threads_without_sigint():
        bar.start()  # its refresh thread must never be the one a Ctrl-C is delivered to
    try:
        task = bar.add_task("starting", total=total)
        started = False

        def advance(description: str) -> None:
            nonlocal started
            bar.update(task, description=description, advance=1 if started else 0)
            started = True

        yield advance
        bar.update(task, advance=1)
    finally:
        bar.stop()
