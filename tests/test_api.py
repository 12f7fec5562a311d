"""The library API: lab.run, lab.run_trials, lab.demos, lab.models, Result, exports."""

from __future__ import annotations

import dataclasses

import pytest

import lab
import lab.errors


def test_demos_and_models_are_described() -> None:
    assert list(lab.demos()) == [
        "pool-map", "serial-counter", "racy-counter", "locked-counter", "cpu-bound", "http-get", "mixed"
    ]  # fmt: skip
    assert list(lab.models()) == ["asyncio", "threads", "processes", "interpreters", "dask"]
    assert all(isinstance(d, str) and d for d in [*lab.demos().values(), *lab.models().values()])


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
