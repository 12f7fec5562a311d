"""`lab bench`: the known jobs get their known verdicts; bad input and faults are handled."""

from __future__ import annotations

import json
import os
import signal
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from examples import jobs
from lab.benching import SERIAL, Bench, Row, bench
from lab.benching.verdict import verdict
from lab.cli import main
from lab.errors import BadJob, InvalidParameter, UnknownName
from tests.test_hardening import assert_all_gone, descendants, start_lab

ROOT = Path(__file__).resolve().parent.parent
KEYS = {
    "model",
    "options",
    "workers",
    "elapsed_s",
    "speedup",
    "cpu_cores",
    "memory",
    "outputs_match",
    "error",
}
USER_MODULE = """
import asyncio, threading


def square(item):
    return int(item) ** 2


def boom(item):
    if item == 3:
        raise ValueError("three is bad")
    return item


def hang(item):
    threading.Event().wait()


lam = lambda item: item  # noqa: E731


async def coro(item):
    await asyncio.sleep(0)
    return item
"""


@pytest.fixture
def user_module(tmp_path: Path) -> Path:
    """A folder outside the project holding `userjobs.py`."""
    (tmp_path / "userjobs.py").write_text(textwrap.dedent(USER_MODULE))
    (tmp_path / "broken.py").write_text("import nothing_by_this_name_exists\n")
    return tmp_path


def bench_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict[str, Any]]]:
    """`lab bench ARGV --json` in this process: its status and rows."""
    status = main(["bench", *argv, "--json"])
    return status, json.loads(capsys.readouterr().out)


def rows_of(rows: list[dict[str, Any]], model: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["model"] == model]


def at(rows: list[dict[str, Any]], model: str, workers: int) -> dict[str, Any]:
    [row] = [r for r in rows if r["model"] == model and r["workers"] == workers]
    return row


def retried(attempt: Callable[[], list[dict[str, Any]]], ok: Callable[[list[dict[str, Any]]], bool]) -> Any:
    """A speedup on a shared 2-core VM can meet a moment with one core: try up to three times."""
    for _ in range(3):
        rows = attempt()
        if ok(rows):
            return rows
    return rows


@pytest.fixture(autouse=True)
def in_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # `examples.jobs` is found from the current folder, as for a user


@pytest.mark.timed
def test_pure_python_holds_the_gil_and_processes_scale(capsys: pytest.CaptureFixture[str]) -> None:
    def attempt() -> list[dict[str, Any]]:
        status, rows = bench_json(capsys, "examples.jobs:arithmetic", "--range", "4", "--workers", "1,2",
                                  "--models", "threads", "processes", "--trials", "3")  # fmt: skip
        assert status == 0
        return rows

    # Ratios within one run, with margins that hold with another program keeping a core busy:
    # three runnable programs on two cores leave processes 1.33x and 1.33 cores at best (1.17-1.25x
    # and 1.19-1.32 cores seen), threads one core (the GIL). Medians of 3 trials: serial and threads
    # run at different moments, and one trial each let a moment's core decide (one-trial points
    # failed three tries in a row inside the suite with a core busy); 1.1 still tells 2x from 1x.
    def parallel(rows: list[dict[str, Any]]) -> bool:
        threads = at(rows, "threads", 2)["speedup"]
        return bool(at(rows, "processes", 2)["speedup"] > 1.1 * threads and threads <= 1.3)

    rows = retried(attempt, parallel)
    assert parallel(rows), rows
    assert all(r["outputs_match"] is True and r["error"] is None for r in rows)
    assert all(set(r) >= KEYS for r in rows)
    assert at(rows, "threads", 2)["cpu_cores"] < 1.3  # one core: the GIL
    assert at(rows, "processes", 2)["cpu_cores"] > 1.1 * at(rows, "threads", 2)["cpu_cores"]


@pytest.mark.timed
def test_hashlib_lets_go_of_the_gil_and_threads_scale(capsys: pytest.CaptureFixture[str]) -> None:
    def attempt() -> list[dict[str, Any]]:
        return bench_json(
            capsys, "examples.jobs:digest", "--range", "8", "--workers", "1,2", "--models", "threads"
        )[1]

    # 2 threads on 2 cores; with another program keeping a core busy, 1.33x at best (three
    # runnable threads share two cores) and 1.15x seen. A job that holds the GIL gains nothing
    # (0.82-1.0x), so 1.1 still tells the two apart.
    rows = retried(attempt, lambda rows: at(rows, "threads", 2)["speedup"] >= 1.1)
    assert at(rows, "threads", 2)["speedup"] >= 1.1
    assert at(rows, "threads", 2)["outputs_match"] is True


