"""The markdown report, rendered from a `ResultsFile` alone (so `--from` re-renders it exactly).

One module per section, each a function from records to markdown; this module orders them:
the answer (which model for which job, and the numbers behind it), execution time, counter
correctness, race statistics, network I/O, the article's (and Real Python's) figures beside
ours, what the numbers show, variants side by side, worker sweeps, timelines, the environment.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lab.demos import DEMOS
from lab.render.answer import answer_section, noise_text
from lab.render.article import article_table, real_python_table
from lab.render.common import TIMED, table
from lab.render.counters import counter_table
from lab.render.deadline import stops_section
from lab.render.environment import environment_table
from lab.render.findings import findings
from lab.render.mixed import mixed_section
from lab.render.network import network_table
from lab.render.pipeline import messages_section
from lab.render.pythons import interpreter_findings, interpreters_in, interpreters_section
from lab.render.races import races_section
from lab.render.sweeps import sweep_section
from lab.render.timelines import timelines_section
from lab.render.timing import time_table
from lab.render.transfer import sizes_section
from lab.render.variants import variants_section
from lab.results import ResultsFile


def render_sweep(doc: ResultsFile) -> str:
    """The markdown of `lab sweep`: what ran, the table, the chart, where."""
    env, run = dict(doc.environment), doc.run
    demo = doc.sweeps[0].demo if doc.sweeps else "?"
    parts = [
        f"# lab sweep: {demo}",
        f"Made by `{env.get('command')}` on {env.get('date')}, {run.trials} trials per point. {TIMED}",
        *([partial_note(doc).strip()] if run.partial else []),
        sweep_section(doc.sweeps, dict(run.charts)),
        "## Environment\n\n" + environment_table(env, list(run.skipped)),
    ]
    return "\n\n".join(parts) + "\n"


def what_they_show(doc: ResultsFile) -> list[str]:
    """The findings, from the main results, the race statistics and the run's own measurements."""
    run = doc.run
    return [
        *findings(
            list(doc.results),
            dict(doc.environment),
            run.server_ceiling,
            run.lock_costs or None,
            doc.races,
        ),
        *interpreter_findings(doc),
    ]


# A section's body, from the results file (and for a demo's own section, the demo's name).
Body = Callable[[ResultsFile], str]
OWN: dict[str, Callable[[ResultsFile, str], str]] = {  # the bodies of `Section.kind`
    "network": lambda doc, demo: network_table(doc.results, doc.run.server_ceiling, demo),
    "heartbeat": lambda doc, demo: mixed_section(doc.results, dict(doc.run.heartbeat_charts), demo),
    "sizes": lambda doc, demo: sizes_section(doc.results, demo),
    "messages": lambda doc, demo: messages_section(doc.results, demo),
    "stops": lambda doc, demo: stops_section(doc.results, demo),
}


def sections(doc: ResultsFile) -> list[tuple[str, str, Body]]:
    """The report's numbered sections in order, each (key, title, body): the time and counter
    tables, the race statistics, each demo's own section (`Demo.section`, in rank order), then
    the views over every demo. The key is what an answer's `section` names ("decides": where
    the noise floor and the rule the answer follows are)."""
    # A demo's own section where the run has its results (a report made before the demo existed
    # re-renders as it was).
    ran = {r.demo for r in doc.results}
    own = [(name, f"{d.section.title} ({name})", d.section.kind) for name, d in DEMOS.items()
           if d.section and name in ran]  # fmt: skip
    listed: list[tuple[str, str, Body]] = [
        ("time", "Execution time", lambda doc: time_table(list(doc.results))),
        ("counters", "Counter correctness", lambda doc: counter_table(list(doc.results))),
        ("races", "Race statistics", lambda doc: races_section(doc.races, dict(doc.run.race_charts))),
        *[(name, title, own_body(kind, name)) for name, title, kind in own],
        ("article", "Against the article and Real Python", against),
        ("findings", "What the numbers show", lambda doc: "\n".join(f"- {x}" for x in what_they_show(doc))),
        ("variants", "Variants side by side", lambda doc: variants_section(list(doc.results), doc.run)),
        ("sweeps", "Worker sweeps", lambda doc: sweep_section(doc.sweeps, dict(doc.run.charts))),
        ("timelines", "Timelines", lambda doc: timelines_section(doc.timelines,
                                                                 dict(doc.run.timeline_charts))),
        ("decides", "Environment", lambda doc: environment_table(
            dict(doc.environment), list(doc.run.skipped), doc.run.server_ceiling, noise_text(doc))),
    ]  # fmt: skip
    return [(key, f"{n}. {title}", body) for n, (key, title, body) in enumerate(listed, start=1)]


