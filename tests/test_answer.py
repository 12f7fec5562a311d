"""The answer first: the report's first section and the terminal's table, read from records."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from lab.cli import main
from lab.measure.stats import Ratio
from lab.render import render
from lab.render.answer import Timed, answer_text, answers, decide, use
from lab.results import Result, ResultsFile

COMMITTED = Path(__file__).parent.parent / "reports"


def test_a_report_opens_with_the_answer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["report", "--scale", "smoke", "--out", str(tmp_path), "--quiet", "--demos", "pool-map",
            "cpu-bound", "racy-counter", "locked-counter", "mixed", "--models", "threads", "processes",
            "asyncio"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    text = next(tmp_path.glob("*.md")).read_text()
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert headings[0] == "The answer on this machine"
    answer = text.split("## The answer on this machine")[1].split("\n## ")[0]
    jobs = (
        "a few waits at once",
        "pure-Python CPU work",
        "CPU work in C",
        "shared state",
        "waiting and computing",
    )
    for job in jobs:
        assert job in answer and job.split(" (")[0] in out  # the terminal shows the same rows
    anchors = {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}
    assert set(re.findall(r"\(#([\w-]+)\)", answer)) <= anchors
    assert out.strip().splitlines()[-1].startswith("wrote ") and "files beside it" in out


def test_the_answer_follows_the_numbers_not_a_script() -> None:
    # The committed article-scale report (3.11, before hashlib was measured): pool-map at 5 x
    # sleep(5) is a tie, dask's cluster included (it started in 0.91 s and 0.49 s: not over a
    # tenth of 5 s in every trial); processes computed in parallel.
    doc = ResultsFile.load(COMMITTED / "lab-report-article-2026-11-25-142927.json")
    found = {a.job.split(" (")[0]: a for a in answers(doc)}
    assert found["a few waits at once"].use == "any"
    assert "dearer start-up" not in found["a few waits at once"].measured
    assert found["pure-Python CPU work"].use.startswith("processes")
    assert "CPU work in C that lets go of the GIL" not in found  # not measured there: no row
    assert found["shared state"].use == "a lock, in every model"
    assert "5.000 s" in found["a few waits at once"].measured  # threads' median, from the records
    assert answer_text(doc).count("\n") > 4
    assert render(doc).index("## The answer on this machine") < render(doc).index("## 1. Execution time")


def trials(variant_of: Result, times: list[float], startup: float = 0.0) -> list[Result]:
    """Trials 1..n of one variant, with these elapsed times."""
    return [replace(variant_of, elapsed_s=t, startup_s=startup, trial=i) for i, t in enumerate(times, 1)]


def test_paired_ratios_decide_only_where_their_interval_does() -> None:
    # Paired by trial: a machine that slows both sides in round 2 does not blur the ratio.
    slower = Ratio.of([(1.10, 1.0), (2.21, 2.0), (1.32, 1.2), (1.09, 1.0)])
    assert slower is not None and slower.verdict() == "slower" and 1.08 < slower.low < slower.high < 1.12
    same = Ratio.of([(1.01, 1.0), (0.99, 1.0), (1.0, 1.0), (1.02, 1.0)])
    assert same is not None and same.verdict() == "tie"
    straddling = Ratio.of([(1.02, 1.0), (1.10, 1.0), (1.05, 1.0)])
    assert straddling is not None and straddling.verdict() == "undecided"
    assert straddling.verdict(effect=1.2) == "tie"  # a larger minimum effect makes it a tie
    one = Ratio.of([(2.0, 1.0)])
    assert one is not None and one.verdict() == "undecided" and one.text() == "2.00x"


def test_use_is_every_model_the_trials_cannot_tell_from_the_fastest() -> None:
    doc = ResultsFile.load(COMMITTED / "lab-report-quick-2026-12-01-084637.json")
    base = {r.model: r for r in doc.results if r.job == "pool-map" and r.params["workers"] == 5}
    fast = Timed("asyncio", trials(base["asyncio"], [0.050, 0.052, 0.051], 0.001), 0.001, None)
    tied = Timed("threads", trials(base["threads"], [0.0505, 0.0521, 0.0512], 0.0005), 0.0005, None)
    slow = Timed("processes+fork", trials(base["processes"], [0.060, 0.063, 0.061], 0.001), 0.001, None)
    dear = Timed("processes+fork", trials(base["processes"], [0.050, 0.052, 0.051], 0.040), 0.040, None)
    decision = decide([slow, tied, fast])
    assert [t.variant for t in decision.use] == ["asyncio", "threads"]  # the models' order, not luck
    assert decision.ratios["processes+fork"][1] == "slower" and not decision.undecided
    assert use(decision.use, [slow, tied, fast]) == "asyncio or threads"
    # As fast, but its start-up costs more than a tenth of the best time over the cheapest's.
    assert [t.variant for t in decide([fast, tied, dear]).use] == ["asyncio", "threads"]
    assert use(decide([fast, tied]).use, [fast, tied]) == "any"
    # Dearer to start, but so much faster that the start-up is paid back: named, not left out
    # (transfer's processes, 0.26 s + 30 ms, against 0.51 s + 1 ms in trials too noisy to decide).
    quick = Timed("processes+fork", trials(base["processes"], [0.26, 0.27, 0.25], 0.030), 0.030, None)
    noisy = Timed("asyncio", trials(base["asyncio"], [0.30, 0.95, 0.40], 0.001), 0.001, None)
    decision = decide([noisy, quick])
    assert decision.undecided == ("asyncio",) and [t.variant for t in decision.use] == [
        "asyncio",
        "processes+fork",
    ]


def test_more_trials_go_only_where_the_verdict_would_change_the_answer() -> None:
    doc = ResultsFile.load(COMMITTED / "lab-report-quick-2026-12-01-084637.json")
    base = {r.model: r for r in doc.results if r.job == "pool-map" and r.params["workers"] == 5}
    fast = Timed("threads", trials(base["threads"], [0.050, 0.052, 0.051], 0.001), 0.001, None)
    unsure = [0.050, 0.056, 0.0515]  # 1.04x (0.93-1.17): undecided
    cheap = Timed("asyncio", trials(base["asyncio"], unsure, 0.001), 0.001, None)
    dear = Timed("processes+fork", trials(base["processes"], unsure, 0.040), 0.040, None)
    assert decide([fast, cheap]).undecided == ("asyncio",)
    assert decide([fast, cheap]).contested == (
        ("threads", fast.trials[0].shape),
        ("asyncio", cheap.trials[0].shape),
    )  # a tie keeps asyncio in the answer, "slower" drops it: worth more rounds
    # Processes' start-up leaves them out, tied or not: their verdict decides nothing.
    assert decide([fast, dear]).undecided == ("processes+fork",) and decide([fast, dear]).contested == ()


def test_every_speedup_in_the_answer_has_its_interval_and_the_cores_it_used() -> None:
    doc = ResultsFile.load(COMMITTED / "lab-report-quick-2026-12-01-084637.json")
    found = {a.job.split(" (")[0]: a for a in answers(doc)}
    for job in ("pure-Python CPU work", "CPU work in C that lets go of the GIL"):
        measured = found[job].measured
        assert re.search(
            r"processes\S* [\d.]+ s, [\d.]+x \([\d.]+-[\d.]+\) over 1 worker, [\d.]+ cores busy", measured
        )
        assert "not believed" not in measured and "noise" not in measured
    assert found["pure-Python CPU work"].use == "processes"


def test_the_pipeline_row_compares_only_runs_of_one_size(tmp_path: Path) -> None:
    argv = ["report", "--scale", "smoke", "--out", str(tmp_path), "--quiet", "--demos", "pipeline",
            "--models", "threads", "asyncio"]  # fmt: skip
    assert main(argv) == 0
    doc = ResultsFile.load(next(tmp_path.glob("*.json")))
    [row] = [a for a in answers(doc) if a.job.startswith("passing messages between workers")]
    assert "(pipeline: 1 producer -> 1 consumer, 200 messages of 100 bytes, 0 rounds each)" in row.job
    assert row.use in {"asyncio", "threads", "asyncio or threads", "any"}
    assert row.measured.count("msg/s") == 2
    # A costly model's smaller run (dask's, at fewer messages) is shown apart, never compared.
    first = next(r for r in doc.results if r.demo == "pipeline")
    smaller = replace(first, model="dask", options={"scheduler": "local"},
                      params={**first.params, "messages": 50}, elapsed_s=99.0)  # fmt: skip
    [row] = [a for a in answers(replace(doc, results=(*doc.results, smaller))) if a.demo == "pipeline"]
    assert "dask+local at 50 messages (not compared) (" in row.measured
    assert "99.000 s" not in row.measured and "dask" not in row.use
