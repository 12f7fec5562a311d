"""Adding a model is one class with a `start`: a sequential model, registered for the test (the
entry point a package would declare is tested in test_plugin.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import partial
from typing import Any, ClassVar

import pytest

import lab
from lab.cli import main
from lab.demos import Demo, not_a_demo, parameters
from lab.models import MODELS, Model, Work, Workers
from lab.models import threads as reuse
from lab.models.tasks import Counter, timed
from lab.params import Param
from lab.studies.scales import SCALES
from lab.studies.suite import plan_suite


class CallerWorkers(Workers):
    """No workers at all: the calling thread maps every item, one after the other."""

    def __init__(self, task: Any, shared: reuse.Shared) -> None:
        self.task, self.shared = task, shared

    def map(self, items: Sequence[Any], record: bool) -> list[Any]:
        return [timed(self.task, item) if record else self.task(item) for item in items]

    def counter(self) -> int:
        return self.shared.counter.value


class InCaller(Model):
    """Runs every task in the calling thread, one after the other: no concurrency at all."""

    name: ClassVar[str] = "in-caller"
    description: ClassVar[str] = "every task in the calling thread, one after the other"
    max_workers: ClassVar[int] = 1_000

    @contextmanager
    def start(self, work: Work) -> Iterator[CallerWorkers]:
        lock = threading.Lock() if work.locked else nullcontext()
        shared = reuse.Shared(Counter(), lock, threading.Barrier(1))  # nobody else to wait for
        yield CallerWorkers(
            partial(reuse.TASKS[work.task], sleep=work.sleep, fault=work.fault, shared=shared), shared
        )


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(MODELS, InCaller.name, InCaller)  # the one registry line


@pytest.mark.usefixtures("registered")
def test_a_new_model_runs_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    assert "in-caller" in lab.list_models()
    r = lab.run("pool-map", "in-caller", tasks=3, sleep=0.02)
    assert r.outputs_ok and r.elapsed_s is not None and r.elapsed_s >= 0.06 - 0.002
    assert lab.run("racy-counter", "in-caller", increments=100).correct  # no overlap, no race
    assert main(["run", "locked-counter", "--model", "in-caller", "--increments", "10"]) == 0
    assert "in-caller" in capsys.readouterr().out
    runs, _ = plan_suite(SCALES["quick"], ["pool-map"])
    assert any(run.variant.model == "in-caller" for run in runs)


def test_a_demo_declares_each_parameter_it_takes_once() -> None:
    def build(**fields: Any) -> Demo:
        return Demo("mine", "a test", fields.pop("defaults"), "call", lambda p: (), **fields)

    assert not_a_demo(build(defaults={"tasks": 1, "depth": 2})) == (
        "takes depth but declares none of them (Demo.params)"
    )
    clash = build(defaults={"size": 1}, params=(Param("size", "int", "mine", "s"),))
    assert not_a_demo(clash) == (
        "declares its own size, a parameter lab.params.PARAMS declares as another kind"
    )
    wider = build(defaults={"size": 1}, params=(Param("size", "bytes", "mine", "s", high=2**40),))
    assert not_a_demo(wider) is None and wider.param("size").check("1GiB") == 2**30  # its own bounds
    assert not_a_demo(build(defaults={}, kit=True, function=len)) == (
        "takes a kit (Demo.kit) but lacks a function or its coroutine twin (asyncio's kit is awaited)"
    )
    own = build(defaults={"depth": 2}, params=(Param("depth", "int", "levels", "d", low=1),))
    assert not_a_demo(own) is None and own.param("depth").check(3) == 3 and own.param("tasks").name == "tasks"
    assert {"producers", "consumers", "messages", "size"} <= set(parameters())  # pipeline's own, and shared
