"""The report: golden markdown from fixed results, JSON round trip, --from, atomic writes."""

from __future__ import annotations

import json
import os
import pickle
import re
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from lab import pictures
from lab import report as lab_report
from lab.cli import main
from lab.demos import DEMOS
from lab.models.asyncio import Asyncio
from lab.pictures import Picture
from lab.render import render
from lab.results import Result, ResultsFile, RunInfo, write_atomically
from lab.studies.scales import SCALES
from lab.studies.suite import SuiteResults, plan_suite, run_suite, schedule

GOLDEN = Path(__file__).parent / "golden" / "report.md"
ENV = {
    "python": "3.11.7", "implementation": "CPython", "build": "main, GCC 12.2.0", "gil_enabled": True,
    "cpu_model": "Test CPU", "cpu_count": 2, "cpus_usable": 2, "os": "Linux-test",
    "start_methods": ["fork", "spawn"], "default_start_method": "fork",
    "packages": {"lab": "0.1.0", "tabulate": "0.10.0"}, "date": "2026-11-25 09:00:00 UTC",
    "command": "lab report --trials 2",
}  # fmt: skip
SKIPPED = {"variant": "processes+forkserver", "reason": "not on this test platform"}
RUN = RunInfo(
    scale="quick", trials=2, stem="lab-report-quick-2026-11-25", skipped=(SKIPPED,), extra=(10, 8.0)
)


def result(demo: str, model: str, options: dict[str, str], elapsed: float | None, **kw: Any) -> Result:
    params = kw.pop("params", {})
    return Result(**{
        "demo": demo, "model": model, "options": options, "params": params, "elapsed_s": elapsed,
        "startup_s": 0.01, "ideal_s": None, "expected": None, "observed": None, "correct": None,
        "outputs_ok": True, "error": None, **kw,
    })  # fmt: skip


def fixed_results() -> list[Result]:
    fork = {"start_method": "fork", "lock": "mp"}
    out = []
    for trial, jitter in ((1, 0.0), (2, 0.002)):
        for model, opts in (("asyncio", {"loop": "asyncio"}), ("threads", {}), ("processes", fork)):
            for workers, ideal in ((5, 0.1), (1, 0.5)):
                params = {"tasks": 5, "sleep": 0.1, "workers": workers}
                out.append(result("pool-map", model, opts, ideal + 0.001 + jitter, params=params,
                                  ideal_s=ideal, trial=trial))  # fmt: skip
        for model, opts, observed in (
            ("asyncio", {"loop": "asyncio"}, 1000),
            ("processes", fork, 3100 + trial),
        ):
            out.append(result("racy-counter", model, opts, 0.02, params={"workers": 5, "increments": 1000},
                              expected=5000, observed=observed, correct=False, trial=trial))  # fmt: skip
        for lock, elapsed in (("mp", 0.01), ("manager", 0.4)):
            out.append(result("locked-counter", "processes", {"start_method": "fork", "lock": lock}, elapsed,
                              params={"workers": 5, "increments": 1000}, expected=5000, observed=5000,
                              correct=True, trial=trial))  # fmt: skip
        http = {"requests": 160, "latency": 0.02, "size": 2000, "workers": 20, "server": None}
        for model, opts, elapsed, rate, per_worker in (
            ("asyncio", {"loop": "asyncio", "client": "aiohttp"}, 0.19, 842.0, 1500),
            ("threads", {"client": "requests"}, 0.21, 761.0, 16000),
        ):
            out.append(result("http-get", model, opts, elapsed + jitter, params=http, ideal_s=0.16,
                              expected=160, observed=160, correct=True, trial=trial,
                              memory={"baseline_bytes": 10**7, "peak_bytes": 10**7 + 20 * per_worker,
                                      "per_worker_bytes": per_worker},
                              metrics={"requests_per_s": rate, "latency_p50_s": 0.021, "latency_p99_s": 0.04,
                                       "in_flight_mean": 17.5, "failures": {}}))  # fmt: skip
    out.append(result("cpu-bound", "threads", {}, None, params={"tasks": 4, "workers": 4}, outputs_ok=None,
                      error="RuntimeError: injected fault: the task raised"))  # fmt: skip
    return out


