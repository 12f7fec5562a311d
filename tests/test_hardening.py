"""Bad input, injected faults, killed workers, Ctrl-C and SIGTERM: the lab stays clear and clean."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

import lab
from lab.cli import main
from lab.models import MODELS
from tests.conftest import Variant

# "Promptly": well inside the 20 s (or forever) that a hang would last, and loose enough for a
# machine several times slower than the one these ran on (0.5-2 s here).
PROMPTLY_S = 10

BAD_INPUTS = [
    (["run", "pool-mop"], "unknown demo 'pool-mop'; valid: pool-map"),
    (["run", "pool-map", "--model", "thread"], "did you mean 'threads'"),
    (["run", "pool-map", "--loop", "uvlop"], "unknown loop 'uvlop'; valid: asyncio, uvloop"),
    (["run", "pool-map", "--start-method", "spwan"], "did you mean 'spawn'"),
    (["run", "locked-counter", "--lock", "mgr"], "unknown lock 'mgr'; valid: mp, manager"),
    (["run", "pool-map", "--fault", "boom"], "unknown fault 'boom'; valid: raise, exit, hang"),
    (["run", "pool-map", "--workers", "0"], "workers must be from 1 to"),
    (["run", "pool-map", "--workers", "2.5"], "expected a whole number, not '2.5'"),
    (["run", "pool-map", "--model", "processes", "--workers", "65"], "workers must be from 1 to 64, not 65"),
    (["run", "pool-map", "--tasks", "-1"], "tasks must be 0 or more, not -1"),
    (["run", "pool-map", "--sleep", "-1"], "sleep must be a finite number of seconds"),
    (["run", "pool-map", "--sleep", "nan"], "not nan"),
    (["run", "pool-map", "--sleep", "inf"], "not inf"),
    (["run", "racy-counter", "--increments", "-3"], "increments must be 0 or more, not -3"),
    (["run", "pool-map", "--trials", "0"], "trials must be 1 or more, not 0"),
    (["run", "pool-map", "--timeout", "0"], "timeout must be"),
    (["run", "pool-map", "--increments", "3"], "parameter 'increments' does not apply to pool-map"),
    (["run", "pool-map", "--model", "threads", "--loop", "uvloop"], "'loop' does not apply"),
    (["run", "pool-map", "--model", "asyncio", "--fault", "exit"], "fault 'exit' kills a worker process"),
    (["report", "--trials", "0", "--demos", "serial-counter"], "trials must be 1 or more"),
    (["report", "--demos", "pool-mop"], "unknown demo 'pool-mop'"),
    (["report", "--models", "fibers"], "unknown model 'fibers'"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["run", "http-get", "--latency", "-1"], "latency must be a finite number of seconds, 0 or more, not -1"),
    (["run", "http-get", "--server", "localhost:8080"], "server must be a URL like http://127.0.0.1:8080"),
    (["run", "http-get", "--server", "http://127.0.0.1:99999"], "not 'http://127.0.0.1:99999'"),
    (["run", "http-get", "--server", "ftp://x"], "server must be a URL like"),
    (["run", "http-get", "--requests", "0"], "requests must be from 1 to 1000000, not 0"),
    (["run", "http-get", "--size", "-5"], "size must be from 0 to"),
    (["run", "http-get", "--client", "urllib"], "unknown client 'urllib'; valid: aiohttp, httpx"),
    (
        ["run", "http-get", "--model", "threads", "--client", "aiohttp"],
        "unknown client 'aiohttp'; valid: requests, httpx",
    ),
    (["run", "pool-map", "--client", "httpx"], "parameter 'client' does not apply to pool-map"),
    (["run", "pool-map", "--latency", "1"], "parameter 'latency' does not apply to pool-map"),
    (["serve", "--port", "70000"], "port must be from 0 to 65535 (0: any free port), not 70000"),
    (["serve", "--host", "256.1.1.1"], "cannot listen on 256.1.1.1:0"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_INPUTS, ids=[" ".join(a) for a, _ in BAD_INPUTS])
def test_bad_input_is_one_line_and_status_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("lab: error: ") and captured.err.count("\n") == 1
    assert message in captured.err and captured.out == ""


def test_bad_input_in_a_real_process_has_no_traceback() -> None:
    done = subprocess.run([sys.executable, "-m", "lab", "run", "pool-map", "--sleep", "nan"],
                          capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_unavailable_variant_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("multiprocessing.get_all_start_methods", lambda: ["spawn"])
    with pytest.raises(lab.Unavailable, match="start method 'fork' is not available on this platform"):
        lab.run("pool-map", "processes", start_method="fork")


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"workers": 0}, lab.InvalidParameter),
        ({"sleep": float("nan")}, ValueError),
        ({"loop": "tokio"}, lab.UnknownName),
        ({"tasks": "5"}, lab.InvalidParameter),
        ({"colour": "blue"}, lab.InvalidParameter),
    ],
)
def test_library_raises_documented_errors(params: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        lab.run("pool-map", "asyncio", **params)
    assert isinstance(caught.value, lab.LabError)
    with pytest.raises(LookupError):
        lab.run("no-such-demo", "asyncio")


def test_a_raising_task_is_recorded_not_raised(each: Variant) -> None:
    r = each.run("pool-map", sleep=0.01, fault="raise")
    assert r.error == "InjectedFault: injected fault: the task raised"
    assert r.elapsed_s is None and r.outputs_ok is None


def test_cli_goes_on_after_a_failing_model_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "pool-map", "--sleep", "0", "--fault", "raise", "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    here = [name for name, m in MODELS.items() if m.unavailable(m.default_options()) is None]
    assert [r["model"] for r in rows] == here
    assert all(r["error"] for r in rows)


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_a_dying_worker_is_reported_fast(method: str) -> None:
    started = time.monotonic()
    r = lab.run("pool-map", "processes", start_method=method, sleep=0.01, fault="exit")
    assert r.error is not None and r.error.startswith("a worker process died")
    assert time.monotonic() - started < PROMPTLY_S


@pytest.mark.parametrize(("model", "options"), [("asyncio", {}), ("asyncio", {"loop": "uvloop"}),
                                                ("processes", {"start_method": "spawn"})])  # fmt: skip
def test_a_hanging_task_times_out_and_is_cleaned_up(model: str, options: dict[str, str]) -> None:
    started = time.monotonic()
    r = lab.run("locked-counter", model, fault="hang", timeout=0.5, **options)
    assert r.error == "timed out after 0.5 s (see --timeout)"
    assert time.monotonic() - started < PROMPTLY_S


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_timeout_with_tasks_still_queued_prints_no_thread_traceback(method: str) -> None:
    # Executor.map cancels the queued futures when it times out; killing the workers afterwards
    # made 3.11's pool thread raise InvalidStateError on them (gh-107219) and print a traceback,
    # sometimes after the run had returned: hence a subprocess, and its whole stderr.
    code = (
        "import lab\n"
        "for _ in range(3):\n"
        f"    r = lab.run('pool-map', 'processes', start_method={method!r}, workers=2, tasks=40,\n"
        "                chunksize=1, sleep=0.2, timeout=0.3)\n"
        "    print(r.error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.splitlines() == ["timed out after 0.3 s (see --timeout)"] * 3
    assert done.stderr == ""


def test_a_hung_thread_does_not_keep_the_lab_from_exiting() -> None:
    # In a subprocess: a hung thread cannot be killed, and would keep pytest itself from exiting.
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "lab", "run", "pool-map", "--model", "threads", "--fault", "hang",
         "--timeout", "0.5", "--sleep", "0", "--json"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 1 and json.loads(done.stdout)[0]["error"].startswith("timed out")
    assert time.monotonic() - started < PROMPTLY_S


STARTED: list[subprocess.Popen[str]] = []


def start_lab(*argv: str, cwd: Path | None = None) -> subprocess.Popen[str]:
    """`lab ARGV` in its own process group, as a terminal would run a foreground job (with Ctrl-C's
    default disposition: see `conftest.pytest_configure`)."""
    process = subprocess.Popen([sys.executable, "-m", "lab", *argv], start_new_session=True, cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    STARTED.append(process)
    return process


@pytest.fixture(autouse=True)
def kill_what_a_failed_test_left() -> Iterator[None]:
    """A failing test must not leave its lab running, or every later test would fail for it."""
    yield
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            pytest.fail(f"lab was still running after the test: {process.args!r}")


def descendants(pid: int, workers: int = 0, within: float = 10.0) -> list[psutil.Process]:
    """The process's descendants, once `workers` of them are not the stdlib's long-lived helpers.

    First waits until the lab's command is running (its SIGTERM handler is set): a slow machine can
    still be importing when a fixed sleep ends, and a signal then would test the interpreter instead.
    """
    deadline = time.monotonic() + within
    while not catches_sigterm(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    while True:
        found: list[psutil.Process] = psutil.Process(pid).children(recursive=True)
        if len(pool_workers(pid, found)) >= workers or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def catches_sigterm(pid: int) -> bool:
    """True once the process has a SIGTERM handler (Linux's /proc; elsewhere, after two seconds)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        if sys.platform.startswith("linux"):
            return True  # exited already: nothing to wait for
        time.sleep(2)
        return True
    caught = next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught, 16) >> (signal.SIGTERM - 1) & 1)


