"""http-get, real network I/O: `requests` GETs against the lab's local HTTP server, `workers` in
flight; each waits `latency` s on the server and brings back `size` verified bytes."""

from __future__ import annotations

import math
import statistics
from typing import Any

from lab.demos.base import AnswerRow, AtScale, Demo, Params, Section, cheap
from lab.models.base import Measured
from lab.models.tasks import verified


def latency_ideal(params: Params) -> float:
    """http-get's ideal: the server's latency alone, `workers` requests at a time."""
    return float(params["latency"]) * math.ceil(int(params["requests"]) / int(params["workers"]))


def requests_count(params: Params) -> int:
    """http-get's: every request sent."""
    return int(params["requests"])


def verified_observed(measured: Measured) -> int:
    """http-get's: the responses verified."""
    return verified(measured.outputs)


def http_metrics(params: Params, measured: Measured) -> dict[str, Any] | None:
    """http-get's requests/s, per-request latency (median, p99), the mean number of requests in
    flight and failures by kind."""
    if not measured.outputs:
        return None
    seconds = sorted(t for _, t in measured.outputs)
    failures: dict[str, int] = {}
    for what, _ in measured.outputs:
        if what:
            failures[what] = failures.get(what, 0) + 1
    return {
        "requests_per_s": round(len(seconds) / measured.elapsed_s, 1) if measured.elapsed_s else None,
        "latency_p50_s": statistics.median(seconds),
        "latency_p99_s": seconds[min(len(seconds) - 1, math.ceil(0.99 * len(seconds)) - 1)],
        # Little's law: the requests' own times over the batch's is how many were in flight on
        # average, whatever the machine's speed; the workers asked for are only the ceiling.
        "in_flight_mean": round(sum(seconds) / measured.elapsed_s, 1) if measured.elapsed_s else None,
        "failures": failures,
    }


def one_request_per_worker(params: Params, workers: int) -> dict[str, Any]:
    """A sweep point: one request per worker (at least the default 160) where the sweep sets no
    `requests`, so that every worker has a request in flight."""
    if params.get("requests") is None:
        return {**params, "workers": workers, "requests": max(DEFAULT_REQUESTS, workers)}
    return {**params, "workers": workers}


DEFAULT_REQUESTS = 160

DEMO = Demo(
    "http-get",
    "real network I/O: `requests` GETs against the lab's local HTTP server, `workers` in flight; "
    "each waits `latency` s on the server and brings back `size` verified bytes",
    {"requests": DEFAULT_REQUESTS, "latency": 0.05, "size": 2000, "workers": 5, "server": None},
    "fetch",
    lambda p: tuple(range(p["requests"])),
    ideal=latency_ideal,
    expected=requests_count,
    observed_by=verified_observed,
    metrics=http_metrics,
    headline=(
        ("requests_per_s", "req/s", ""),
        ("latency_p99_s", "p99", "ms"),
        ("in_flight_mean", "held", ""),
    ),
    scales={
        # Two waves of 20 in flight: httpx's clients take 4-6 times aiohttp's time here (their
        # construction most of it: an SSL context each, about 30 ms), and at 160 requests they
        # alone took 7 s of the report. Its sweep: all 30 in flight at the top (30 processes fork
        # in 0.3 s here, 50 took 0.5 s a trial), cheap models only.
        "quick": AtScale(
            [{"requests": 40, "latency": 0.02, "workers": 20}],
            ({"requests": 30, "latency": 0.005}, (1, 10, 30)),
            cheap,
            # A local cluster's worker processes take about 0.1 s each to start and warm.
            costly="not at the quick scale: 20 worker processes to start per trial "
            "(lab run http-get --model {model} runs it)",
        ),
        # Real Python's 160 pages; 0.09 s each is their synchronous 14.29 s / 160, over the
        # internet. Its sweep: synchronous, one per core, Real Python's 5 threads, and all 160 in
        # flight (asyncio).
        "article": AtScale(
            [{"requests": 160, "latency": 0.09, "workers": 5}],
            ({"requests": 160, "latency": 0.09}, (1, 2, 5, 160)),
        ),
        "smoke": AtScale(
            [{"requests": 10, "latency": 0.001, "workers": 5}],
            ({"requests": 10, "latency": 0.001}, (1, 5)),
            cheap,
        ),
    },
    rank=60,
    sweep_point=one_request_per_worker,
    ceiling=True,
    answers=(AnswerRow("requests in flight", "requests in flight"),),
    section=Section("network", "Network I/O"),
    roles=frozenset({"real python"}),
)
