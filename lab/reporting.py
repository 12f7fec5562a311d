"""The report as one library call: `report(...)` measures everything and returns a `ResultsFile`;
`publish(doc, out)` writes it: charts, then JSON, then markdown rendered from that JSON, each file
atomically. The command line (`lab report`, `lab sweep`, `lab races`) only parses and prints.

    >>> doc = lab.report("quick", demos=["pool-map"], models=["threads"])
    >>> published = lab.publish(doc, Path("reports"))

Runs produce records, the results file holds them, and every view renders from it: `--from`
re-publishes a results file exactly as the run published it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from lab import pictures
from lab.demos import DEMOS
from lab.http.server import KEEPER
from lab.measure.environment import collect
from lab.models import MODELS
from lab.params import check_int
from lab.render import render
from lab.render.answer import answers
from lab.results import Result, ResultsFile, RunInfo, prepare_folder, write_atomically
from lab.runner import choose
from lab.studies import across, ceiling, lock_costs, pythons, races, sweeps, timelines
from lab.studies.scales import SCALES
from lab.studies.suite import Contest, Run, SuiteInterrupted, SuiteResults, plan_suite, run_suite


class ReportInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during `report`: `doc` holds what was measured, marked partial."""

    def __init__(self, doc: ResultsFile, cause: KeyboardInterrupt) -> None:
        super().__init__()
        self.doc, self.cause = doc, cause


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
) -> ResultsFile:
    """Run every demo in every variant of `models` (default: all installed) at `scale`, with the
    scale's sweeps, timelines and race statistics, each lock's cost and the HTTP server's ceiling.

    With `python` (paths, `python3.12` or `3.13`), the same report runs in each of those
    interpreters and the results merge into one file, the interpreter as a dimension. Everything
    is checked before anything runs (LabError). Ctrl-C raises `ReportInterrupted` carrying the
    results measured so far, marked partial. `observe` hears of each trial (`run_suite`)."""
    chosen = SCALES[choose("scale", scale, SCALES)]
    trials = chosen.trials if trials is None else check_int("trials", trials, 1)
    runs, skipped = plan_suite(chosen, demos, models)
    environment = collect(list(argv) if argv is not None else None)
    if python:
        return across_pythons(python, chosen.name, trials=trials, demos=demos, models=models, warmup=warmup,
                              environment=environment)  # fmt: skip
    run = RunInfo(scale=chosen.name, trials=trials, warmup=warmup, skipped=tuple(skipped),
                  stem=f"lab-report-{chosen.name}-{stamp(environment)}")  # fmt: skip
    with KEEPER.keep():  # the runs and the server's ceiling measure one server, started once
        try:
            measured = run_suite(runs, trials, quiet, warmup, observe=observe,
                                 undecided=undecided_in(environment, run),
                                 extra=(chosen.extra_rounds, chosen.extra_budget_s))  # fmt: skip
        except SuiteInterrupted as stop:
            got = stop.measured
            partial = replace(run, partial=True, interrupted=f"by {signal_name(stop.cause)}")
            doc = ResultsFile(tuple(got.results), environment, partial, tuple(got.sweeps),
                              tuple(got.timelines), tuple(got.races), tuple(got.noise))  # fmt: skip
            raise ReportInterrupted(doc, stop.cause) from None
        ran = [MODELS[name] for name in dict.fromkeys(r.variant.model for r in runs) if name in MODELS]
        run = replace(run, lock_costs=lock_costs.measure(ran))
        if any(DEMOS[r.demo].ceiling for r in runs):
            run = replace(run, server_ceiling=ceiling.measure())
    return ResultsFile(tuple(measured.results), environment, run, tuple(measured.sweeps),
                       tuple(measured.timelines), tuple(measured.races), tuple(measured.noise))  # fmt: skip


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
    environment: dict[str, object],
) -> ResultsFile:
    """The report run by each interpreter, merged (`report(python=...)`)."""
    found = [pythons.find(spec) for spec in python]  # every one found before any runs
    passed = ["--scale", scale, "--trials", str(trials), *(["--demos", *demos] if demos else []),
              *(["--models", *models] if models else []), *(["--warmup"] if warmup else [])]  # fmt: skip
    stem = f"lab-report-{scale}-pythons-{stamp(environment)}"
    run = RunInfo(scale=scale, trials=trials, warmup=warmup, stem=stem)
    try:
        done = across.run_each(found, passed, say=across.print_err)
    except across.AcrossInterrupted as stop:
        partial = replace(run, partial=True, interrupted=f"by {signal_name(stop.cause)}")
        raise ReportInterrupted(across.merge(stop.done, environment, partial), stop.cause) from None
    return across.merge(done, environment, run)


def publish(doc: ResultsFile, out: Path, render_with: Callable[[ResultsFile], str] = render) -> Published:
    """Write `doc` into `out`: its charts (sweeps, timelines, race statistics, heartbeats, each
    beside the report), then `<stem>.json`, then `<stem>.md` rendered from that JSON, each atomically."""
    prepare_folder(out)
    stem = doc.run.stem or "lab-report"
    charts, timeline_charts, race_charts, heartbeat_charts = pictures.per_demo(
        out,
        [
            (f"{stem}-sweep", doc.sweeps, sweeps.chart, sweep_title),
            (f"{stem}-timeline", doc.timelines, timelines.chart, timelines.title),
            (f"{stem}-races", doc.races, races.chart, race_title),
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
    write_atomically(md, render_with(ResultsFile.from_json(text)))  # exactly as `--from` renders it
    drawn = [*run.charts.values(), *run.timeline_charts.values(), *run.race_charts.values(),
             *run.heartbeat_charts.values()]  # fmt: skip
    return Published(md, js, tuple(out / c["file"] for c in drawn if "file" in c), doc)


def sweep_title(group: Sequence[Result]) -> str:
    """What a sweep ran: `pool-map: 8 tasks x sleep(0.05), time.perf_counter medians`."""
    first = group[0]
    return f"{first.demo}: {sweeps.describe_work(first.params)}, {first.timing.get('clock', '')} medians"


def race_title(group: Sequence[Result]) -> str:
    """The race statistics' chart title."""
    return "racy-counter: P(a trial loses an update), 95% intervals"


def stamp(environment: dict[str, object]) -> str:
    """A run's date and time in its file names (`2026-11-25-153012`, UTC), so that a new run never
    overwrites an earlier one, such as a report committed the same day."""
    date = str(environment["date"])  # "2026-11-25 15:30:12 UTC"
    return date[:10] + "-" + date[11:19].replace(":", "")


def signal_name(cause: KeyboardInterrupt) -> str:
    """`Ctrl-C`, or the name the command line's signal handler gave (`SIGTERM`)."""
    return str(getattr(cause, "signal_name", "Ctrl-C"))
