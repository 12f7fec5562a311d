"""http-get: a real server, verified responses, failures counted, memory per worker, bad input."""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psutil
import pytest

import lab
from lab.cli import main
from lab.http.clients import Target, body
from lab.http.server import LocalServer
from tests.conftest import Variant, command_of


def free_port() -> int:
    """A port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def importing(module: str) -> float:
    """How long a fresh interpreter here takes to import `module`, beyond starting (median of 3)."""

    def took(code: str) -> float:
        begin = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - begin

    return statistics.median(took(f"import {module}") - took("pass") for _ in range(3))


def test_server_starts_answers_and_leaves_nothing_behind() -> None:
    with LocalServer() as server:
        pid, port = server.pid, int(server.url.rsplit(":", 1)[1])
        assert pid is not None and psutil.pid_exists(pid)
        # Entered means serving: a run's clock starts with the server past its start-up. It used to
        # print its URL before importing uvicorn, and a run's first requests waited for the import
        # (85-90 ms here, against 1-2 ms once serving): compared with that import on this machine.
        begin = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /3?latency=0&size=4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 200")
        first = time.perf_counter() - begin
        r = lab.run("http-get", "threads", requests=5, workers=2, latency=0.0, server=server.url)
        assert r.correct and r.observed == 5
    assert first < importing("uvicorn") / 3
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0  # the port is closed again


def test_every_variant_fetches_and_verifies(each_unlocked: Variant) -> None:
    r = each_unlocked.run("http-get", requests=30, workers=5, latency=0.01)
    assert r.error is None and r.correct and r.observed == r.expected == 30 and r.outputs_ok
    assert r.ideal_s == pytest.approx(0.06)
    assert r.metrics is not None and r.metrics["requests_per_s"] > 0
    assert 0.01 <= r.metrics["latency_p50_s"] <= r.metrics["latency_p99_s"]
    assert r.memory is not None and r.memory["peak_bytes"] >= r.memory["baseline_bytes"] > 0


@pytest.mark.parametrize("client", ["httpx"])
@pytest.mark.parametrize("model", ["asyncio", "threads", "processes"])
def test_one_library_in_every_model(model: str, client: str) -> None:
    r = lab.run("http-get", model, client=client, requests=20, workers=4, latency=0.0)
    assert r.correct and r.options["client"] == "httpx"


@pytest.mark.timed
def test_all_models_reach_the_ideal_with_generous_margins(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "http-get", "--model", "all", "--requests", "200", "--latency", "0.05", "--workers", "50"]
    assert main([*argv, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["model"] for r in rows} == {"asyncio", "threads", "processes"}  # dask runs at most 32
    for row in rows:
        assert row["correct"] and row["observed"] == 200 and row["ideal_s"] == pytest.approx(0.2)
        # 50 allowed in flight: on average at least 5 were (about 25 here), a ratio within the run
        # that a slower or busier machine keeps, where a time limit did not (a CI machine took 2.4 s
        # for what takes 0.4-0.8 s here); benchmarks/alone.py measures the lab against hand-written code.
        assert row["ideal_s"] <= row["elapsed_s"] and row["metrics"]["in_flight_mean"] >= 5, row


@pytest.mark.timed
def test_ten_thousand_requests_in_flight_in_asyncio() -> None:
    r = lab.run("http-get", "asyncio", requests=10_000, workers=10_000, latency=1.0)
    assert r.error is None and r.observed == 10_000 and r.correct
    # At least the one wait, with thousands of requests in flight on average (a ratio within the run).
    assert r.elapsed_s is not None and r.elapsed_s >= 1.0 and r.metrics is not None
    assert r.metrics["in_flight_mean"] >= 1000, r.metrics


class WrongBody(BaseHTTPRequestHandler):
    """A server that answers every request with the right length but someone else's bytes."""

    def do_GET(self) -> None:
        content = body(999_999, 2000)
        self.send_response(200)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def wrong_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), WrongBody)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("model", ["asyncio", "threads", "processes"])
def test_verification_catches_a_wrong_body(model: str, wrong_server: str) -> None:
    r = lab.run("http-get", model, requests=6, workers=2, latency=0.0, server=wrong_server)
    assert r.observed == 0 and r.correct is False and r.elapsed_s is not None
    assert r.metrics is not None and r.metrics["failures"] == {"wrong body": 6}
    assert r.error == "6 of 6 requests failed: wrong body x6"


