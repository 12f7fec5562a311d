"""deadline: work stopped on time, each model by its own means (`Workers.halt`). Each stop time is
judged against the same run's own work (a ratio, no absolute limit); cleanup counted; nothing
left behind."""

from __future__ import annotations

import importlib.util
import multiprocessing
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import lab
from lab.cli import main
from lab.errors import LabError
from lab.models.base import THREAD_NAME
from lab.models.interpreters import Interpreters
from lab.render.answer import answers
from lab.results import ResultsFile

TASKS, WORK, DEADLINE = 3, 1.0, 0.1
PAST = WORK - DEADLINE  # what running to the end costs after the deadline


def stop(model: str, kind: str = "sleep", **options: str) -> dict[str, Any]:
    """One run of the demo; its metrics, after checking that it ran and left nothing behind."""
    r = lab.run("deadline", model, tasks=TASKS, work=WORK, deadline=DEADLINE, kind=kind, **options)
    assert r.error is None and r.outputs_ok, r.error
    assert r.metrics is not None
    assert r.metrics["left_behind"] == 0, r.metrics["left_behind_by_kind"]
    assert not [t for t in threading.enumerate() if t.name.startswith(THREAD_NAME)]
    assert not multiprocessing.active_children()
    return {**r.metrics, "elapsed_s": r.elapsed_s}


@pytest.mark.timed
@pytest.mark.parametrize("kind", ["sleep", "cpu"])
def test_cooperative_threads_and_processes_stop_within_a_step_and_clean_up(kind: str) -> None:
    for model in ("threads", "processes"):
        m = stop(model, kind, stop="event")
        assert m["stopped_after_s"] < 0.25 * PAST, (model, m)
        assert m["ended"] == {"stopped": TASKS} and m["cleaned_up"] == TASKS, (model, m)


@pytest.mark.timed
def test_the_bare_thread_pool_waits_out_the_work() -> None:
    m = stop("threads", stop="none")
    assert m["stopped_after_s"] > 0.8 * PAST, m
    assert m["ended"] == {"finished": TASKS} and m["cleaned_up"] == TASKS


@pytest.mark.timed
@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_terminated_processes_stop_at_once_without_cleanup(method: str) -> None:
    m = stop("processes", "cpu", stop="terminate", start_method=method)
    assert m["stopped_after_s"] < 0.5 * PAST, m
    assert m["ended"] == {"terminated": TASKS} and m["cleaned_up"] == 0, m


@pytest.mark.timed
def test_asyncio_cancels_a_wait_at_once_but_not_cpu_work_inline() -> None:
    waits = stop("asyncio")
    assert waits["stopped_after_s"] < 0.25 * PAST, waits
    assert waits["ended"] == {"cancelled": TASKS} and waits["cleaned_up"] == TASKS
    # CPU work that never awaits: the loop runs each task to its end, one after another.
    computes = stop("asyncio", "cpu")
    assert computes["elapsed_s"] > 0.8 * TASKS * WORK, computes
    assert computes["ended"] == {"finished": TASKS} and computes["cleaned_up"] == TASKS


@pytest.mark.timed
def test_a_blocking_get_is_reached_by_cancel_and_terminate_but_not_by_a_stop_event() -> None:
    # One GET the server answers after WORK s: asyncio's cancel and SIGTERM reach it where it
    # waits; a stop event is checked only before the call, so the cooperative variants wait it out.
    cancelled = stop("asyncio", "io")
    assert cancelled["stopped_after_s"] < 0.25 * PAST, cancelled
    assert cancelled["ended"] == {"cancelled": TASKS} and cancelled["cleaned_up"] == TASKS, cancelled
    killed = stop("processes", "io", stop="terminate")
    assert killed["stopped_after_s"] < 0.5 * PAST, killed
    assert killed["ended"] == {"terminated": TASKS} and killed["cleaned_up"] == 0, killed
    for model in ("threads", "processes"):
        waited = stop(model, "io", stop="event")
        assert waited["stopped_after_s"] > 0.8 * PAST, (model, waited)
        assert waited["ended"] == {"finished": TASKS} and waited["cleaned_up"] == TASKS, (model, waited)


@pytest.mark.timed
@pytest.mark.parametrize(
    ("model", "options", "how"),
    [("asyncio", {}, "cancelled"), ("threads", {"stop": "event"}, "stopped"),
     ("processes", {"stop": "event"}, "stopped"), ("processes", {"stop": "terminate"}, "terminated")],
)  # fmt: skip
def test_a_deadline_already_past_stops_the_work_before_it_runs(
    model: str, options: dict[str, str], how: str
) -> None:
    # A deadline at 0 s: the halt comes before the model has started its tasks (asyncio's
    # cancelled nothing then, and the work ran to its end).
    r = lab.run("deadline", model, tasks=TASKS, work=WORK, deadline=0, **options)
    assert r.error is None and r.metrics is not None, r.error
    # Each task's own word (or its model's): stopped, none finished its work. No clock compared
    # with a constant: a busy machine may take long to stop, but not to finish the work instead.
    assert r.metrics["ended"] == {how: TASKS}, r.metrics
    assert r.metrics["left_behind"] == 0, r.metrics


