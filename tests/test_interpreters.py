"""The interpreters model: subinterpreters with their own GIL (PEP 734), on Python 3.12+.

On this project's machines the lab's own Python is 3.11, where the model is unavailable: the
first tests check that it says so in one line. The others run where it is available: `.ci/run`
runs this file under `python3.13` (pyenv's) with the backport installed from the `test` extra.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import lab
from lab.cli import main
from lab.models.interpreters import Interpreters

WHY = Interpreters.unavailable({})
needs = pytest.mark.skipif(WHY is not None, reason=WHY or "")


@pytest.mark.skipif(WHY is None, reason="the model runs here")
def test_unavailable_is_one_line_naming_the_python_it_needs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "pool-map", "--models", "interpreters"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "3.12" in err and "concurrency-lab[interpreters]" in err
    assert main(["run", "pool-map", "--sleep", "0", "--json"]) == 0  # --models all leaves it out
    out, err = capsys.readouterr()
    assert "interpreters" not in {r["model"] for r in json.loads(out)} and "needs Python 3.12" in err


@needs
def test_every_demo_runs_and_each_teaches_its_lesson() -> None:
    pool = lab.run("pool-map", "interpreters", sleep=0.2)
    assert pool.error is None and pool.outputs_ok and pool.elapsed_s is not None
    assert pool.ideal_s is not None and pool.ideal_s - 0.002 <= pool.elapsed_s  # five waits overlap
    # No yield point needed: they run at once. Not always: with both cores busy (two test workers
    # here) each interpreter can finish its count inside one time slice (seen 2 in 40), so retried.
    losses = []
    for _ in range(5):
        raced = lab.run("racy-counter", "interpreters", workers=4, increments=50_000, yield_point="none")
        losses.append(raced.lost)
        if raced.lost:
            break
    assert raced.lost is not None and raced.lost > 0, losses
    locked = lab.run_trials("locked-counter", "interpreters", 5, workers=4, increments=200)
    assert [r.observed for r in locked] == [800] * 5
    fetched = lab.run("http-get", "interpreters", requests=20, workers=4, latency=0.01)
    assert fetched.error is None and fetched.correct and fetched.observed == 20


@needs
def test_cpu_bound_runs_in_parallel_where_threads_take_turns() -> None:
    # Ratios within one run, retried: a shared 2-core machine can meet a moment with one core.
    ratios = []
    for _ in range(3):
        one = min(r.elapsed_s or 0 for r in lab.run_trials("cpu-bound", "interpreters", 3, workers=1,
                                                             tasks=4, rounds=1_000_000))  # fmt: skip
        two = min(r.elapsed_s or 0 for r in lab.run_trials("cpu-bound", "interpreters", 3, workers=2,
                                                             tasks=4, rounds=1_000_000))  # fmt: skip
        ratios.append(one / two)
        if ratios[-1] > 1.3:
            return
    raise AssertionError(f"one worker / two workers: {ratios}")


@needs
def test_a_timeline_shows_each_interpreter_on_a_core() -> None:
    # Each task's share of its time on a CPU, against threads' in the same moment: threads take
    # turns on one GIL (about 0.5 each on 2 cores), interpreters each have their own (about 1.0;
    # about 0.67 with another program keeping a core busy, where threads fall to about 0.33).
    # A host that lends its second core elsewhere (steal) gives every model one core for a while:
    # up to six moments; after one that fails, processes' share says if it had two cores to give.
    def share(model: str) -> float:
        r = lab.run("cpu-bound", model, workers=2, tasks=2, rounds=1_000_000, timeline=True)
        assert r.timeline is not None and len(r.timeline) == 2
        if model == "interpreters":
            assert {t["worker"].split()[0] for t in r.timeline} == {"interpreter"}
        return float(min(t["cpu_s"] / (t["end_s"] - t["start_s"]) for t in r.timeline))

    seen: list[tuple[float, float, float]] = []
    for _ in range(6):
        mine, threads = share("interpreters"), share("threads")
        if mine > 1.3 * threads:
            break
        seen.append((round(mine, 2), round(threads, 2), round(share("processes"), 2)))
    assert mine > 1.3 * threads, f"(interpreters, threads, processes) shares: {seen}"


@needs
def test_faults_raise_hang_and_exit(capsys: pytest.CaptureFixture[str]) -> None:
    raised = lab.run("pool-map", "interpreters", sleep=0.01, fault="raise")
    assert raised.error == "InjectedFault: injected fault: the task raised"
    # A hung interpreter's thread cannot be stopped: in a process of its own, as a user runs it
    # (the command line then ends with os._exit; here it would keep pytest from exiting).
    argv = [sys.executable, "-m", "lab", "run", "pool-map", "--models", "interpreters", "--sleep", "0.01",
            "--fault", "hang", "--timeout", "1", "--json"]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    [hung] = json.loads(done.stdout)
    assert done.returncode == 1 and "timed out after 1 s" in hung["error"], done.stderr
    assert "could not be stopped" in hung["error"]
    assert main(["run", "pool-map", "--models", "interpreters", "--fault", "exit"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ends the whole process" in err


# Every task raises at once, so the first error reaches the pool while the other threads are
# still on their way out of `exec`. Closing an interpreter in that moment aborted CPython 3.13
# ("Py_EndInterpreter: not the last thread": within 15 such runs, every time tried): in a
# process of its own, so that an abort fails this test, not pytest.
FAILING_RUNS = """
import lab
for _ in range(15):
    r = lab.run("pool-map", "interpreters", sleep=0, fault="raise", workers=8, tasks=16)
    assert r.error is not None and "InjectedFault" in r.error, r.error
