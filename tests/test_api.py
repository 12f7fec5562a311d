"""The library API: lab.run, lab.run_trials, the studies (run_models, sweep, races), lab.demos,
lab.models, Result, exports."""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
from pathlib import Path

import pytest

import lab
import lab.errors


def test_demos_and_models_are_described() -> None:
    assert list(lab.list_demos()) == [
        "pool-map", "serial-counter", "racy-counter", "locked-counter",
        "cpu-bound", "http-get", "mixed", "pipeline", "transfer", "deadline",
    ]  # fmt: skip
    assert list(lab.list_models()) == ["asyncio", "threads", "processes", "interpreters", "dask"]
    assert all(isinstance(d, str) and d for d in [*lab.list_demos().values(), *lab.list_models().values()])


def test_run_returns_an_immutable_result() -> None:
    r = lab.run("pool-map", "threads", sleep=0.1)
    assert isinstance(r, lab.Result) and r.outputs_ok
    assert r.elapsed_s is not None and r.elapsed_s >= 0.1 - 0.002  # at least its one wait
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.elapsed_s = 0  # type: ignore[misc]
    with pytest.raises(TypeError):
        r.params["sleep"] = 1  # type: ignore[index]


def test_run_trials_numbers_its_trials() -> None:
    results = lab.run_trials("locked-counter", "asyncio", trials=3, warmup=True, increments=5)
    assert [r.trial for r in results] == [1, 2, 3]
    assert all(r.timing["warmup"] and r.timing["clock"] == "time.perf_counter" for r in results)


def test_result_round_trips_through_a_dict() -> None:
    r = lab.run("racy-counter", "asyncio", increments=3)
    assert lab.Result.from_dict(r.to_dict()) == r


def test_all_is_complete_and_sorted() -> None:
    public = {name for name in dir(lab) if not name.startswith("_") and name[0].isupper()}
    assert public <= set(lab.__all__)
    assert lab.__all__ == sorted(lab.__all__)


def test_errors_form_one_hierarchy() -> None:
    for name in ("InvalidParameter", "UnknownName", "Unavailable", "BadResultsFile"):
        assert issubclass(getattr(lab, name), lab.LabError)
    assert issubclass(lab.InvalidParameter, ValueError) and issubclass(lab.UnknownName, LookupError)


def test_the_library_calls_keep_their_names_once_their_modules_are_loaded() -> None:
    # The markdown package was `lab/report/`: importing it (as `lab.report(...)` itself does)
    # made `lab.report` the package, and a second call failed with "'module' object is not callable".
    import lab.render  # noqa: PLC0415

    for name in ("report", "publish", "run", "run_trials", "bench"):
        assert callable(getattr(lab, name)), name
    assert callable(lab.report) and lab.report.__module__ == "lab.reporting"


def test_each_study_is_a_call_that_returns_a_results_file(tmp_path: Path) -> None:
    run = lab.run_models("pool-map", ["threads", "asyncio", "threads"], trials=2, sleep=0.01, tasks=2)
    assert run.run.kind == "run" and [r.variant for r in run.results] == ["threads"] * 2 + ["asyncio"] * 2
    every = lab.run_models("pool-map", sleep=0.01, tasks=2, workers=100)  # above processes' 64
    assert {"asyncio", "threads"} <= {r.model for r in every.results} and "processes" not in {
        r.model for r in every.results
    }
    assert {"variant": "processes", "reason": "processes runs at most 64 workers"} in every.run.skipped
    swept = lab.sweep("pool-map", [1, 2], ["threads"], trials=1, sleep=0.01, tasks=2)
    raced = lab.races([1, 10], ["threads"], trials=2, every_variant=False)
    assert (swept.run.kind, len(swept.sweeps), raced.run.kind, len(raced.races)) == ("sweep", 2, "races", 4)
    for doc, title in (
        (run, "# lab run: pool-map"),
        (swept, "# lab sweep: pool-map"),
        (raced, "# lab races"),
    ):
        published = lab.publish(doc, tmp_path)  # each kind in its own view, from its JSON as written
        assert published.markdown.read_text().startswith(title)
        assert lab.publish(lab.ResultsFile.load(published.json), tmp_path / "again").markdown.read_text() == (
            published.markdown.read_text()
        )
    with pytest.raises(lab.UnknownName, match=r"valid: asyncio, .*, all"):
        lab.run_models("pool-map", ["thread"])
    with pytest.raises(lab.InvalidParameter, match="workers must be 1 or more, not 0"):
        lab.sweep("pool-map", [0, 2])


def test_ctrl_c_stops_a_study_with_what_it_measured() -> None:
    # Ctrl-C, as the terminal sends it, 1.5 s into a sweep whose points take 0.3 s each.
    timer = threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(lab.StudyInterrupted) as stopped:
            lab.sweep("pool-map", [1, 2, 3, 4, 5, 6], ["threads"], trials=3, sleep=0.1, tasks=3)
    finally:
        timer.cancel()
    doc = stopped.value.partial
    assert isinstance(doc, lab.ResultsFile) and doc.run.partial and doc.run.interrupted == "by Ctrl-C"
    assert 1 <= len(doc.sweeps) < 18 and stopped.value.status == 130