@pytest.mark.timed
@pytest.mark.skipif(importlib.util.find_spec("distributed") is None, reason="needs the dask extra")
def test_dask_runs_a_started_task_to_its_end() -> None:
    m = stop("dask")
    assert m["stopped_after_s"] > 0.8 * PAST and m["cleaned_up"] == TASKS, m


@pytest.mark.timed
def test_interpreters_run_a_started_task_to_its_end() -> None:
    if reason := Interpreters.unavailable({}):
        pytest.skip(reason)
    m = stop("interpreters")
    assert m["stopped_after_s"] > 0.8 * PAST and m["cleaned_up"] == TASKS, m


def workers_alive(within: float) -> list[threading.Thread]:
    """The lab's worker threads still alive after up to `within` seconds (a pool's idle threads
    end just after their last task)."""
    until = time.monotonic() + within
    while (alive := [t for t in threading.enumerate() if t.name.startswith(THREAD_NAME)]) and (
        time.monotonic() < until
    ):
        time.sleep(0.01)
    return alive


@pytest.mark.timed
@pytest.mark.parametrize("model", ["threads", "processes", "asyncio"])
def test_a_timeout_stops_the_work_as_the_deadline_does(model: str) -> None:
    # Past the run's timeout (0.1 s, long before the 0.9 s deadline), each model stops the work
    # by the means the demo measures (`Workers.halt`): cooperative threads end within a step
    # instead of running on, abandoned, to the end of their work.
    began = time.monotonic()
    r = lab.run("deadline", model, tasks=TASKS, work=WORK, deadline=0.9 * WORK, timeout=0.1)
    assert r.error is not None and r.error.startswith("timed out"), r.error
    assert time.monotonic() - began < 0.8 * WORK  # not waited out
    assert not workers_alive(PAST / 3) and not multiprocessing.active_children()


@pytest.mark.timed
def test_a_timeout_cannot_stop_the_bare_thread_pool() -> None:
    r = lab.run("deadline", "threads", tasks=TASKS, work=WORK, deadline=0.9 * WORK, timeout=0.1, stop="none")
    assert r.error is not None and r.error.startswith("timed out"), r.error
    alive = workers_alive(0.1)
    assert len(alive) == TASKS  # abandoned, running on: what the demo shows of the bare pool
    for thread in alive:
        thread.join(2 * WORK)
    assert not workers_alive(0)


def test_a_bad_stop_or_deadline_is_a_lab_error() -> None:
    with pytest.raises(LabError, match="stop"):
        lab.run("deadline", "threads", stop="terminate")
    with pytest.raises(LabError, match="deadline"):
        lab.run("deadline", "threads", deadline=-1)


def test_the_report_has_the_section_and_every_answer_row_and_re_renders_exactly(tmp_path: Path) -> None:
    argv = ["report", "--scale", "smoke", "--out", str(tmp_path / "made"), "--quiet", "--demos", "deadline",
            "--models", "asyncio", "threads"]  # fmt: skip
    assert main(argv) == 0
    [js] = (tmp_path / "made").glob("*.json")
    rows = {a.job.split(" (")[0]: a for a in answers(ResultsFile.load(js)) if a.demo == "deadline"}
    requests = rows.pop("requests that must stop on time")
    assert set(rows) == {"waits that must stop on time", "CPU work that must stop on time"}
    # Two trials a row at this scale may leave verdicts undecided; the order of the stop times
    # cannot be: the bare pool waits out the work (120 ms here), the event stops within a step,
    # and asyncio cannot reach CPU work inline, but cancels a GET where the event cannot.
    assert requests.measured.index("asyncio ") < requests.measured.index("threads+event "), requests
    for row in rows.values():
        assert "threads (stop: event)" in row.use, row
        assert row.measured.index("threads+event ") < row.measured.index("threads+none "), row
        assert "2/2 cleaned up" in row.measured, row
    cpu = rows["CPU work that must stop on time"].measured
    assert cpu.index("threads+event ") < cpu.index("asyncio "), cpu
    [md] = (tmp_path / "made").glob("*.md")
    text = md.read_text()
    assert "## 4. Work that must stop on time (deadline)" in text
    assert "**sleep**: 2 tasks x 0.15 s of sleep, stopped at 0.03 s" in text
    assert "| variant " in text and "| cleaned up " in text and "| left behind " in text
    assert main(["report", "--from", str(js), "--out", str(tmp_path / "again"), "--quiet"]) == 0
    assert (tmp_path / "again" / md.name).read_text() == text
