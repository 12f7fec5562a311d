"""Timelines: the records each model makes, the Chrome trace they become, and the pictures."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

import lab
from lab.cli import main
from lab.models import MODELS
from lab.studies import timelines
from tests.conftest import Variant

# The fields the Trace Event Format requires of the two phases the lab writes, and their types.
EVENT_FIELDS: dict[str, dict[str, Any]] = {
    "X": {"name": str, "cat": str, "ph": str, "ts": (int, float), "dur": (int, float), "pid": int, "tid": int,
          "args": dict},
    "M": {"name": str, "ph": str, "pid": int, "tid": int, "args": dict},
}  # fmt: skip


def validate(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Check a trace against the Trace Event Format's rules for the events it uses; its X events."""
    assert set(doc) <= {"traceEvents", "displayTimeUnit", "otherData"} and doc["displayTimeUnit"] in (
        "ms",
        "ns",
    )
    named_processes, named_threads = set(), set()
    for event in doc["traceEvents"]:
        fields = EVENT_FIELDS[event["ph"]]
        for key, kind in fields.items():
            assert isinstance(event[key], kind), (key, event)
        if event["ph"] == "M":
            assert event["name"] in ("process_name", "process_sort_index", "thread_name")
            if event["name"] == "process_name":
                named_processes.add(event["pid"])
            if event["name"] == "thread_name":
                named_threads.add((event["pid"], event["tid"]))
    tasks = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    for e in tasks:
        assert e["ts"] >= 0 and e["dur"] >= 0
        assert e["pid"] in named_processes and (e["pid"], e["tid"]) in named_threads
        assert {"model", "item", "worker"} <= set(e["args"])
    return tasks


def run_cli(tmp_path: Path, *argv: str) -> list[dict[str, Any]]:
    path = tmp_path / "t.json"
    assert main(["run", *argv, "--timeline", str(path)]) == 0
    return validate(json.loads(path.read_text()))


@pytest.mark.timed
def test_pool_map_five_workers_overlap_one_worker_does_not(tmp_path: Path) -> None:
    tasks = run_cli(tmp_path, "pool-map", "--model", "all", "--sleep", "0.2")
    dask = ["dask+local"] if "dask" in lab.list_models() else []
    models = {"asyncio", "threads", "processes+fork+mp", *dask}
    assert len(tasks) == 5 * len(models) and {e["args"]["model"] for e in tasks} == models
    for model in ("asyncio", "threads", "processes+fork+mp"):
        mine = [e for e in tasks if e["args"]["model"] == model]
        assert all(e["dur"] >= 199_000 for e in mine), mine  # each task waits its 0.2 s
        starts = [e["ts"] for e in mine]
        # All five start together: every start falls before the first task ends (they overlap).
        assert max(starts) < min(e["ts"] + e["dur"] for e in mine) and len({e["tid"] for e in mine}) == 5
    one = run_cli(tmp_path, "pool-map", "--model", "all", "--sleep", "0.05", "--workers", "1")
    for model in ("asyncio", "threads", "processes+fork+mp"):
        mine = sorted((e for e in one if e["args"]["model"] == model), key=lambda e: e["ts"])
        assert all(a["ts"] + a["dur"] <= b["ts"] + 1 for a, b in itertools.pairwise(mine))


@pytest.mark.timed
def test_cpu_bound_threads_share_the_gil_processes_do_not(tmp_path: Path) -> None:
    # Shares of CPU, taken within one run: threads take turns on one GIL, so together they never
    # hold much more than one core, however idle the machine; each process runs on a core of its
    # own, a larger share than a thread's. With another program keeping a core busy, a moment can
    # leave the two processes one core between them (both near 0.50, as threads): up to three runs.
    shares = []
    for _ in range(3):
        tasks = run_cli(tmp_path, "cpu-bound", "--model", "all", "--workers", "2", "--tasks", "2")
        threads = [e for e in tasks if e["args"]["model"] == "threads"]
        processes = [e for e in tasks if e["args"]["model"].startswith("processes")]
        a, b = threads
        assert a["ts"] < b["ts"] + b["dur"] and b["ts"] < a["ts"] + a["dur"]  # they overlap in time
        thread_share = [e["args"]["cpu_s"] * 1e6 / e["dur"] for e in threads]
        process_share = [e["args"]["cpu_s"] * 1e6 / e["dur"] for e in processes]
        assert sum(thread_share) < 1.15, threads
        shares.append((thread_share, process_share))
        if min(process_share) > max(thread_share):
            return
    raise AssertionError(f"(threads, processes) CPU shares per task, in three runs: {shares}")


def test_every_variant_records_its_tasks(each_unlocked: Variant) -> None:
    r = each_unlocked.run("racy-counter", workers=3, increments=20, timeline=True)
    assert r.timeline is not None and len(r.timeline) == 3
    assert sorted(t["item"] for t in r.timeline) == [0, 1, 2] and {t["lane"] for t in r.timeline} == {0, 1, 2}
    assert all(0 <= t["start_s"] <= t["end_s"] for t in r.timeline)
    assert all((t["cpu_s"] is None) == (each_unlocked.model == "asyncio") for t in r.timeline)
    # (Off unless asked: test_demos.py checks it on every variant's pool-map record.)


def test_records_survive_the_json_round_trip() -> None:
    r = lab.run("pool-map", "threads", sleep=0.01, timeline=True)
    again = lab.Result.from_dict(json.loads(json.dumps(r.to_dict())))
    assert again == r and again.timeline is not None and len(again.timeline) == 5


def test_lab_timeline_writes_a_picture_and_a_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["timeline", "pool-map", "--sleep", "0.05", "--out", str(tmp_path)]) == 0
    [png], [trace] = tmp_path.glob("*.png"), tmp_path.glob("*.trace.json")
    assert png.read_bytes()[:4] == b"\x89PNG" and len(validate(json.loads(trace.read_text()))) == 5 * len(
        MODELS.runnable()
    )
    assert "ui.perfetto.dev" in capsys.readouterr().out


def test_bad_timeline_use_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["timeline", "serial-counter"]) == 2
    assert main(["run", "pool-map", "--timeline", "/proc/nowhere/t.json"]) == 2
    with pytest.raises(lab.InvalidParameter, match="timeline must be True or False"):
        lab.run("pool-map", "threads", timeline="yes")
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "runs in no model" in err[0] and "cannot write" in err[1]


def test_cpu_share_and_clock() -> None:
    assert timelines.cpu_share({"start_s": 0.0, "end_s": 2.0, "cpu_s": 1.0}) == 0.5
    assert timelines.cpu_share({"start_s": 0.0, "end_s": 2.0, "cpu_s": None}) is None
    assert "MONOTONIC" in timelines.clock() or "mach" in timelines.clock() or "Query" in timelines.clock()