def fixed_sweep() -> list[Result]:
    return [result("pool-map", model, {}, 0.4 / w + 0.001, params={"tasks": 8, "sleep": 0.05, "workers": w},
                   ideal_s=0.4 / w) for model in ("asyncio", "threads") for w in (1, 2, 4)]  # fmt: skip


def fixed_doc() -> ResultsFile:
    run = replace(RUN, lock_costs={"threading.Lock": 0.17, "Manager().Lock()": 81.2},
                  charts={"pool-map": {"file": "sweep-pool-map.png"}},
                  timeline_charts={"cpu-bound": {"file": "timeline-cpu-bound.png"}},
                  server_ceiling={"requests_per_s": {"wrk": 1500.0, "lab asyncio+uvloop": 900.0},
                                  "ceiling": 1500.0, "how": "latency 0, test"})  # fmt: skip
    return ResultsFile(tuple(fixed_results()), ENV, run, tuple(fixed_sweep()), tuple(fixed_timelines()))


def fixed_timelines() -> list[Result]:
    tasks = [{"lane": i % 2, "worker": f"thread {100 + i % 2}", "item": i, "start_s": 0.25 * (i // 2),
              "end_s": 0.25 * (i // 2) + 0.2, "cpu_s": 0.1} for i in range(4)]  # fmt: skip
    return [result("cpu-bound", "threads", {}, 0.45, params={"tasks": 4, "workers": 2}, timeline=tasks)]


def test_golden_markdown() -> None:
    # To update after an intended change: render(fixed_doc()) into tests/golden/report.md, and read the diff.
    assert render(fixed_doc()) == GOLDEN.read_text(encoding="utf-8")


def test_the_extra_rounds_a_report_states_are_its_record_s(tmp_path: Path) -> None:
    def said(run: RunInfo) -> str:
        doc = replace(fixed_doc(), run=run)
        again = ResultsFile.from_json(doc.to_json())  # as a file written and read back holds it
        return render(again).split("| noise floor and verdicts", 1)[1].split("\n", 1)[0]

    stated = said(replace(RUN, extra=(3, 2.5)))
    assert "up to 3 more rounds of the variants it compares, within 2.5 s in all" in stated
    assert "more rounds" not in said(replace(RUN, extra=(0, 0.0)))
    assert "more rounds" not in said(replace(RUN, extra=None))  # a file from before the record: not guessed
    smoke = SCALES["smoke"]
    ran = lab_report("smoke", demos=["pool-map"], models=["threads"], journal=tmp_path)
    assert ran.run.extra == (smoke.extra_rounds, smoke.extra_budget_s)  # recorded, and kept by the journal


def test_markdown_has_the_five_sections_and_the_article() -> None:
    text = render(fixed_doc())
    for title in ("1. Execution time", "2. Counter correctness", "3. Race statistics",
                  "4. Network I/O (http-get)", "5. Against the article and Real Python",
                  "6. What the numbers show", "7. Variants side by side", "8. Worker sweeps",
                  "9. Timelines", "10. Environment", "Failed runs"):  # fmt: skip
        assert f"## {title}" in text
    assert "(mixed)" not in text  # a demo's own section only where the run has its results
    assert "5.0095 s" in text and "25.03 s" in text and "0.1002 s" in text  # the article, scaled
    assert "14.29 s" in text and "320/320" in text and "server-bound" in text  # Real Python; http-get
    assert "3102 x1, 3101 x1" in text and "0/2" in text
    assert "skipped: processes+forkserver" in text


def test_findings_follow_the_numbers() -> None:
    slower = [r if r.model != "threads" else Result.from_dict({**r.to_dict(), "elapsed_s": 9.0})
              for r in fixed_results()]  # fmt: skip
    text = render(ResultsFile(tuple(slower), ENV, RUN))
    assert "slowest threads at 9.0000 s" in text


def test_json_round_trip() -> None:
    doc = fixed_doc()
    again = ResultsFile.from_json(doc.to_json())
    assert again == doc and again.to_json() == doc.to_json()


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        (None, "cannot read"),
        ("{not json", "is not JSON"),
        ('{"schema": "other"}', "not a lab results file"),
        ('{"schema": "lab.results", "version": 99}', "schema version 99"),
        ('{"schema": "lab.results", "version": 1}', "damaged"),
    ],
)
def test_bad_from_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, complaint: str
) -> None:
    source = tmp_path / "results.json"
    if content is not None:
        source.write_text(content)
    assert main(["report", "--from", str(source), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert complaint in err and err.count("\n") == 1 and "Traceback" not in err


def test_report_end_to_end_and_from_rerenders_identically(tmp_path: Path) -> None:
    out, again = tmp_path / "out", tmp_path / "again"
    argv = ["report", "--scale", "smoke", "--out", str(out), "--quiet", "--demos", "pool-map",
            "serial-counter", "locked-counter", "--models", "threads", "asyncio"]  # fmt: skip
    assert main(argv) == 0
    [md] = out.glob("*.md")
    [js] = out.glob("*.json")
    pictures = {f"{md.stem}-sweep-pool-map.png", f"{md.stem}-timeline-pool-map.png"}
    assert {p.name for p in out.iterdir()} - {md.name, js.name} == pictures
    doc = json.loads(js.read_text())
    assert doc["schema"] == "lab.results" and doc["run"]["partial"] is False
    assert {r["model"] for r in doc["results"]} == {"threads", "asyncio", "serial"}
    assert main(["report", "--from", str(js), "--out", str(again)]) == 0
    assert (again / md.name).read_bytes() == md.read_bytes()
    assert {p.name for p in again.iterdir()} == {p.name for p in out.iterdir()}  # pictures redrawn too
    assert len(doc["timelines"]) == 4 and all(
        len(r["timeline"]) == r["params"]["tasks"] for r in doc["timelines"]
    )


def test_unavailable_variant_is_listed_as_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Asyncio, "unavailable", classmethod(lambda cls, o: "uvloop missing (test)"))
    runs, skipped = plan_suite(SCALES["quick"], ["pool-map"], ["asyncio"])
    assert runs == [] and {"variant": "asyncio", "reason": "uvloop missing (test)"} in skipped


def test_every_variant_available_here_is_planned() -> None:
    runs, _ = plan_suite(SCALES["article"])
    labels = {(r.demo, r.variant.label) for r in runs}
    assert ("locked-counter", "processes+spawn+manager") in labels
    assert ("racy-counter", "processes+forkserver") in labels and ("http-get", "processes+httpx") in labels
    assert ("pool-map", "asyncio+uvloop") in labels and ("serial-counter", "serial") in labels


def test_a_lean_scale_varies_one_option_at_a_time_where_it_shows() -> None:
    runs, _ = plan_suite(SCALES["quick"], models=["asyncio", "threads", "processes"])
    labels = {(r.demo, r.variant.label) for r in runs if not (r.sweep or r.timeline or r.race)}
    assert {("locked-counter", "processes+fork+manager"), ("locked-counter", "processes+fork+mp"),
            ("pool-map", "processes+spawn"), ("pool-map", "processes+forkserver"),
            ("http-get", "asyncio+uvloop+aiohttp"), ("http-get", "asyncio+httpx"),
            ("http-get", "threads+httpx")} <= labels  # fmt: skip
    assert ("locked-counter", "processes+spawn+manager") not in labels  # two options off their defaults
    assert ("http-get", "asyncio+uvloop+httpx") not in labels
    assert ("racy-counter", "processes+spawn") not in labels  # start methods show on pool-map
    assert ("http-get", "processes+httpx") not in labels  # libraries show in threads


def test_interrupted_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.md"
    target.write_text("the old report\n")

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, "a new report that never lands\n" * 1000)
    assert target.read_text() == "the old report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]  # no temporary file left either


def test_bad_scale_and_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--scale", "quik", "--out", str(tmp_path)]) == 2
    assert "did you mean 'quick'" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["report", "--out", str(blocker / "sub"), "--demos", "serial-counter"]) == 2
    assert "cannot write reports into" in capsys.readouterr().err


