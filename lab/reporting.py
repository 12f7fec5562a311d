"""Every study as one library call, each returning a `ResultsFile`: `report(...)` measures
everything, `run_models(...)` one demo in each model, `sweep(...)` one demo at several worker
counts, `races(...)` the racy counter's statistics. `publish(doc, out)` writes any of them:
charts, then JSON, then markdown rendered from that JSON (the view its kind has), each file
atomically. The command line (`lab report`, `lab run`, `lab sweep`, `lab races`) only parses
and prints. Ctrl-C or SIGTERM stops any of them with `StudyInterrupted`, whose `partial` is
the `ResultsFile` of what was measured, marked partial, ready for `publish`.

    >>> doc = lab.report("quick", demos=["pool-map"], models=["threads"])
    >>> published = lab.publish(doc, Path("reports"))

Runs produce records, the results file holds them, and every view renders from it: `--from`
re-publishes a results file exactly as the run published it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lab import pictures
from lab.demos import DEMOS, describe, having
from lab.errors import (
    BadResultsFile,
    InvalidParameter,
    LabError,
    StudyInterrupted,
    Unavailable,
    UnknownName,
    in_one_line,
    signal_of,
)
from lab.http.server import KEEPER
from lab.journal import CHILDREN, SUFFIX, Journal, Journaled, find, lab_version
from lab.journal import load as load_any
from lab.journal import read as read_journal
from lab.measure.environment import collect
from lab.models import BROKEN, MODELS
from lab.models.base import YIELD_POINTS
from lab.params import check_int
from lab.render import render
from lab.render.answer import answers
from lab.results import Result, ResultsFile, RunInfo, prepare_folder, undrawable, write_atomically
from lab.runner import SERIAL, choose, plan, run_trials
from lab.studies import across, ceiling, lock_costs, pythons, sweeps, timelines
from lab.studies import races as race_study
from lab.studies.scales import SCALES, Scale
from lab.studies.suite import Contest, Run, SuiteResults, plan_suite, race_variants, run_suite


@dataclass(frozen=True)
class Published:
    """What `publish` wrote: the markdown, the JSON and the pictures, and the file as written."""

    markdown: Path
    json: Path
    pictures: tuple[Path, ...]
    doc: ResultsFile

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file written."""
        return (self.markdown, self.json, *self.pictures)


def report(
    scale: str = "quick",
    *,
    trials: int | None = None,
    demos: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    python: Sequence[str] = (),
    warmup: bool = False,
    quiet: bool = True,
    argv: Sequence[str] | None = None,
    observe: Callable[[Run, Result, float], None] | None = None,
    journal: Path | None = None,
) -> ResultsFile:
    """Run every demo in every variant of `models` (default: all installed) at `scale`, with the
    scale's sweeps, timelines and race statistics, each lock's cost and the HTTP server's ceiling.

    With `python` (paths, `python3.12` or `3.13`), the same report runs in each of those
    interpreters and the results merge into one file, the interpreter as a dimension. Everything
    is checked before anything runs (LabError). Ctrl-C raises `StudyInterrupted` carrying the
    results measured so far, marked partial. `observe` hears of each trial (`run_suite`).

    With `journal` (a folder: the report's own), every result is appended to
    `<stem>.journal.jsonl` there as it is measured (`lab.journal`), and the file returned is
    read back from it; `resume` continues a report from its journal. `publish` removes the
    journal once it has written the whole report."""
    chosen = SCALES[choose("scale", scale, SCALES)]
    trials = chosen.trials if trials is None else check_int("trials", trials, 1)
    runs, skipped = plan_suite(chosen, demos, models)
    environment = collect(list(argv) if argv is not None else None)
    asked = {"scale": chosen.name, "trials": trials, "demos": list(demos) if demos else None,
             "models": list(models) if models else None, "python": list(python),
             "warmup": warmup}  # fmt: skip
    if python:
        return across_pythons(python, chosen.name, trials=trials, demos=demos, models=models, warmup=warmup,
                              environment=environment, journal=journal, asked=asked)  # fmt: skip
    run = RunInfo(scale=chosen.name, trials=trials, warmup=warmup, skipped=tuple(skipped),
                  stem=f"lab-report-{chosen.name}-{stamp(environment)}",
                  extra=extra_rounds(chosen))  # fmt: skip
    book = None
    if journal is not None:
        book = Journal.start(journal, str(run.stem), plan=asked, runs=[r.key for r in runs],
                             environment=environment, run=run)  # fmt: skip
    return measured(runs, run, environment, quiet=quiet, observe=observe, book=book)


