"""The command line, through main(argv) and as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import lab
from lab.cli import main
from lab.models import MODELS


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, object]]:
    assert main([*argv, "--json"]) == 0
    out: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return out


def test_list_names_every_demo_and_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in [*lab.list_demos(), *lab.list_models()]:
        assert name in out


def test_run_all_models_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_json(capsys, "run", "pool-map", "--sleep", "0.05", "--tasks", "4")
    assert [r["model"] for r in rows] == MODELS.runnable()
    fields = {
        "demo",
        "model",
        "options",
        "params",
        "elapsed_s",
        "startup_s",
        "ideal_s",
        "expected",
        "observed",
        "correct",
        "outputs_ok",
        "error",
    }
    for row in rows:
        assert fields <= set(row) and row["outputs_ok"] is True and row["ideal_s"] == 0.05


def test_options_go_to_their_own_model(capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_json(
        capsys,
        "run",
        "locked-counter",
        "--increments",
        "20",
        "--loop",
        "uvloop",
        "--start-method",
        "spawn",
        "--lock",
        "manager",
        "--trials",
        "1",  # what is checked is where each option went: one cluster, one spawned manager
    )
    options = {r["model"]: r["options"] for r in rows}
    assert options == {
        "asyncio": {"loop": "uvloop"},
        "threads": {},
        "processes": {"start_method": "spawn", "lock": "manager"},
        **({"dask": {"scheduler": "local"}} if "dask" in options else {}),
        **({"interpreters": {}} if "interpreters" in options else {}),
    }
    assert len(rows) == len(MODELS.runnable()) and all(r["correct"] for r in rows)


def test_racy_counter_exits_zero_losing_updates(capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_json(capsys, "run", "racy-counter", "--model", "asyncio", "--increments", "50")
    assert rows[0]["observed"] == 50 and rows[0]["correct"] is False


def test_human_table_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "pool-map", "--model", "threads", "--sleep", "0", "--trials", "3"]) == 0
    out = capsys.readouterr().out
    assert "threads" in out and "median s" in out and out.count("pool-map") == 4


def test_serial_counter_runs_once(capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_json(capsys, "run", "serial-counter", "--increments", "10")
    assert len(rows) == 1 and rows[0]["model"] == "serial" and rows[0]["observed"] == 10


@pytest.mark.parametrize("argv", [["run", "--help"], ["--help"]])
def test_help_shows_examples(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(argv)
    assert exit.value.code == 0 and "examples:" in capsys.readouterr().out


def test_python_m_lab_in_a_real_process() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lab",
            "run",
            "pool-map",
            "--model",
            "processes",
            "--start-method",
            "spawn",
            "--sleep",
            "0.1",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)
    assert row["outputs_ok"] and row["options"]["start_method"] == "spawn"


def test_a_closed_pipe_is_not_an_error_of_ours() -> None:
    lab_process = subprocess.Popen([sys.executable, "-m", "lab", "list"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert lab_process.stdout is not None
    lab_process.stdout.close()  # as `lab list | head -0` would
    _, err = lab_process.communicate(timeout=30)
    assert "Traceback" not in err and "BrokenPipeError" not in err