def test_a_schema_1_file_still_loads_and_renders(tmp_path: Path) -> None:
    old = Path(__file__).parent / "data" / "results-v1.json"  # written by lab 0.1.0, before memory
    doc = ResultsFile.load(old)
    assert doc.results[0].memory is None and doc.results[0].metrics is None
    assert main(["report", "--from", str(old), "--out", str(tmp_path)]) == 0
    text = next(tmp_path.glob("*.md")).read_text()
    # Only the sections of demos it ran: no http-get, so no network section, and no gap in the numbers.
    assert "Network I/O" not in text and "## 4. Against the article and Real Python" in text


def test_a_schema_2_file_still_loads_and_renders_the_same(tmp_path: Path) -> None:
    committed = Path(__file__).parent.parent / "reports" / "lab-report-quick-2026-11-25.json"  # version 2
    assert json.loads(committed.read_text())["version"] == 2
    doc = ResultsFile.load(committed)
    assert all(r.cpu_s is None for r in doc.results)  # schema 3's field, absent before
    assert main(["report", "--from", str(committed), "--out", str(tmp_path)]) == 0
    again = next(tmp_path.glob("*.md")).read_text()
    before = committed.with_suffix(".md").read_text()  # rendered by the lab of schema 2

    def section(text: str, title: str) -> str:
        return text.split(f"## {title}")[1].split("\n## ", maxsplit=1)[0]

    for title in ("1. Execution time", "2. Counter correctness"):  # old records render as they did
        assert section(again, title) == section(before, title)
    assert "## 3. Race statistics" in again and "did not run" in section(again, "3. Race statistics")