def resume(
    place: str | Path,
    *,
    quiet: bool = True,
    observe: Callable[[Run, Result, float], None] | None = None,
    say: Callable[[str], None] = across.print_err,
) -> ResultsFile:
    """`lab report --resume`: the report journaled at `place` (a journal, or the folder holding
    the newest one) continued: the same plan, scale and options, every trial the journal holds
    kept, only the missing ones measured (journaled as before), and the whole file returned.

    A torn last line (a kill mid-write) is dropped and said; a journal of another version of
    the lab, or whose plan this lab no longer makes (a demo or model gone or changed), raises
    InvalidParameter naming what differs; a damaged one BadResultsFile."""
    got = read_journal(find(place))
    if got.torn:
        say(f"lab: {got.path}: its last line was cut short (the lab died writing it): dropped")
    if got.header.lab != lab_version():
        raise InvalidParameter(
            f"{str(got.path)!r} was written by lab {got.header.lab!r}, this is lab {lab_version()!r}: "
            "results of two versions are not mixed (publish the journal with lab report --from)"
        )
    asked = got.header.plan
    try:
        chosen = SCALES[choose("scale", str(asked["scale"]), SCALES)]
        found = [pythons.find(spec) for spec in asked["python"]]
        runs, _ = plan_suite(chosen, asked["demos"], asked["models"])
        trials, warmup = check_int("trials", asked["trials"], 1), bool(asked["warmup"])
    except (LabError, KeyError, TypeError, ValueError) as exc:
        raise InvalidParameter(
            f"{str(got.path)!r} was written for a report this lab cannot plan: {in_one_line(exc)}"
        ) from None
    if found:  # each interpreter's report checks its own plan
        return across_pythons(asked["python"], chosen.name, trials=trials, demos=asked["demos"],
                              models=asked["models"], warmup=warmup, environment=got.header.environment,
                              journal=got.path.parent, asked=asked, resumed=got)  # fmt: skip
    got.check([r.key for r in runs])
    with damage_said(got.path):  # a journal the schema admits but a view cannot draw: before any run
        render(got.doc())
    return measured(runs, got.header.run, got.header.environment, quiet=quiet, observe=observe,
                    book=Journal.resume(got), resumed=got)  # fmt: skip


def extra_rounds(scale: Scale) -> tuple[int, float]:
    """The extra rounds a report at `scale` may run for an undecided verdict, as its record keeps
    them (`RunInfo.extra`): (at most, seconds in all)."""
    return scale.extra_rounds, scale.extra_budget_s


def measured(
    runs: Sequence[Run],
    run: RunInfo,
    environment: Mapping[str, Any],
    *,
    quiet: bool,
    observe: Callable[[Run, Result, float], None] | None,
    book: Journal | None,
    resumed: Journaled | None = None,
) -> ResultsFile:
    """A report's runs measured (those `resumed` holds kept), then each lock's cost and the
    server's ceiling; the results file, read back from the journal `book` when there is one."""
    chosen = SCALES[str(run.scale)]
    environment = dict(environment)
    with KEEPER.keep():  # the runs and the server's ceiling measure one server, started once
        try:
            got = run_suite(runs, int(run.trials or chosen.trials), quiet, run.warmup, observe=observe,
                            undecided=undecided_in(environment, run),
                            # As recorded (a resumed run keeps its own); a journal older than the
                            # record, as its scale has them now.
                            extra=run.extra if run.extra is not None else extra_rounds(chosen),
                            journal=book, kept=resumed.kept() if resumed else None)  # fmt: skip
            if resumed is not None and resumed.finished:
                costs, ceiling_found = resumed.lock_costs or {}, resumed.server_ceiling
            else:
                ran = [MODELS[m] for m in dict.fromkeys(r.variant.model for r in runs) if m in MODELS]
                costs = lock_costs.measure(ran)
                ceiling_found = ceiling.measure() if any(DEMOS[r.demo].ceiling for r in runs) else None
                if book is not None:
                    book.measured("server_ceiling", ceiling_found)
                    book.measured("lock_costs", costs)  # the last line: the journal is finished
        except StudyInterrupted as stop:
            raise interrupted(stop.partial, environment, run, stop.cause) from None
        except KeyboardInterrupt as exc:  # while the lock costs or the ceiling were measured
            raise interrupted(got, environment, run, exc) from None
        finally:
            if book is not None:
                book.close()
    if book is not None:
        return read_journal(book.path).doc()  # what the journal holds is the report
    run = replace(run, lock_costs=costs, server_ceiling=ceiling_found)
    return ResultsFile(tuple(got.results), environment, run, tuple(got.sweeps), tuple(got.timelines),
                       tuple(got.races), tuple(got.noise))  # fmt: skip