def test_the_unsafe_job_differs_in_threads_only(capsys: pytest.CaptureFixture[str]) -> None:
    status, rows = bench_json(
        capsys, "examples.jobs:unsafe", "--range", "16", "--workers", "1,4", "--trials", "2"
    )
    assert status == 0
    assert at(rows, "threads", 4)["outputs_match"] is False
    assert at(rows, "threads", 4)["mismatched_trials"] == 2
    assert at(rows, "threads", 1)["outputs_match"] is True  # one thread cannot race itself
    assert all(r["outputs_match"] is True for r in rows_of(rows, "processes"))


@pytest.mark.timed
def test_a_waiting_job_scales_everywhere_with_its_verdict() -> None:
    result = bench(jobs.wait, range(16), async_function=jobs.await_wait, workers=[1, 16], trials=1)
    assert {r.model for r in result.rows} == {SERIAL, "threads", "processes", "asyncio"}
    for model in ("threads", "processes", "asyncio"):
        row = result.row(model, 16)
        assert row is not None and row.speedup is not None and row.speedup > 4, row
        # Waiting takes little CPU. Processes also spend some on their own start (0.3-0.85 cores
        # measured at 16 workers on two cores), so theirs is compared with how many waits overlapped.
        assert row.cpu_cores is not None
        assert row.cpu_cores < (row.speedup / 4 if model == "processes" else 0.8), row
    assert any("waits more than it computes" in line for line in result.verdict)
    assert result.notes == ()  # asyncio ran: no to_thread note
    again = Bench.from_json(result.to_json())
    assert again == result


def test_a_user_module_outside_the_project(
    user_module: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, rows = bench_json(capsys, "userjobs:square", "--range", "4", "--workers", "2", "--trials", "1",
                              "--path", str(user_module), "--start-method", "spawn")  # fmt: skip
    assert status == 0 and all(r["outputs_match"] for r in rows)
    assert at(rows, "processes", 2)["options"]["start_method"] == "spawn"
    items = user_module / "items.txt"
    items.write_text("1\n2\n\n3\n")
    monkeypatch.chdir(user_module)  # and from the current folder, without --path
    status, rows = bench_json(
        capsys, "userjobs:square", "--items", str(items), "--workers", "1", "--trials", "1"
    )
    assert status == 0 and len(rows) == 3


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["nosuchmodule:f", "--range", "2"], "module 'nosuchmodule' not found"),
        (["broken:f", "--range", "2"], "module 'broken' failed to import: ModuleNotFoundError"),
        (["userjobs:nosuch", "--range", "2"], "unknown function in userjobs 'nosuch'; valid: "),
        (["userjobs", "--range", "2"], "expected MODULE:FUNCTION"),
        (["userjobs:coro", "--range", "2"], "is a coroutine function (async def): give it with --async"),
        (["userjobs:square", "--async", "userjobs:square", "--range", "2"], "is not a coroutine function"),
        (["userjobs:square", "--range", "0"], "--range must be a whole number from 1"),
        (["userjobs:square"], "give the items with exactly one of"),
        (["userjobs:square", "--range", "2", "--models", "asyncio"], "model asyncio needs"),
        (["userjobs:square", "--range", "2", "--models", "fibers"], "unknown model 'fibers'"),
        (["userjobs:square", "--range", "2", "--workers", "0"], "workers must be"),
        (["userjobs:square", "--range", "2", "--start-method", "vfork"], "unknown start method 'vfork'"),
        (["userjobs:square", "--items", "/nonexistent/items"], "cannot read --items"),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    argv: list[str], says: str, user_module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", *argv, "--path", str(user_module)]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1, err