def test_verify_names_what_is_wrong() -> None:
    target = Target("http://127.0.0.1:1", 0.0, 4)
    assert target.verify(7, 200, b"7|7|") == ""
    assert target.verify(7, 200, b"8|8|") == "wrong body"
    assert target.verify(7, 200, b"7|7") == "wrong length"
    assert target.verify(7, 503, b"7|7|") == "status 503"


@pytest.mark.parametrize("model", ["asyncio", "threads", "processes"])
def test_a_refused_connection_is_a_recorded_error(model: str) -> None:
    r = lab.run("http-get", model, requests=4, workers=2, server=f"http://127.0.0.1:{free_port()}")
    assert r.observed == 0 and r.error == "4 of 4 requests failed: refused x4"


def test_refused_on_the_command_line_is_status_1_without_traceback() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    argv = ["run", "http-get", "--model", "threads", "--server", url, "--requests", "3"]
    done = subprocess.run(
        [sys.executable, "-m", "lab", *argv], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1 and "refused x3" in done.stdout and "Traceback" not in done.stderr


@pytest.fixture
def lab_serve() -> Iterator[str]:
    """`lab serve` in its own process, as a user would start it; its URL."""
    process = subprocess.Popen([sys.executable, "-m", "lab", "serve"], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    yield line.split()[3].rstrip(":")
    process.terminate()
    assert process.wait(10) == 143  # SIGTERM's documented status
    process.stdout.close()


def test_a_server_the_lab_did_not_start(lab_serve: str) -> None:
    assert main(["run", "http-get", "--server", lab_serve, "--requests", "20", "--workers", "5",
                 "--latency", "0.01"]) == 0  # fmt: skip
    r = lab.run("http-get", "processes", server=lab_serve, requests=10, latency=0.0)
    assert r.correct and r.params["server"] == lab_serve


def test_lab_serve_on_a_port_in_use_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert main(["serve", "--port", str(s.getsockname()[1])]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot listen on 127.0.0.1:" in err and "Address already in use" in err


def test_too_few_open_files_names_ulimit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resource, "getrlimit", lambda _: (1024, 1024))
    monkeypatch.setattr(resource, "setrlimit", lambda *_: None)
    with pytest.raises(lab.InvalidParameter, match=r"at most 1024: raise the limit with `ulimit -n 10064`"):
        lab.run("http-get", "asyncio", workers=10_000, requests=10_000)


def test_memory_per_waiting_worker_orders_the_models() -> None:
    per_worker = {}
    for model, workers in (("asyncio", 2000), ("threads", 500), ("processes", 16)):
        r = lab.run("pool-map", model, workers=workers, tasks=workers, sleep=0.5)
        assert r.memory is not None
        per_worker[model] = r.memory["per_worker_bytes"]
    assert per_worker["asyncio"] < per_worker["threads"] < per_worker["processes"], per_worker


def test_a_sweep_skips_what_a_model_cannot_run(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["sweep", "http-get", "--workers", "1,100", "--models", "processes", "--requests", "4",
            "--latency", "0", "--trials", "1", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "skipped: processes at 100 workers: processes runs at most 64 workers" in out
    doc = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert doc["run"]["skipped"] == [
        {"variant": "processes", "workers": 100, "reason": "processes runs at most 64 workers"}
    ]
    assert [r["params"]["workers"] for r in doc["sweeps"]] == [1]


@pytest.mark.parametrize("model", ["asyncio", "processes"])
def test_ctrl_c_stops_the_run_and_its_server(model: str) -> None:
    argv = ["run", "http-get", "--model", model, "--latency", "2", "--requests", "20", "--workers", "5"]
    process = subprocess.Popen([sys.executable, "-m", "lab", *argv], start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 20
    try:  # a child that has just exited is a zombie for a moment: it has no command line then
        while not any("lab.http.server" in command_of(c) for c in psutil.Process(process.pid).children()):
            assert time.monotonic() < deadline, "the server never started"
            time.sleep(0.05)
        time.sleep(0.5)  # the requests are in flight
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)  # a failing test leaves no lab running for the next
        process.communicate()
        raise
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    _, err = process.communicate(timeout=20)
    assert process.returncode == 130 and err.count("\n") == 1 and "interrupted by Ctrl-C" in err
    # conftest's no_child_left then checks that neither the server nor a worker is left