def interrupted(
    got: SuiteResults, environment: dict[str, Any], run: RunInfo, cause: KeyboardInterrupt
) -> StudyInterrupted[ResultsFile]:
    """A report stopped by Ctrl-C or SIGTERM: the results file of what it measured, partial."""
    doc = ResultsFile(tuple(got.results), environment, stopped(run, cause), tuple(got.sweeps),
                      tuple(got.timelines), tuple(got.races), tuple(got.noise))  # fmt: skip
    return StudyInterrupted(doc, cause)


def undecided_in(environment: dict[str, object], run: RunInfo) -> Callable[[SuiteResults], list[Contest]]:
    """The comparisons the answer rows leave undecided so far (`Answer.contested`)."""

    def contests(measured: SuiteResults) -> list[Contest]:
        doc = ResultsFile(tuple(measured.results), environment, run, tuple(measured.sweeps),
                          noise=tuple(measured.noise))  # fmt: skip
        return [(a.demo, variant, shape) for a in answers(doc) for variant, shape in a.contested]

    return contests


def across_pythons(
    python: Sequence[str],
    scale: str,
    *,
    trials: int,
    demos: Sequence[str] | None,
    models: Sequence[str] | None,
    warmup: bool,
    environment: Mapping[str, Any],
    journal: Path | None = None,
    asked: Mapping[str, Any] | None = None,
    resumed: Journaled | None = None,
) -> ResultsFile:
    """The report run by each interpreter, merged (`report(python=...)`). With `journal`, each
    interpreter's report journals into `<stem>.pythons/<label>/` beside the report's own journal,
    and `resumed` (that journal read back) resumes each of them, or keeps it if it finished."""
    found = [pythons.find(spec) for spec in python]  # every one found before any runs
    passed = ["--scale", scale, "--trials", str(trials), *(["--demos", *demos] if demos else []),
              *(["--models", *models] if models else []), *(["--warmup"] if warmup else [])]  # fmt: skip
    environment = dict(environment)
    if resumed is not None:
        run = resumed.header.run
        Journal.resume(resumed).close()  # a torn line cut off; the children hold the results
    else:
        stem = f"lab-report-{scale}-pythons-{stamp(environment)}"
        run = RunInfo(scale=scale, trials=trials, warmup=warmup, stem=stem, extra=extra_rounds(SCALES[scale]))
        if journal is not None:  # its header only: each interpreter's report journals its results
            Journal.start(journal, stem, plan=asked or {}, runs=[], environment=environment, run=run).close()
    children = journal / f"{run.stem}{CHILDREN}" if journal is not None else None
    try:
        done = across.run_each(found, passed, say=across.print_err, keep=children)
    except StudyInterrupted as stop:
        partial = stopped(run, stop.cause)
        raise StudyInterrupted(across.merge(stop.partial, environment, partial), stop.cause) from None
    return across.merge(done, environment, run)


def run_models(
    demo: str,
    models: Sequence[str] | None = None,
    *,
    trials: int = 1,
    warmup: bool = False,
    argv: Sequence[str] | None = None,
    **params: Any,
) -> ResultsFile:
    """`demo` in each of `models`, `trials` times each (after an uncounted warm-up trial if
    `warmup`), as a results file of kind "run"; `params` are the demo's parameters, `timeout`,
    `fault`, `timeline` and model options.

    `models` None (or `["all"]`) means every model that can take the request here: each gets
    only the model options it declares, and a model that cannot run it (not installed, fewer
    workers than asked, no worker process for fault 'exit' to kill) is left out, in
    `run.skipped` with why. A demo that runs in no model runs once, serially. Everything is
    checked before anything runs (LabError); Ctrl-C raises `StudyInterrupted`."""
    found = DEMOS.find(demo)
    trials = check_int("trials", trials, 1)
    every = models is None or list(models) == ["all"]
    skipped: list[dict[str, Any]] = []
    if found.task is None:
        names = [SERIAL]
    elif every:
        names = [name for name in MODELS if not left_out(name, params, skipped)]
        names = names or list(MODELS)  # none can: the first one's request below says why
    else:
        names = list(dict.fromkeys(model_named(name) for name in models or ()))
    owners = MODELS.owners()
    requests = {name: {k: v for k, v in params.items() if not every or k not in owners or name in owners[k]}
                for name in names}  # fmt: skip
    for name, request in requests.items():
        plan(demo, name, **request)  # every model's request is checked before any runs
    environment = collect(list(argv) if argv is not None else None)
    run = RunInfo(kind="run", trials=trials, warmup=warmup, skipped=tuple(skipped),
                  stem=f"lab-run-{demo}-{stamp(environment)}")  # fmt: skip

    def measure(into: list[Result]) -> None:
        for name, request in requests.items():
            into += run_trials(demo, name, trials, warmup=warmup, **request)

    return gathered(measure, lambda got, info: ResultsFile(got, environment, info), run)