def test_a_run_never_overwrites_a_report_of_the_same_day(tmp_path: Path) -> None:
    committed = tmp_path / f"lab-report-quick-{time.strftime('%Y-%m-%d', time.gmtime())}.md"
    committed.write_text("committed\n")
    assert main(["report", "--out", str(tmp_path), "--demos", "serial-counter", "--quiet"]) == 0
    assert committed.read_text() == "committed\n"
    [new] = [p for p in tmp_path.glob("*.md") if p != committed]
    assert re.fullmatch(r"lab-report-quick-\d{4}-\d\d-\d\d-\d{6}\.md", new.name), new.name


def test_a_sweep_point_that_is_a_main_run_is_measured_once() -> None:
    runs, _ = plan_suite(SCALES["quick"], ["cpu-bound"], ["threads"])
    assert {r.params["workers"] for r in runs if r.also_sweep} == {1, 4}  # the main rows at 1 and 4
    assert {r.params["workers"] for r in runs if r.sweep} == {2}  # only the point no row measures


def test_shared_trials_are_kept_in_the_table_and_the_sweep() -> None:
    doc = lab_report("smoke", demos=["cpu-bound"], models=["threads"], trials=2)
    python = [r for r in doc.results if r.params.get("kernel", "python") == "python"]
    assert len(doc.sweeps) == 4 and sorted(doc.sweeps, key=repr) == sorted(python, key=repr)


def written(results: Sequence[Result], path: Path, title: str) -> str | None:
    """A stand-in for a chart: the title and how many results, or why not (none)."""
    if not results:
        return "nothing to draw"
    path.write_text(f"{title}: {len(results)} x {results[0].demo}")
    return None