def pool_workers(pid: int, processes: list[psutil.Process]) -> list[psutil.Process]:
    """The processes that are not the lab's own resource tracker or forkserver."""
    helpers = ("resource_tracker", "forkserver")
    found = []
    for p in processes:
        try:
            if p.ppid() != pid or not any(h in " ".join(p.cmdline()) for h in helpers):
                found.append(p)
        except psutil.Error:  # exited (or a zombie) meanwhile: not a worker to wait for
            continue
    return found


def assert_all_gone(processes: list[psutil.Process]) -> None:
    """Every process has exited (zombies count as gone: only their parent's reaping is left)."""
    alive = psutil.wait_procs(processes, timeout=3)[1]
    assert not [p for p in alive if running(p)], [p.pid for p in alive]


def running(process: psutil.Process) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        return bool(process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def test_a_worker_killed_from_outside_is_detected() -> None:
    lab_process = start_lab("run", "pool-map", "--model", "processes", "--sleep", "20", "--tasks", "2",
                            "--workers", "2")  # fmt: skip
    workers = pool_workers(lab_process.pid, descendants(lab_process.pid, workers=2))
    time.sleep(0.5)
    workers[0].kill()
    started = time.monotonic()
    out, _ = lab_process.communicate(timeout=15)
    assert lab_process.returncode == 1 and "a worker process died" in out
    assert time.monotonic() - started < PROMPTLY_S
    assert_all_gone(workers)


@pytest.mark.parametrize(
    ("signum", "status", "argv", "wait_for"),
    [
        (signal.SIGINT, 130, ["pool-map", "--model", "processes", "--start-method", "forkserver"], 2),
        (
            signal.SIGINT,
            130,
            ["locked-counter", "--model", "processes", "--lock", "manager", "--sleep", "20"],
            3,
        ),
        (signal.SIGINT, 130, ["pool-map", "--model", "threads"], 0),
        (signal.SIGTERM, 143, ["pool-map", "--model", "asyncio", "--loop", "uvloop"], 0),
        (signal.SIGTERM, 143, ["pool-map", "--model", "processes", "--start-method", "spawn"], 2),
    ],
    ids=["int-forkserver", "int-manager", "int-threads", "term-uvloop", "term-spawn"],
)
def test_lab_run_stops_cleanly_on_a_signal(signum: int, status: int, argv: list[str], wait_for: int) -> None:
    lab_process = (
        start_lab("run", *argv, "--sleep", "20") if "--sleep" not in argv else start_lab("run", *argv)
    )
    children = descendants(lab_process.pid, workers=wait_for)
    time.sleep(0.5)
    started = time.monotonic()
    if signum == signal.SIGINT:
        os.killpg(lab_process.pid, signum)  # what a terminal's Ctrl-C does: the whole group
    else:
        lab_process.send_signal(signum)
    _, err = lab_process.communicate(timeout=15)
    assert time.monotonic() - started < PROMPTLY_S
    assert lab_process.returncode == status
    assert err.strip().count("\n") == 0 and "interrupted by" in err and "Traceback" not in err
    assert_all_gone(children)


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_lab_report_keeps_what_it_measured(signum: int, status: int, tmp_path: Path) -> None:
    lab_process = start_lab("report", "--scale", "article", "--out", str(tmp_path), "--quiet",
                            "--demos", "serial-counter", "pool-map", "--models", "processes")  # fmt: skip
    children = descendants(lab_process.pid, workers=5)  # the serial result is in; pool-map is running
    time.sleep(0.5)
    os.killpg(lab_process.pid, signum) if signum == signal.SIGINT else lab_process.send_signal(signum)
    _, err = lab_process.communicate(timeout=15)
    assert lab_process.returncode == status and "(marked partial)" in err
    [js] = tmp_path.glob("*.json")
    doc = json.loads(js.read_text())
    assert doc["run"]["partial"] is True and {r["demo"] for r in doc["results"]} == {"serial-counter"}
    [md] = tmp_path.glob("*.md")
    assert "PARTIAL REPORT" in md.read_text().split("\n\n")[1]
    assert not list(tmp_path.glob(".*"))  # no temporary file left
    assert_all_gone(children)


# Stress: 8 workers x 3,000 increments over 2 trials (48,000 locked increments; each trial starts
# its pool afresh, under spawn ~1 s and for dask ~3 s, so more trials cost more than they find).
# Two variants take a smaller count, or the suite would take minutes: threads (~90 us per locked
# increment: the sleep(0) yield inside the lock hands the GIL to threads that then queue on the
# lock) and the manager lock (~80-120 us: a socket round trip per acquire and per release).
# Measured figures are in docs/demos.md.
def stress_size(each: Variant) -> int:
    if each.model == "dask":
        return 10  # ~3 ms per locked increment: the lock and the Variable live in the scheduler
    if each.model == "interpreters":
        return 200  # a waiting interpreter polls the token queue every 10 ms (the backport's Queue.get)
    return 400 if each.model == "threads" else 150 if each.options.get("lock") == "manager" else 3_000


def test_stress_locked_counter_is_always_exact(each: Variant) -> None:
    # 8 x 3,000 locked increments, each with a yield inside the lock, are 24,000 chances for a
    # broken lock to lose one, in each of two trials. A cluster of 8 worker processes starts in
    # ~4 s (6 s with a core busy), and 8 spawned or forkserver workers each import the lab (~1 s
    # a pool): where each trial starts so (`starts_slowly`), one trial of twice the increments
    # gives the lock as many chances. (The racy counter's losses: every variant, test_demos.py.)
    trials = 1 if each.starts_slowly else 2
    increments = stress_size(each) * (3 - trials)
    results = each.run_trials("locked-counter", trials=trials, workers=8, increments=increments)
    assert [r.observed for r in results] == [8 * increments] * trials
    assert all(r.correct and r.error is None for r in results)


def test_bookkeeping_loses_nothing_over_50_trials(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["run", "locked-counter", "--model", "asyncio", "--trials", "50", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["trial"] for r in rows] == list(range(1, 51)) and all(r["correct"] for r in rows)
    argv = ["report", "--trials", "50", "--out", str(tmp_path), "--quiet", "--demos", "serial-counter",
            "locked-counter", "--models", "asyncio"]  # fmt: skip
    assert main(argv) == 0
    [js] = tmp_path.glob("*.json")
    results = json.loads(js.read_text())["results"]
    assert len(results) == 50 * 2  # serial and asyncio (the quick scale shows uvloop where it waits)
    assert "50/50" in next(tmp_path.glob("*.md")).read_text()


def numpy_like(x: int) -> int:
    """Fails as numpy's import does in a subinterpreter: a message that starts with blank lines,
    raised from the error that says what went wrong."""
    try:
        raise ImportError("module fake._core does not support loading in subinterpreters")
    except ImportError as exc:
        raise ImportError("\n\nIMPORTANT: PLEASE READ THIS\nmore advice\n") from exc


def says_nothing(x: int) -> int:
    raise RuntimeError


def test_an_exception_in_one_line_keeps_its_words_and_where_it_came_from() -> None:
    from lab.errors import first_raised, in_one_line  # noqa: PLC0415

    with pytest.raises(ImportError) as caught:
        numpy_like(0)
    assert in_one_line(caught.value) == (
        "ImportError: IMPORTANT: PLEASE READ THIS (raised from "
        "ImportError: module fake._core does not support loading in subinterpreters)"
    )
    assert in_one_line(RuntimeError()) == "RuntimeError (with no message)"
    assert in_one_line(ValueError("one\ntwo")) == "ValueError: one"
    formatted = "".join(__import__("traceback").format_exception(caught.value))
    root = "ImportError: module fake._core does not support loading in subinterpreters"
    assert first_raised(formatted) == root
    assert first_raised("no traceback here") is None


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_an_error_from_a_worker_keeps_its_type_message_and_cause(method: str) -> None:
    models = ["threads", "processes"] + (["dask"] if MODELS["dask"].unavailable({}) is None else [])
    done = lab.bench(numpy_like, range(2), workers=[1], models=models, trials=1,
                     options={"processes": {"start_method": method}})  # fmt: skip
    rows = [r for r in done.rows if r.model != "serial"]
    assert {r.model for r in rows} == set(models)
    for r in rows:
        assert r.error is not None and "\n" not in r.error, r
        assert "ImportError: IMPORTANT: PLEASE READ THIS" in r.error, r.error
        assert "module fake._core does not support loading in subinterpreters" in r.error, r.error
    silent = lab.bench(says_nothing, range(2), workers=[1], models=["processes"], trials=1)
    assert all("RuntimeError (with no message)" in (r.error or "") for r in silent.rows), silent.rows


def children_named(pid: int, words: str) -> list[psutil.Process]:
    """The descendants of `pid` whose command line holds `words` (all of them, if `words` is "")."""
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if words in " ".join(child.cmdline()):
                found.append(child)
    return found


@pytest.mark.parametrize("moment", ["forkserver", "spawn_main"])  # among forkserver's workers, spawn's
def test_no_child_outlives_a_lab_killed_with_sigkill(moment: str, tmp_path: Path) -> None:
    lab_process = start_lab("report", "--out", str(tmp_path), "--quiet", "--models", "threads", "processes")
    deadline = time.monotonic() + 150
    while (time.monotonic() < deadline and lab_process.poll() is None
           and len(children_named(lab_process.pid, moment)) < 2):  # fmt: skip
        time.sleep(0.02)
    children = children_named(lab_process.pid, "")
    assert lab_process.poll() is None and len(children) >= 2, f"the report ended before {moment}"
    lab_process.kill()  # SIGKILL: no handler runs, nothing is cleaned up by the lab itself
    lab_process.wait()
    alive = psutil.wait_procs(children, timeout=5)[1]
    assert not [p for p in alive if running(p)], [" ".join(p.cmdline())[:80] for p in alive if running(p)]


def test_a_report_killed_three_times_resumes_whole_and_leaves_no_child(tmp_path: Path) -> None:
    """One report killed with SIGKILL during its runs, then (resumed) during its races, then
    (resumed again) while its charts are drawn (the chart pool): each time nothing of it is alive
    5 s later and its journal holds what it had measured; resumed a last time, the report is
    whole, with every result any of the journals held."""
    small = ["--demos", "racy-counter", "--models", "threads", "processes"]  # ~12 s in all

    def journaled() -> list[dict[str, Any]]:
        # A line still being written is not one yet: only those that end with their newline.
        lines = [
            line for path in tmp_path.glob("*.journal.jsonl") for line in path.read_text().split("\n")[:-1]
        ]
        return [json.loads(line)["trial"] for line in lines if line.startswith('{"trial"')]

    def races(trials: list[dict[str, Any]]) -> int:
        return sum(t["into"] == "races" for t in trials)

    moments: dict[str, Callable[[int], bool]] = {
        "the runs": lambda pid: len(journaled()) >= 5 and len(children_named(pid, "")) >= 2,
        # Races measured by this run, beyond those a killed one journaled (a first kill that came
        # late, the machine loaded, may already hold some: 49 trials, two cores busy).
        "the races": lambda pid: races(journaled()) >= max(5, races(held) + 2),
        "publishing": lambda pid: bool(list(tmp_path.glob("*.png"))),
    }
    held: list[dict[str, Any]] = []
    for moment, reached in moments.items():
        argv = ["--resume", str(tmp_path)] if held else ["--out", str(tmp_path), *small]
        lab_process = start_lab("report", "--quiet", *argv)
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and lab_process.poll() is None and not reached(lab_process.pid):
            time.sleep(0.02)
        children = children_named(lab_process.pid, "")
        assert lab_process.poll() is None, f"the report ended before {moment}"
        lab_process.kill()  # SIGKILL: no handler runs, nothing is cleaned up by the lab itself
        lab_process.wait()
        alive = [p for p in psutil.wait_procs(children, timeout=5)[1] if running(p)]
        assert not alive, (moment, [" ".join(p.cmdline())[:80] for p in alive])
        now = journaled()
        assert len(now) > len(held) and all(t in now for t in held), moment
        held = now
    resumed = start_lab("report", "--resume", str(tmp_path), "--quiet")
    _, err = resumed.communicate(timeout=150)
    assert resumed.returncode == 0, err
    [path] = tmp_path.glob("lab-report-*.json")
    doc = json.loads(path.read_text())
    assert not doc["run"]["partial"] and not list(tmp_path.glob("*.journal.jsonl"))
    missing = [t for t in held if t["result"] not in doc[t["into"]]]
    assert not missing, f"{len(missing)} of {len(held)} journaled results are not in the report"
    # Killed while publishing, it had measured everything: the last resume measured nothing more.
    trials = sum(len(doc[k]) for k in ("results", "timelines", "noise", "races"))
    assert trials + len([r for r in doc["sweeps"] if r not in doc["results"]]) == len(held)
    assert path.with_suffix(".md").exists() and len(list(tmp_path.glob("*.png"))) >= 2


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_a_ctrl_c_another_thread_receives_is_held_back_too(method: str) -> None:
    """A thread started before the window has SIGINT open (as numpy's OpenBLAS threads do, started
    when `distributed` is imported): a Ctrl-C the kernel hands it must still wait for the window's end."""
    import threading  # noqa: PLC0415

    from lab.signals import sigint_deferred  # noqa: PLC0415

    stop = threading.Event()
    open_thread = threading.Thread(target=stop.wait, daemon=True)
    open_thread.start()
    ident = open_thread.ident
    assert ident is not None
    reached_the_end: list[bool] = []

    def window() -> None:
        with sigint_deferred(method):
            signal.pthread_kill(ident, signal.SIGINT)
            time.sleep(0.2)  # Python runs the handler in the main thread, at once, unless it is held
            reached_the_end.append(True)

    try:
        with pytest.raises(KeyboardInterrupt):
            window()
    finally:
        stop.set()
    assert reached_the_end