def racy_counter() -> str:
    """The demo `races` runs: the first in the role "racy counter" (`Demo.roles`)."""
    found = having("racy counter")
    if not found:
        raise Unavailable('no demo has the role "racy counter": there is no counter to race')
    return found[0]


def model_named(name: str) -> str:
    """A model asked for by name: UnknownName (listing `all` too) or, for a broken plug-in,
    Unavailable with its one line."""
    if name not in MODELS and name not in BROKEN:
        raise UnknownName("model", name, [*MODELS, "all"])
    return MODELS.get_model(name).name


def left_out(name: str, params: dict[str, Any], skipped: list[dict[str, Any]]) -> bool:
    """Whether a request for every model leaves this one out (then `skipped` says why)."""
    model = MODELS[name]
    workers = params.get("workers")
    if reason := model.unavailable(model.default_options()):
        pass
    elif params.get("fault") == "exit" and not model.children:
        reason = f"fault 'exit' kills a worker process, and {name} has none"
    elif isinstance(workers, int) and workers > model.max_workers:
        reason = f"{name} runs at most {model.max_workers} workers"
    if reason:
        skipped.append({"variant": name, "reason": reason})
    return reason is not None


def sweep(
    demo: str,
    workers: Sequence[int] = (1, 2, 4, 8),
    models: Sequence[str] | None = None,
    *,
    trials: int = 3,
    argv: Sequence[str] | None = None,
    **params: Any,
) -> ResultsFile:
    """`demo` in each of `models` (default: every model that runs here) at each worker count,
    `trials` times a point, as a results file of kind "sweep"; `params` are the demo's
    parameters that sweep (`Param.sweeps`). A count above a model's limit is skipped, in
    `run.skipped`. Everything is checked before anything runs; Ctrl-C raises `StudyInterrupted`."""
    if DEMOS.find(demo).task is None:
        raise InvalidParameter(f"demo {demo!r} runs in no model: there are no workers to sweep")
    counts = [check_int("workers", w, 1) for w in workers]
    if not counts:
        raise InvalidParameter("workers: give at least one worker count")
    names = [MODELS.get_model(m).name for m in models or MODELS.runnable()]
    trials = check_int("trials", trials, 1)
    for name in names:  # everything is checked before anything runs, up to each model's limit
        plan(demo, name, **sweeps.point(demo, params, min(max(counts), MODELS[name].max_workers)))
    environment = collect(list(argv) if argv is not None else None)
    run = RunInfo(kind="sweep", trials=trials, stem=f"lab-sweep-{demo}-{stamp(environment)}",
                  skipped=tuple(sweeps.skipped(names, counts)))  # fmt: skip
    return gathered(
        lambda into: sweeps.sweep(demo, models=names, workers=counts, trials=trials, params=params,
                                  run=run_trials, into=into),
        lambda got, info: ResultsFile((), environment, info, sweeps=got),
        run,
    )  # fmt: skip


def races(
    increments: Sequence[int] = (1, 10, 100, 1000),
    models: Sequence[str] | None = None,
    *,
    trials: int = 30,
    workers: int = 5,
    yield_points: Sequence[str] = ("sleep0",),
    every_variant: bool = True,
    argv: Sequence[str] | None = None,
) -> ResultsFile:
    """The racy counter, `trials` times for each variant of `models` (default: every model; with
    `every_variant` False, each model's default variant), size and yield point, as a results
    file of kind "races" (`lab.studies.races` computes its rows). Everything is checked before
    anything runs; Ctrl-C raises `StudyInterrupted`."""
    sizes = [check_int("increments", n, 1) for n in increments]
    points = [choose("yield point", p.strip(), YIELD_POINTS) for p in yield_points]
    trials, workers = check_int("trials", trials, 1), check_int("workers", workers, 1)
    names = [MODELS.get_model(m).name for m in models or MODELS]
    demo = racy_counter()
    chosen = race_variants(demo, names, every_variant)
    if not chosen:
        raise InvalidParameter(f"none of the models {', '.join(names)} can run here")
    for variant in chosen:  # every request is checked before anything runs
        plan(demo, variant.model, workers=workers, increments=max(sizes), **variant.options)
    environment = collect(list(argv) if argv is not None else None)
    run = RunInfo(kind="races", trials=trials, stem=f"lab-races-{stamp(environment)}")
    return gathered(
        lambda into: race_study.race(demo, chosen, increments=sizes, trials=trials, yield_points=points,
                                     workers=workers, run=run_trials, into=into),
        lambda got, info: ResultsFile((), environment, info, races=got),
        run,
    )  # fmt: skip