def own_body(kind: str, demo: str) -> Body:
    """The body of a demo's own section."""
    return lambda doc: OWN[kind](doc, demo)


def against(doc: ResultsFile) -> str:
    """The article's figures and Real Python's beside ours."""
    results, env = list(doc.results), dict(doc.environment)
    return (
        article_table(results, env, str(doc.run.scale))
        + "\n\n### Real Python's 160 pages\n\n"
        + real_python_table([*results, *doc.sweeps], env)
    )


def the_answer(doc: ResultsFile, report: str = "") -> str:
    """The report's first section; with `report` (the report's path, as a page elsewhere links to
    it: the README), each row links into that file."""
    return answer_section(doc, {key: f"{report}#{anchor(title)}" for key, title, _ in sections(doc)})


def render(doc: ResultsFile) -> str:
    """The markdown of any results file, by the view its kind has (`RENDERERS`)."""
    return RENDERERS[doc.run.kind](doc)


def render_races(doc: ResultsFile) -> str:
    """The markdown of `lab races`: what ran, the table and the chart."""
    env = doc.environment
    md = f"# lab races\n\nMade by `{env.get('command')}` on {env.get('date')}.\n\n"
    return md + partial_note(doc) + races_section(doc.races, dict(doc.run.race_charts)) + "\n"


def render_run(doc: ResultsFile) -> str:
    """The markdown of `lab run`: what ran, its times and counts, what was left out, where."""
    env, results = dict(doc.environment), list(doc.results)
    parts = [
        f"# lab run: {results[0].demo if results else '?'}",
        f"Made by `{env.get('command')}` on {env.get('date')}, {doc.run.trials} trials per model. {TIMED}",
        partial_note(doc).strip(),
        "## Execution time\n\n" + time_table(results),
        *(
            ["## Counter correctness\n\n" + counter_table(results)]
            if any("increments" in r.params for r in results)
            else []
        ),
        "## Environment\n\n" + environment_table(env, list(doc.run.skipped)),
    ]
    return "\n\n".join(part for part in parts if part) + "\n"


def partial_note(doc: ResultsFile) -> str:
    """A stopped run's warning, first thing under its title (empty for a whole one)."""
    run = doc.run
    if not run.partial:
        return ""
    return (f"> **PARTIAL**: the run was interrupted ({run.interrupted or 'stopped'}); only what was "
            "measured before that is below.\n\n")  # fmt: skip


def render_report(doc: ResultsFile) -> str:
    """The whole markdown report."""
    results, env, run = list(doc.results), dict(doc.environment), doc.run
    failed = [r for r in results if r.error]
    parts = [f"# lab report: {run.scale or '?'} scale"]
    if run.partial:
        parts.append(
            f"> **PARTIAL REPORT**: the run was interrupted ({run.interrupted or 'stopped'}); "
            f"only the {len(results)} results measured before that are below."
        )
    parts.append(
        f"Made by `{env.get('command')}` on {env.get('date')}: {len(results)} results, "
        f"{run.trials} trials per row. Every number below was measured in that run; "
        "the JSON file beside this one holds each trial."
    )
    parts.append(TIMED)
    shown: list[tuple[str, Body]] = [("The answer on this machine", the_answer)]
    shown += [(title, body) for key, title, body in sections(doc)]
    if interpreters_in(doc):  # a report across several Pythons (`lab report --python`): unnumbered
        shown.insert(-3, ("Interpreters side by side", interpreters_section))  # before the sweeps
    for title, body in shown:
        parts.append(f"## {title}\n\n{body(doc)}")
    if failed:
        rows = [(r.demo, r.variant, r.trial, r.error) for r in failed]
        parts.append("## Failed runs\n\n" + table(rows, ["demo", "variant", "trial", "error"]))
    return "\n\n".join(parts) + "\n"


def anchor(title: str) -> str:
    """The link target GitHub gives a heading: `4. Network I/O (http-get)` -> `4-network-io-http-get`."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


# The view of each kind of results file (`RunInfo.kind`; None is a report's).
RENDERERS: dict[str | None, Callable[[ResultsFile], str]] = {
    None: render_report,
    "run": render_run,
    "sweep": render_sweep,
    "races": render_races,
}

__all__ = ["RENDERERS", "render", "render_races", "render_run", "render_sweep"]