def test_pictures_drawn_in_child_processes_come_back_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pictures, "usable_cores", lambda: 2)  # a pool even on one core,
    monkeypatch.setattr(pictures, "pyplot_missing", lambda: False)  # and without matplotlib
    one = result("pool-map", "threads", {}, 0.1, params={"tasks": 2}, timeline=({"lane": 0},))
    assert pickle.loads(pickle.dumps(one)) == one  # results travel to the pool's processes
    planned = [
        Picture(written, [one], tmp_path / "a.png", "A"),
        Picture(written, [], tmp_path / "b.png", "B"),
        Picture(written, [one, one], tmp_path / "c.png", "C"),
    ]
    assert pictures.draw_all(planned) == [None, "nothing to draw", None]
    assert (tmp_path / "a.png").read_text() == "A: 1 x pool-map" and not (tmp_path / "b.png").exists()
    assert (tmp_path / "c.png").read_text() == "C: 2 x pool-map"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_a_demos_trials_run_in_rounds_so_that_a_drift_falls_on_every_variant() -> None:
    runs, _ = plan_suite(SCALES["quick"], ["pool-map", "cpu-bound", "racy-counter"], ["threads", "processes"])
    order = schedule(runs, 3)
    repeated = [(run.demo, trial) for run, trial, _ in order if not (run.timeline or run.race)]
    assert repeated == sorted(
        repeated, key=lambda pair: (["pool-map", "cpu-bound", "racy-counter"].index(pair[0]), pair[1])
    )
    assert sorted(map(id, (run for run, _, _ in order))) == sorted(
        id(run) for run in runs for _ in range(1 if run.timeline else run.race or 3)
    )  # every run, as many times as it asks
    races = [trial for run, trial, of in order if run.race]
    spec = DEMOS["racy-counter"].at("quick").races
    assert spec is not None
    count = spec.trials
    assert races[:count] == list(range(1, count + 1))  # back to back
    assert {of for run, _, of in order if run.race} == {count}


def test_the_quick_scale_measures_an_a_a_pair_in_the_rounds_of_its_demo() -> None:
    runs, _ = plan_suite(SCALES["quick"], ["cpu-bound"], ["asyncio", "threads"])
    twins = [r for r in runs if r.twin]
    assert [(r.twin, r.variant.model, r.params["workers"]) for r in twins] == [
        ("a", "threads", 1),
        ("b", "threads", 1),
    ]
    order = schedule(runs, 3)
    rounds = [trial for run, trial, _ in order if run.twin]
    assert rounds == [1, 1, 2, 2, 3, 3]  # both, in every round, beside the rows they measure
    assert not plan_suite(SCALES["quick"], ["pool-map"], ["threads"])[0][-1].twin  # no such row: none


def test_an_undecided_comparison_runs_more_rounds_within_its_budget() -> None:
    runs, _ = plan_suite(SCALES["smoke"], ["pool-map", "serial-counter"], ["threads", "asyncio"])
    runs = [r for r in runs if not (r.timeline or r.race)]
    asked: list[int] = []

    def undecided(measured: SuiteResults) -> list[tuple[str, str, str]]:
        asked.append(max(r.trial for r in measured.results))
        rows = [
            r for r in measured.results
            if r.demo == "pool-map" and r.params["workers"] == 2 and r.variant in ("threads", "asyncio")
        ]  # fmt: skip
        return [("pool-map", r.variant, r.shape) for r in rows]  # never decided

    measured = run_suite(runs, 1, quiet=True, undecided=undecided, extra=(2, 60.0))
    again = sorted((r.variant, r.params["workers"], r.trial) for r in measured.results if r.trial > 1)
    assert again == [
        ("asyncio", 2, 2),
        ("asyncio", 2, 3),
        ("threads", 2, 2),
        ("threads", 2, 3),
    ]
    assert asked == [1, 2]  # asked before each extra round, two at most
    none = run_suite(runs, 1, quiet=True, undecided=undecided, extra=(2, 0.0))  # no budget: no rounds
    assert {r.trial for r in none.results} == {1}


def test_the_noise_floor_travels_in_the_file_and_shows_in_the_environment() -> None:
    doc = fixed_doc()
    [base] = [r for r in doc.results if r.demo == "pool-map"][:1]
    noise = tuple(
        replace(base, trial=t, elapsed_s=e, timing={**base.timing, "twin": w})
        for t, (a, b) in enumerate([(0.100, 0.101), (0.102, 0.100), (0.099, 0.100)], 1)
        for w, e in (("a", a), ("b", b))
    )
    again = ResultsFile.from_json(replace(doc, noise=noise).to_json())
    assert again.noise == noise
    assert "A/A pair (" in render(again) and "a gap of 1.0" in render(again) and "holds 1" in render(again)