def publish(doc: ResultsFile, out: Path) -> Published:
    """Write `doc` into `out`: its charts (sweeps, timelines, race statistics, heartbeats, each
    beside the report), then `<stem>.json`, then `<stem>.md` rendered from that JSON (by the view
    for its kind: `lab.render.RENDERERS`), each atomically."""
    prepare_folder(out)
    stem = doc.run.stem or "lab-report"
    charts, timeline_charts, race_charts, heartbeat_charts = pictures.per_demo(
        out,
        [
            (f"{stem}-sweep", doc.sweeps, sweeps.chart, sweep_title),
            (f"{stem}-timeline", doc.timelines, timelines.chart, timelines.title),
            (f"{stem}-races", doc.races, race_study.chart, race_title),
            (f"{stem}-heartbeat", timelines.beating(doc.timelines), timelines.heartbeat_chart,
             timelines.heartbeat_title),
        ],
    )  # fmt: skip
    run = replace(doc.run, charts=charts, timeline_charts=timeline_charts, race_charts=race_charts,
                  heartbeat_charts=heartbeat_charts)  # fmt: skip
    doc = replace(doc, run=run)
    js, md = out / f"{stem}.json", out / f"{stem}.md"
    text = doc.to_json()
    write_atomically(js, text)
    write_atomically(md, render(ResultsFile.from_json(text)))  # exactly as `--from` renders it
    if not doc.run.partial:  # the whole report is written: its journal (and its children's) go
        (out / f"{stem}{SUFFIX}").unlink(missing_ok=True)
        shutil.rmtree(out / f"{stem}{CHILDREN}", ignore_errors=True)
    drawn = [*run.charts.values(), *run.timeline_charts.values(), *run.race_charts.values(),
             *run.heartbeat_charts.values()]  # fmt: skip
    return Published(md, js, tuple(out / c["file"] for c in drawn if "file" in c), doc)


def republish(source: str | Path, out: Path) -> Published:
    """`lab report --from`: the results file (or journal) at `source`, published again into `out`. It is
    rendered once before anything is written, so that a file the schema admits but a view
    cannot draw writes nothing and raises `BadResultsFile` in one line (`undrawable`)."""
    doc = load_any(source)
    with damage_said(source):
        render(doc)
        return publish(doc, out)


@contextmanager
def damage_said(source: str | Path) -> Iterator[None]:
    """Any failure of a view on the file at `source` as BadResultsFile in one line (`undrawable`)."""
    try:
        yield
    except (BadResultsFile, OSError):
        raise
    except Exception as exc:
        raise undrawable(repr(str(source)), exc) from None


def sweep_title(group: Sequence[Result]) -> str:
    """What a sweep ran: `pool-map: 8 tasks x sleep(0.05), time.perf_counter medians`."""
    first = group[0]
    work = describe(first.demo, first.params)
    return f"{first.demo}: {work}, {first.timing.get('clock', '')} medians"


def race_title(group: Sequence[Result]) -> str:
    """The race statistics' chart title."""
    return f"{group[0].demo}: P(a trial loses an update), 95% intervals"


def gathered(
    measure: Callable[[list[Result]], object],
    file: Callable[[tuple[Result, ...], RunInfo], ResultsFile],
    run: RunInfo,
) -> ResultsFile:
    """A study's results file: `measure` puts its results into a list as they come, and `file`
    makes the file of them; on Ctrl-C or SIGTERM, `StudyInterrupted` carries the file of those
    measured so far, marked partial."""
    results: list[Result] = []
    try:
        measure(results)
    except KeyboardInterrupt as exc:
        raise StudyInterrupted(file(tuple(results), stopped(run, exc)), exc) from None
    return file(tuple(results), run)


def stopped(run: RunInfo, cause: KeyboardInterrupt) -> RunInfo:
    """A run's facts once Ctrl-C or SIGTERM stopped it: partial, and by which signal."""
    return replace(run, partial=True, interrupted=f"by {signal_of(cause).signal_name}")


def stamp(environment: dict[str, object]) -> str:
    """A run's date and time in its file names (`2026-11-25-153012`, UTC), so that a new run never
    overwrites an earlier one, such as a report committed the same day."""
    date = str(environment["date"])  # "2026-11-25 15:30:12 UTC"
    return date[:10] + "-" + date[11:19].replace(":", "")
