"""mixed: waiting, then computing, in one job, and the caller's heartbeat while it runs."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import lab
from lab.cli import main
from lab.demos import DEMOS
from lab.measure.heartbeat import BLOCKED_S, SERIES_POINTS, Beats
from lab.models import MODELS
from lab.models.tasks import work_on
from lab.render.mixed import mixed_section, rows
from lab.studies.scales import SCALES
from lab.studies.suite import plan_suite
from tests.conftest import Variant, variant
from tests.test_report import result

SMALL = {"tasks": 8, "latency": 0.01, "rounds": 20_000, "workers": 4}


def mixed_variant(model: str, id: str, **options: str) -> object:
    """`variant`, also skipped where the model says this variant cannot run (an offload's needs)."""
    param = variant(model, id, **options)
    why = MODELS[model].unavailable({**MODELS[model].default_options(), **options})
    marks = [*param.marks, *([pytest.mark.skip(reason=why)] if why else [])]
    return pytest.param(*param.values, id=id, marks=marks)


MIXED = [
    mixed_variant("asyncio", "asyncio+none", offload="none"),
    mixed_variant("asyncio", "asyncio+thread", offload="thread"),
    mixed_variant("asyncio", "asyncio+process", offload="process"),
    mixed_variant("asyncio", "asyncio+interpreter", offload="interpreter"),
    mixed_variant("asyncio", "asyncio+uvloop+process", loop="uvloop", offload="process"),
    mixed_variant("threads", "threads"),
    mixed_variant("processes", "processes+fork", start_method="fork"),
    mixed_variant("processes", "processes+spawn", start_method="spawn"),
    mixed_variant("processes", "processes+forkserver", start_method="forkserver"),
    mixed_variant("dask", "dask"),
    mixed_variant("interpreters", "interpreters+stdlib", implementation="stdlib"),
    mixed_variant("interpreters", "interpreters+backport", implementation="backport"),
]


@pytest.mark.parametrize("each", MIXED)
def test_every_variant_verifies_each_response_and_value_and_keeps_a_heartbeat(each: Variant) -> None:
    r = each.run("mixed", **SMALL)
    assert r.error is None and r.correct and r.observed == r.expected == 8
    assert r.outputs_ok  # every computed value equals the serial run's
    beat = r.metrics
    assert beat is not None and beat["heartbeat_beats"] > 0
    assert 0 <= beat["heartbeat_p50_s"] <= beat["heartbeat_p99_s"] <= beat["heartbeat_max_s"]
    assert 0 <= beat["heartbeat_blocked_share"] <= 1


@pytest.mark.timed
def test_inline_cpu_stalls_the_loop_and_a_process_pool_does_not() -> None:
    # One item's CPU part, timed here: the loop cannot beat while an item computes inline, so its
    # worst lateness is at least about that; handed to a process, the loop stays free. Ratios within
    # one moment, retried (a busy machine slows both sides, but not the same way every time).
    rounds = 200_000
    params = {"tasks": 12, "latency": 0.02, "rounds": rounds, "workers": 6}
    begin = time.perf_counter()
    work_on(b"x" * 2000, rounds)
    one_item = time.perf_counter() - begin
    seen = []
    for _ in range(3):
        inline = lab.run("mixed", "asyncio", offload="none", **params)
        offloaded = lab.run("mixed", "asyncio", offload="process", **params)
        assert inline.correct and inline.outputs_ok and offloaded.correct and offloaded.outputs_ok
        assert inline.metrics is not None and offloaded.metrics is not None
        stalled, free = inline.metrics["heartbeat_max_s"], offloaded.metrics["heartbeat_max_s"]
        seen.append((stalled, free, one_item))
        if stalled >= 0.7 * one_item and stalled > 3 * free:
            return
    pytest.fail(f"(inline worst, offloaded worst, one item's CPU) in s: {seen}")


@pytest.mark.timed
def test_a_long_stall_among_many_beats_shows_in_the_worst_and_the_blocked_share() -> None:
    # 300 beats on time over 0.3 s, then one 240 ms stall: the p99 of beats hides it; the worst and
    # the blocked share do not.
    beats = Beats(begin=0.0)
    t = 0.0
    for _ in range(300):
        beats.beat(t + 0.001, t + 0.001)
        t += 0.001
    beats.beat(t + 0.001, t + 0.241)
    beats.end = t + 0.241
    summary = beats.summary()
    assert summary["heartbeat_p99_s"] < 0.001
    assert summary["heartbeat_max_s"] == pytest.approx(0.24)
    assert summary["heartbeat_blocked_share"] == pytest.approx(0.241 / 0.541, rel=0.01)
    assert BLOCKED_S < 0.24


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--rounds", "-1"], "rounds"),
        (["--models", "asyncio", "--offload", "bogus"], "none, thread, process, interpreter"),
        (["--models", "threads", "--offload", "thread"], "'offload' does not apply"),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "mixed", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err


def test_offload_interpreter_where_it_cannot_run_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    why = MODELS["asyncio"].unavailable({"offload": "interpreter"})
    if why is None:
        pytest.skip("anyio.to_interpreter runs here")
    assert main(["run", "mixed", "--models", "asyncio", "--offload", "interpreter"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "3.13" in err


def cpu_parts(r: lab.Result) -> list[Mapping[str, Any]]:
    """A recorded asyncio run's spans of mixed's CPU part: the lanes after the coroutines' slots."""
    slots = int(r.params["workers"])
    return [t for t in r.timeline or () if int(str(t["lane"])) >= slots]


@pytest.mark.parametrize("offload", ["none", "thread", "process"])
def test_a_recorded_run_shows_where_each_cpu_part_ran(offload: str) -> None:
    r = lab.run("mixed", "asyncio", offload=offload, timeline=True, **SMALL)
    assert r.correct and r.outputs_ok and r.timeline is not None
    coroutines, parts = [t for t in r.timeline if t not in cpu_parts(r)], cpu_parts(r)
    items = list(range(8))
    assert sorted(int(t["item"]) for t in coroutines) == sorted(int(t["item"]) for t in parts) == items
    assert all(t["cpu_s"] is None for t in coroutines) and all(t["cpu_s"] is not None for t in parts)
    workers = {str(t["worker"]) for t in parts}
    lab_process = f"process {os.getpid()}"
    if offload == "none":  # on the loop: the lab's own process, one part after another
        assert workers == {lab_process}
        ordered = sorted(parts, key=lambda t: float(str(t["start_s"])))
        assert all(float(str(a["end_s"])) <= float(str(b["start_s"])) for a, b in itertools.pairwise(ordered))
    elif offload == "thread":
        assert all(w.startswith("thread ") for w in workers)
    else:  # other processes than the lab's
        assert all(w.startswith("process ") for w in workers) and lab_process not in workers
    # The heartbeat's course over the run, kept in a recorded run for its chart, in time order.
    assert r.metrics is not None
    series = r.metrics["heartbeat_series"]
    assert 0 < len(series) <= SERIES_POINTS and [t for t, _ in series] == sorted(t for t, _ in series)
    assert max(late for _, late in series) == pytest.approx(r.metrics["heartbeat_max_s"], abs=0.002)


def test_an_unrecorded_run_keeps_no_heartbeat_course() -> None:
    r = lab.run("mixed", "asyncio", offload="none", **SMALL)
    assert r.metrics is not None and "heartbeat_series" not in r.metrics and r.timeline is None


def test_a_report_records_each_offload_and_draws_the_heartbeat(tmp_path: Path) -> None:
    doc = lab.report("smoke", demos=["mixed"], models=["asyncio", "threads"])
    recorded = {r.variant for r in doc.timelines}
    assert {"asyncio+aiohttp+none", "asyncio+aiohttp+thread", "asyncio+aiohttp+process"} <= recorded
    assert "threads+requests" in recorded
    published = lab.publish(doc, tmp_path)
    charts = published.doc.run.heartbeat_charts
    assert set(charts) == {"mixed"} and "file" in charts["mixed"]  # the test extra has matplotlib
    assert (tmp_path / charts["mixed"]["file"]).stat().st_size > 0
    assert f"![mixed heartbeat]({charts['mixed']['file']})" in published.markdown.read_text(encoding="utf-8")


def test_the_section_says_where_the_answer_flips_with_the_cpu_share() -> None:
    # Made-up medians: inline fastest with no CPU part, the process pool from 20,000 rounds on.
    times = {"none": (0.05, 0.10, 0.30), "process": (0.07, 0.08, 0.25), "thread": (0.06, 0.11, 0.40)}
    shape = {"tasks": 16, "latency": 0.02, "workers": 8}
    made = [
        result("mixed", "asyncio", {"offload": offload}, elapsed + 0.001 * trial, trial=trial, correct=True,
               params={**shape, "rounds": rounds}, expected=16, observed=16)
        for offload, row in times.items()
        for rounds, elapsed in zip((0, 20_000, 200_000), row, strict=True)
        for trial in (1, 2, 3)
    ]  # fmt: skip
    text = mixed_section(made, {}, "mixed")
    assert "Fastest: asyncio+none at 0, then asyncio+process from 20,000." in text
    cells = [[c.strip() for c in line.split("|")[1:-1]] for line in text.splitlines()]
    share = {row[0]: row[1:] for row in cells if row and row[0].startswith("asyncio") and len(row) == 5}
    assert share["asyncio+process"] == ["0.0720", "**0.0820**", "**0.2520**", "20,000 rounds (asyncio+none)"]
    assert share["asyncio+thread"] == ["0.0620", "0.1120", "0.4020", "never (asyncio+none)"]
    assert [row.variant for row in rows(made, "mixed")] == [
        "asyncio+none",
        "asyncio+process",
        "asyncio+thread",
    ]
    assert [row.median for row in rows(made, "mixed")] == pytest.approx(
        [0.302, 0.252, 0.402]
    )  # the most rounds only


def test_a_lean_scale_runs_the_offloads_at_every_cpu_share() -> None:
    runs, _ = plan_suite(SCALES["quick"], ["mixed"], ["asyncio", "processes"])
    main = [r for r in runs if not (r.sweep or r.timeline or r.race)]
    shares = {(r.variant.options.get("offload", "-"), r.params["rounds"]) for r in main}
    scale = {p["rounds"] for p in DEMOS["mixed"].at("quick").rows}
    assert len(scale) >= 3 and 0 in scale  # from no CPU part on
    assert {(offload, rounds) for offload in ("none", "thread", "process") for rounds in scale} <= shares
    assert {rounds for offload, rounds in shares if offload == "-"} == scale  # processes


def test_lab_run_prints_the_heartbeat_beside_the_time(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "mixed", "--models", "asyncio", "--offload", "none", "--tasks", "4", "--rounds", "1000"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "figures" in out and "beat worst" in out and "blocked" in out
