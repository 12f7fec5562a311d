"""pipeline: messages through each model's own queue, each delivered exactly once and in order."""

from __future__ import annotations

import dataclasses
import time

import psutil
import pytest

import lab
from lab.demos import DEMOS
from lab.demos.pipeline import delivered, pipeline_metrics, shares
from lab.errors import InvalidParameter
from lab.models.base import Measured
from tests.conftest import Variant


def test_every_message_arrives_once_and_in_order_in_every_model(each_unlocked: Variant) -> None:
    # Two producers and three consumers contend for one queue; dask's is the scheduler's (a round
    # trip per put and get), so it carries fewer.
    messages = 100 if each_unlocked.model == "dask" else 900
    r = each_unlocked.run("pipeline", producers=2, consumers=3, messages=messages, size="1kB")
    assert r.error is None
    assert r.outputs_ok, "a message was lost, taken twice or out of its producer's order"
    assert r.params["workers"] == 5 and r.params["size"] == 1000
    metrics = r.metrics
    assert metrics is not None
    assert 1 <= metrics["peak_depth"] <= messages
    assert 0 <= metrics["latency_p50_s"] <= metrics["latency_p99_s"] <= r.elapsed_s
    assert metrics["messages_per_s"] == pytest.approx(messages / r.elapsed_s, rel=0.01)


def test_fewer_workers_than_stages_still_delivers_everything() -> None:
    # Producers come first: with one thread, the producer puts everything, then the consumers take it.
    r = lab.run("pipeline", "threads", producers=2, consumers=2, messages=50, workers=1)
    assert r.error is None and r.outputs_ok and r.metrics is not None and r.metrics["peak_depth"] == 50


def measured(outputs: list[object]) -> Measured:
    return Measured(outputs=outputs, counter=None, elapsed_s=1.0, startup_s=0.0)


def test_the_check_catches_a_lost_a_doubled_and_a_reordered_message() -> None:
    demo, params = DEMOS["pipeline"], {"producers": 1, "consumers": 2, "messages": 4, "rounds": 0, "size": 1}
    assert shares(4, 2) == [2, 2] and shares(5, 3) == [2, 2, 1]
    good = [4, ([(0, 0, 0.0, 0.05), (0, 2, 0.2, 0.25)], 0), ([(0, 1, 0.1, 0.15), (0, 3, 0.3, 0.35)], 0)]
    assert delivered(demo, params, measured(good))
    doubled = [4, ([(0, 0, 0.0, 0.1), (0, 2, 0.2, 0.3)], 0), ([(0, 1, 0.1, 0.2), (0, 2, 0.3, 0.4)], 0)]
    lost = [4, ([(0, 0, 0.0, 0.1), (0, 2, 0.2, 0.3)], 0), ([(0, 1, 0.1, 0.2)], 0)]
    reordered = [4, ([(0, 2, 0.2, 0.3), (0, 0, 0.0, 0.1)], 0), ([(0, 1, 0.1, 0.2), (0, 3, 0.3, 0.4)], 0)]
    for bad in (doubled, lost, reordered):
        assert not delivered(demo, params, measured(bad))
    metrics = pipeline_metrics(params, measured(good))
    assert metrics is not None and metrics["peak_depth"] == 1  # each taken before the next was put
    assert metrics["latency_p50_s"] == pytest.approx(0.05)


def test_the_cpu_work_on_each_message_is_checked() -> None:
    r = lab.run("pipeline", "processes", producers=1, consumers=2, messages=20, rounds=1000)
    assert r.error is None and r.outputs_ok
    params = {"producers": 1, "consumers": 1, "messages": 1, "rounds": 1000, "size": 1}
    assert not delivered(DEMOS["pipeline"], params, measured([1, ([(0, 0, 0.0, 0.1)], 0)]))  # work skipped


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"size": "1XB"}, "size must be a byte count like 100000, 1MB or 10MiB"),
        ({"size": "17MiB"}, "size must be from 0 to 16,777,216 bytes, not '17MiB'"),
        ({"producers": 0}, "producers must be from 1 to 1000, not 0"),
        ({"messages": "many"}, "messages must be a whole number, not 'many'"),
    ],
)
def test_bad_parameters_are_refused_with_their_name(params: dict[str, object], says: str) -> None:
    with pytest.raises(InvalidParameter, match=says):
        lab.run("pipeline", "threads", **params)


@pytest.mark.parametrize("model", ["threads", "processes"])
def test_a_consumer_with_nothing_to_take_ends_at_the_runs_timeout(
    model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A process's kit waits on its queue without a deadline (the parent kills its workers when
    # the run's timeout passes); a thread's waits at most the timeout. Either way the run ends,
    # with the timeout's error, and leaves no worker behind.
    starved = dataclasses.replace(DEMOS["pipeline"], name="starved", items=lambda p: (("get", 0, 1, 0),))
    monkeypatch.setitem(DEMOS._loaded(), "starved", starved)
    before = {c.pid for c in psutil.Process().children(recursive=True)}  # the suite's server, cluster
    began = time.perf_counter()
    r = lab.run("starved", model, timeout=1.0)
    assert r.error is not None
    assert "timed out after 1 s" in r.error or "no message on the queue.Queue for 1 s" in r.error, r.error
    assert time.perf_counter() - began < 20 * 1.0  # a hang would never end: 20 of its own timeouts
    assert not [c for c in psutil.Process().children(recursive=True) if c.pid not in before
                and c.is_running() and c.status() != psutil.STATUS_ZOMBIE]  # fmt: skip