"""


@needs
def test_a_failing_run_closes_each_interpreter_once_its_thread_is_out() -> None:
    done = subprocess.run([sys.executable, "-c", FAILING_RUNS], capture_output=True, text=True, timeout=300,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]


USER = """
import psutil  # refuses to load in a subinterpreter

def square(x):
    return x * x
"""

WRAPPING = """
try:
    import psutil
except ImportError as exc:  # numpy's words, in a message that starts with blank lines
    raise ImportError("\\n\\nIMPORTANT: PLEASE READ THIS FOR ADVICE ON HOW TO SOLVE THIS ISSUE!\\n") from exc

def square(x):
    return x * x
"""


@needs
def test_bench_names_a_module_that_refuses_and_still_runs_the_others(tmp_path: Path) -> None:
    (tmp_path / "refusing.py").write_text(textwrap.dedent(USER))
    (tmp_path / "fine.py").write_text("def square(x):\n    return x * x\n")
    argv = [sys.executable, "-m", "lab", "bench", "refusing:square", "--range", "4", "--workers", "1,2",
            "--trials", "1", "--path", str(tmp_path), "--json"]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    mine = [r for r in rows if r["model"] == "interpreters"]
    assert mine and all("psutil" in r["error"] and "subinterpreter" in r["error"] for r in mine), mine
    assert all(r["error"] is None for r in rows if r["model"] in ("threads", "processes"))
    argv[4] = "wrapping:square"  # as numpy does: the refusal is the cause of an error that says little
    (tmp_path / "wrapping.py").write_text(textwrap.dedent(WRAPPING))
    rows = json.loads(subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False).stdout)
    mine = [r for r in rows if r["model"] == "interpreters"]
    named = ("psutil does not load in a subinterpreter", "PLEASE READ")
    assert mine and all(all(words in r["error"] for words in named) for r in mine), mine
    argv[4] = "fine:square"
    rows = json.loads(subprocess.run(argv, capture_output=True, text=True, timeout=300, check=True).stdout)
    assert all(r["error"] is None and r["outputs_match"] for r in rows if r["model"] == "interpreters")


def in_main(x: int) -> int:
    return x * x


in_main.__module__ = "__main__"  # as if defined in a script: no other interpreter can import it


@needs
def test_a_function_that_cannot_be_imported_is_explained_not_a_hang() -> None:
    main_module = lab.bench(in_main, range(4), workers=[1], models=["interpreters"], trials=1)
    [row] = [r for r in main_module.rows if r.model == "interpreters"]
    assert row.error is not None and ("__main__" in row.error or "pickled" in row.error), row.error
    local = lambda x: x  # noqa: E731
    lambdas = lab.bench(local, range(4), workers=[1], models=["interpreters"], trials=1)
    assert any("not run" in (r.error or "") for r in lambdas.rows if r.model == "interpreters")


@needs
def test_each_implementation_runs_where_it_exists_and_says_why_where_not(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 3.12-3.13: the backport only; 3.14: the standard library's, and the backport if installed.
    ran = 0
    for implementation in ("stdlib", "backport"):
        why = Interpreters.unavailable({"implementation": implementation})
        argv = ["run", "racy-counter", "--models", "interpreters", "--implementation", implementation,
                "--workers", "2", "--increments", "200000", "--yield-point", "none", "--json"]  # fmt: skip
        if why:
            assert main(argv) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and why in err
            assert (
                ("3.14" in why)
                if implementation == "stdlib"
                else ("backport" in why or "concurrency-lab[interpreters]" in why)
            )
        else:
            assert main(argv) == 0
            [row] = json.loads(capsys.readouterr().out)
            assert row["options"]["implementation"] == implementation and row["observed"] < row["expected"]
            ran += 1
    assert ran >= 1
