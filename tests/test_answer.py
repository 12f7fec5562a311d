"""The answer first: the report's first section and the terminal's table, read from records."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from lab.cli import main
from lab.render import render
from lab.render.answer import answer_text, answers, overlap
from lab.results import ResultsFile

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
    # sleep(5) is a tie, so the cheapest to start wins; processes computed in parallel.
    doc = ResultsFile.load(COMMITTED / "lab-report-article-2026-11-25-142927.json")
    found = {a.job.split(" (")[0]: a for a in answers(doc)}
    assert found["a few waits at once"].use.startswith("any")
    assert found["pure-Python CPU work"].use.startswith("processes")
    assert "CPU work in C that lets go of the GIL" not in found  # not measured there: no row
    assert found["shared state"].use == "a lock, in every model"
    assert "5.000 s" in found["a few waits at once"].measured  # threads' median, from the records
    assert answer_text(doc).count("\n") > 4
    assert render(doc).index("## The answer on this machine") < render(doc).index("## 1. Execution time")


def test_a_speedup_beyond_the_cores_is_marked_and_held_to_them() -> None:
    # The same committed report, with processes' one-worker run made 3x slower than it was: a
    # speedup of about 5 on 2 usable cores cannot be parallel work, whatever the records say. It
    # is marked, and counts as using the cores (dropping it crowned asyncio's 1.0x in one report).
    doc = ResultsFile.load(COMMITTED / "lab-report-article-2026-11-25-142927.json")
    cores = dict(doc.environment)["cpus_usable"]
    slowed = [
        replace(r, elapsed_s=(r.elapsed_s or 0) * 3)
        if r.model == "processes" and r.job == "cpu-bound" and r.params["workers"] == 1
        else r
        for r in doc.results
    ]
    found = {a.job.split(" (")[0]: a for a in answers(replace(doc, results=tuple(slowed)))}
    computing = found["pure-Python CPU work"]
    assert f"(above {cores} cores: not believed)" in computing.measured
    assert computing.use.startswith("processes")  # held to the cores, it still used them best


def test_a_speedup_the_trials_cannot_tell_from_noise_is_marked_and_not_chosen() -> None:
    # The committed quick report: asyncio's one-worker trials ran 0.144-0.250 s and its four-worker
    # ones 0.146-0.208 s (the same serial work: this machine's speed drifted), a median ratio of 1.43x.
    doc = ResultsFile.load(COMMITTED / "lab-report-quick-2026-12-01-084637.json")
    computing = {a.job.split(" (")[0]: a for a in answers(doc)}["pure-Python CPU work"]
    assert "asyncio 1.43x (its trials overlap the one worker's: noise)" in computing.measured
    assert "processes+fork+mp 2.62x (above 2 cores: not believed)" in computing.measured
    assert computing.use == "processes"
    apart = [r for r in doc.results if r.model == "processes" and r.job == "cpu-bound"]
    assert not overlap(
        [r for r in apart if r.params["workers"] == 4], [r for r in apart if r.params["workers"] == 1]
    )
