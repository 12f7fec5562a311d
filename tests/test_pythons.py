"""`lab report --python`: finding interpreters, describing their builds, one merged report."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from lab.cli import main
from lab.errors import InvalidParameter
from lab.results import ResultsFile
from lab.studies import pythons
from tests.conftest import command_of


def probe(**fields: object) -> str:
    base = {"python": "3.13.0", "implementation": "CPython", "free_threaded": False, "gil_enabled": True,
            "executable": "/x/python"}  # fmt: skip
    return json.dumps({**base, **fields})


def test_a_free_threaded_build_is_recognised_without_having_one() -> None:
    assert pythons.parse(probe())["label"] == "3.13.0"
    free = pythons.parse(probe(free_threaded=True, gil_enabled=False))
    assert free["label"] == "3.13.0t" and free["free_threaded"] and not free["gil_enabled"]
    assert pythons.parse(probe(free_threaded=True, gil_enabled=True))["label"] == "3.13.0t (GIL on)"
    assert pythons.parse(probe(implementation="PyPy", python="3.11.9"))["label"] == "PyPy 3.11.9"


def test_this_interpreter_describes_itself() -> None:
    info = pythons.current()
    assert info["implementation"] == "CPython" and info["label"].startswith(info["python"])
    assert isinstance(info["free_threaded"], bool) and isinstance(info["gil_enabled"], bool)


def test_an_unknown_python_is_one_line_and_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InvalidParameter):
        pythons.find("3.99")
    assert main(["report", "--python", "3.99", "--demos", "pool-map"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no Python '3.99' found" in err


def available(version: str) -> bool:
    try:
        pythons.find(version)
    except InvalidParameter:
        return False
    return True


MISSING = [v for v in ("3.12", "3.13") if not available(v)]


@pytest.mark.skipif(bool(MISSING), reason=f"Python {', '.join(MISSING)} not installed here (pyenv or PATH)")
def test_one_report_across_two_pythons(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["report", "--python", "3.12", "--python", "3.13", "--scale", "smoke", "--demos", "pool-map",
            "--models", "threads", "--trials", "1", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    [js] = tmp_path.glob("lab-report-smoke-pythons-*.json")
    doc = ResultsFile.load(js)
    labels = {r.python["label"][:4] for r in doc.results if r.python}
    assert labels == {"3.12", "3.13"} and [p["label"][:4] for p in doc.run.pythons] == ["3.12", "3.13"]
    assert {r.variant.split("@")[0] for r in doc.results} == {"threads"}
    text = js.with_suffix(".md").read_text()
    assert "## Interpreters side by side" in text and "threads@3.12" in text and "threads@3.13" in text


@pytest.mark.skipif("3.12" in MISSING, reason="Python 3.12 not installed here (pyenv or PATH)")
def test_sigterm_keeps_what_the_running_python_measured(tmp_path: Path) -> None:
    from tests.test_hardening import catches_sigterm, descendants, start_lab  # noqa: PLC0415

    argv = ["report", "--python", "3.12", "--scale", "article", "--demos", "serial-counter", "pool-map",
            "--models", "threads", "--trials", "1", "--out", str(tmp_path)]  # fmt: skip
    lab_process = start_lab(*argv)
    try:
        deadline = time.monotonic() + 300  # the environment may have to be made first
        while time.monotonic() < deadline:
            other = [p for p in descendants(lab_process.pid) if "report" in command_of(p)]
            if other and catches_sigterm(other[0].pid):
                break
            time.sleep(0.1)
        time.sleep(2)  # serial-counter is in; pool-map waits its 5 s
        lab_process.send_signal(signal.SIGTERM)  # to the lab alone: it passes it on
        _, err = lab_process.communicate(timeout=60)
    finally:
        if lab_process.poll() is None:  # a failure must not leave the lab and its Python running
            os.killpg(lab_process.pid, signal.SIGKILL)
    assert lab_process.returncode == 143, err
    [js] = tmp_path.glob("*.json")
    doc = ResultsFile.load(js)
    assert doc.run.partial and any(r.demo == "serial-counter" for r in doc.results), err
    assert all(r.python and r.python["label"].startswith("3.12") for r in doc.results)


def test_an_entry_point_keeps_the_environment_and_a_dependency_remakes_it() -> None:
    here = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    stamp = pythons.dependencies_stamp(here.encode())
    plugged = here.replace(
        '[project.entry-points."lab.demos"]\n', '[project.entry-points."lab.demos"]\nx = "y:Z"\n'
    )
    assert plugged != here and pythons.dependencies_stamp(plugged.encode()) == stamp  # re-pointed only
    needs = here.replace("dependencies = [\n", 'dependencies = [\n    "six",\n', 1)
    assert needs != here and pythons.dependencies_stamp(needs.encode()) != stamp  # made anew
    renamed = here.replace('name = "concurrency-lab"', 'name = "other-lab"')
    assert renamed != here and pythons.dependencies_stamp(renamed.encode()) != stamp


@pytest.mark.skipif(bool(MISSING), reason=f"Python {', '.join(MISSING)} not installed here (pyenv or PATH)")
def test_a_report_across_pythons_survives_a_kill_of_either_lab(tmp_path: Path) -> None:
    """`kill -9` of the parent ends the child (3.12's report) too; resumed, the child goes on from
    its journal; `kill -9` of that child costs only its trial in progress: resumed again, the
    report is whole (3.13's report then run), with every result 3.12's journal held."""
    from tests.test_hardening import running, start_lab  # noqa: PLC0415

    def trials() -> list[dict[str, Any]]:
        lines = [
            line for p in tmp_path.glob("*.pythons/*/*.journal.jsonl") for line in p.read_text().splitlines()
        ]
        return [
            json.loads(line)["trial"] for line in lines if line.startswith('{"trial"') and line.endswith("}")
        ]

    def child_of(parent: int) -> psutil.Process:
        deadline = time.monotonic() + 300  # the environment may have to be made first
        while time.monotonic() < deadline:
            found = [p for p in psutil.Process(parent).children() if ".pythons" in command_of(p)]
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError("no child lab started")

    def wait_for(count: int, lab_process: Any) -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and lab_process.poll() is None and len(trials()) < count:
            time.sleep(0.02)
        assert lab_process.poll() is None, "the report ended first"

    parent = start_lab("report", "--python", "3.12", "--python", "3.13", "--demos", "pool-map",
                       "--models", "threads", "--out", str(tmp_path), "--quiet")  # fmt: skip
    child = child_of(parent.pid)
    wait_for(3, parent)
    parent.kill()
    parent.communicate()
    assert not [p for p in psutil.wait_procs([child], timeout=5)[1] if running(p)], (
        "the child outlived its lab"
    )
    first = trials()
    again = start_lab("report", "--resume", str(tmp_path), "--quiet")
    child = child_of(again.pid)
    wait_for(len(first) + 3, again)
    child.kill()
    _, err = again.communicate(timeout=60)
    said = err.splitlines()[-1]  # after the progress lines, one line: which Python, and to resume
    assert again.returncode == 2 and said.startswith("lab: error: ") and "lab report --resume" in said, err
    second = trials()
    assert len(second) >= len(first) + 3 and all(t in second for t in first)
    last = start_lab("report", "--resume", str(tmp_path), "--quiet")
    _, err = last.communicate(timeout=300)
    assert last.returncode == 0, err
    [js] = tmp_path.glob("lab-report-quick-pythons-*.json")
    doc = json.loads(js.read_text())
    # Each result as the child journaled it, before the merge said which Python it came from.
    kept = {into: [{**r, "python": None} for r in doc[into]] for into in doc if isinstance(doc[into], list)}
    missing = [t for t in second if {**t["result"], "python": None} not in kept[str(t["into"])]]
    assert not missing, f"{len(missing)} of {len(second)} journaled results are not in the report"
    assert not list(tmp_path.glob("*.journal.jsonl")) and not list(tmp_path.glob("*.pythons"))
    assert not doc["run"]["partial"]
    assert {r["python"]["label"][:4] for r in doc["results"]} == {"3.12", "3.13"}


def test_a_failed_environment_kills_the_others_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Environments are made side by side: one that fails kills the install still running."""
    monkeypatch.setenv("LAB_CACHE", str(tmp_path / "cache"))
    real = Path(os.path.realpath(sys.executable))
    fakes = []
    for name, venv in (("failing", "echo 'no venv module here' >&2; exit 1"), ("slow", "exec sleep 60")):
        fake = tmp_path / name
        # describes itself as the real one does; `-m venv` fails at once or takes a minute
        fake.write_text(f'#!/bin/sh\nif [ "$1" = -m ]; then {venv}; fi\nexec {real} "$@"\n')
        fake.chmod(0o755)
        fakes.append(fake)
    began = time.monotonic()
    with pytest.raises(pythons.EnvironmentFailed, match="no venv module here"):
        pythons.environments(fakes, Path(__file__).parent.parent, "plot")
    assert time.monotonic() - began < 30  # the slow one's minute was not waited out
    # This test's own (the other test worker's processes are not its business), given a moment
    # to be reaped: the kill was sent before `environments` returned.
    slow = [p for p in psutil.Process().children(recursive=True) if command_of(p) == "sleep 60"]
    assert not psutil.wait_procs(slow, timeout=5)[1]