def test_an_empty_items_file(user_module: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (user_module / "empty.txt").write_text("\n")
    assert (
        main(
            [
                "bench",
                "userjobs:square",
                "--items",
                str(user_module / "empty.txt"),
                "--path",
                str(user_module),
            ]
        )
        == 2
    )
    assert "gave no items" in capsys.readouterr().err


def test_the_library_raises_documented_errors(user_module: Path) -> None:
    with pytest.raises(BadJob):
        bench(jobs.wait, [])
    with pytest.raises(BadJob):
        bench(jobs.await_wait, [1])
    with pytest.raises(UnknownName):
        bench(jobs.wait, [1], models=["fibers"])
    # A plain function takes none of the kit's primitives: an option that changes one (the
    # deadline's stop signal, the pipeline's queue) does not apply to it, nor names its variants.
    with pytest.raises(InvalidParameter, match="option 'stop' does not apply to model processes"):
        bench(jobs.wait, [1], models=["processes"], options={"processes": {"stop": "terminate"}})
    done = bench(jobs.wait, [0], models=["threads", "processes"], workers=[1], trials=1)
    assert {r.variant for r in done.rows} == {"serial", "threads", "processes+fork+mp"}


def test_an_item_that_raises_is_named_and_every_model_still_runs(
    user_module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, rows = bench_json(capsys, "userjobs:boom", "--range", "5", "--workers", "2", "--trials", "1",
                              "--path", str(user_module))  # fmt: skip
    assert status == 1
    assert {r["model"] for r in rows} == {"serial", "threads", "processes"}
    for row in rows:
        assert row["error"] == "CallFailed: item 3 (3): ValueError: three is bad", row


def test_a_lambda_cannot_go_to_processes_and_the_others_still_run(
    user_module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["bench", "userjobs:lam", "--range", "3", "--workers", "2", "--trials", "1",
                   "--path", str(user_module)])  # fmt: skip
    out = capsys.readouterr().out
    assert status == 1
    assert "processes not run: the function cannot be pickled" in out and "lambda" in out
    result = bench(lambda item: item, range(3), workers=[2], trials=1)
    [processes] = [r for r in result.rows if r.model == "processes"]
    assert processes.error and processes.error.startswith("not run: the function cannot be pickled")
    [threads] = [r for r in result.rows if r.model == "threads"]
    assert threads.error is None and threads.outputs_match is True


def test_a_hanging_function_times_out_with_nothing_left(user_module: Path) -> None:
    started = time.monotonic()
    lab = start_lab("bench", "userjobs:hang", "--range", "2", "--workers", "2", "--trials", "1",
                    "--timeout", "1", "--path", str(user_module), "--json")  # fmt: skip
    out, err = lab.communicate(timeout=30)
    assert lab.returncode == 1, err
    rows = json.loads(out)
    assert all(r["error"].startswith("timed out after 1 s") for r in rows), rows
    assert "abandoned" in at(rows, "threads", 2)["error"] and "abandoned" in at(rows, "serial", 1)["error"]
    assert time.monotonic() - started < 20


def test_ctrl_c_keeps_the_completed_trials(tmp_path: Path) -> None:
    lab = start_lab("bench", "examples.jobs:wait", "--range", "40", "--workers", "1", "--trials", "5",
                    "--out", str(tmp_path), "--models", "processes", cwd=ROOT)  # fmt: skip
    children = descendants(lab.pid, workers=1)
    # Serial's trial is 40 sleeps of 50 ms; a pool worker can be seen before it ends (a child just
    # forked still shows the lab's own command line), so the Ctrl-C waits out the trial itself:
    # 4 s is two trials, and all ten of them would take 20 s.
    time.sleep(4.0)
    os.killpg(lab.pid, signal.SIGINT)
    _, err = lab.communicate(timeout=15)
    assert lab.returncode == 130 and "interrupted by Ctrl-C: kept the completed trials in" in err, err
    [js] = tmp_path.glob("*.json")
    doc = json.loads(js.read_text())
    assert doc["partial"] is True and doc["rows"][0]["trials"] >= 1
    assert "PARTIAL" in next(tmp_path.glob("*.md")).read_text()
    assert_all_gone(children)


def row(model: str, workers: int, speedup: float | None, cpu: float, **more: Any) -> Row:
    """A made-up row, to test the verdict's rules alone (speedup None: it failed)."""
    fields: dict[str, Any] = {"model": model, "options": {}, "workers": workers, "trials": 3,
        "elapsed_s": speedup and 1.0 / speedup, "elapsed_min_s": None, "elapsed_max_s": None, "times": (),
        "speedup": speedup, "efficiency": speedup and speedup / workers, "cpu_cores": cpu, "memory": None,
        "outputs_match": True, "mismatched_trials": 0, "error": None}  # fmt: skip
    return Row(**{**fields, **more})


def test_the_verdict_rules() -> None:
    gil = verdict([row(SERIAL, 1, 1.0, 1.0), row("threads", 2, 1.0, 1.0), row("processes", 2, 1.9, 2.0)], 2)
    assert gil[0].startswith("Fastest: processes at 2 workers: 1.9x (CPU use 2.0 cores)")
    assert "holds the GIL" in gil[1]
    released = verdict([row(SERIAL, 1, 1.0, 1.0), row("threads", 2, 1.9, 2.0)], 2)
    assert "lets go of the GIL" in released[1]
    racy = row("threads", 4, 3.5, 0.2, outputs_match=False, mismatched_trials=3)
    unsafe = verdict([row(SERIAL, 1, 1.0, 0.1), racy, row("processes", 4, 2.5, 0.5)], 2)
    assert unsafe[0].startswith("Fastest: processes")  # a wrong answer is not a fast one
    assert "threads returned different outputs from serial in 3 of 3 trials" in unsafe[-1]
    assert "not thread-safe (processes matched)" in unsafe[-1]
    failed = verdict([row(SERIAL, 1, None, 1.0, error="boom")], 2)
    assert failed == ["Serial failed (boom): there is no baseline, so no speedups."]
