"""Fixtures shared by the tests: every model variant, and a check that no child process is left."""

from __future__ import annotations

import fcntl
import importlib.util
import multiprocessing
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import psutil
import pytest

import lab
from lab.models.interpreters import Interpreters


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C handled as at a terminal, in pytest and so in every process it starts.

    A non-interactive shell starts a background job with SIGINT ignored, and an ignored signal
    stays ignored across exec: the lab started by a Ctrl-C test then never raised
    KeyboardInterrupt, and 9 such tests failed in a backgrounded run while passing in the
    foreground. A handler, unlike SIG_IGN, is reset to the default in a child."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (the suite's default, pyproject.toml): two workers, one where there is one CPU.

    Most of the suite waits (for a child to start, a signal to land, a server to answer), so two
    files at a time take two thirds of the time one at a time does; more would only crowd the
    tests that compare timings, which wait for the others anyway (`alone_when_timed`)."""
    return min(2, os.cpu_count() or 1)


def is_timed(item: pytest.Item | None) -> bool:
    """Whether a test is marked `timed` (it compares timings or CPU use)."""
    return item is not None and item.get_closest_marker("timed") is not None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each file's `timed` tests after its others, in their order: one after another, they take
    the exclusive lock once (`alone_when_timed`) instead of waiting, each, for the other worker's
    test to end (106 s of the workers' time waited so, test by test)."""
    files = {item.path: i for i, item in reversed(list(enumerate(items)))}  # each file's first place
    items.sort(key=lambda item: (files[item.path], is_timed(item)))


NEXT_TIMED = pytest.StashKey[bool]()
HELD: list[IO[str]] = []  # the exclusive lock, kept from a timed test to the next on this worker


def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Note whether the test this worker runs next is timed too (then the lock is kept for it)."""
    item.stash[NEXT_TIMED] = is_timed(nextitem)


@pytest.fixture(autouse=True)
def alone_when_timed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """A test marked `timed` (it compares timings or CPU use) runs while no other test does.

    Under pytest-xdist each test holds a shared lock on a file all workers see, and a `timed`
    test an exclusive one: the timed test waits for the running tests to end, and none starts
    until it has; a timed test followed by another on its worker hands the lock on. A turnstile
    lock, taken by each before its own, keeps a stream of untimed tests from starving a timed
    one. Without workers (`-n 0`) it does nothing."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        yield
        return
    timed = is_timed(request.node)
    if HELD and not timed:  # kept for a timed test that was skipped instead (a skip mark runs no fixture)
        fcntl.flock(HELD[0], fcntl.LOCK_UN)
        HELD.pop().close()
    if HELD:  # the test before, timed too, kept the exclusive lock for this one
        lock = HELD.pop()
    else:
        shared = tmp_path_factory.getbasetemp().parent  # the same folder for every worker of the run
        lock = open(shared / "timed.lock", "a")  # noqa: SIM115 (held beyond this block: HELD)
        with open(shared / "turnstile.lock", "a") as turnstile:
            fcntl.flock(turnstile, fcntl.LOCK_EX)
            fcntl.flock(lock, fcntl.LOCK_EX if timed else fcntl.LOCK_SH)
            fcntl.flock(turnstile, fcntl.LOCK_UN)
    try:
        yield
    finally:
        if timed and request.node.stash.get(NEXT_TIMED, False):
            HELD.append(lock)
        else:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()


@dataclass(frozen=True)
class Variant:
    """A model with its options, as the library's `run` takes them."""

    model: str
    options: dict[str, Any]

    def run(self, demo: str, **params: Any) -> Any:
        return lab.run(demo, self.model, **self.options, **params)

    def run_trials(self, demo: str, trials: int, **params: Any) -> Any:
        return lab.run_trials(demo, self.model, trials, **self.options, **params)

    @property
    def starts_slowly(self) -> bool:
        """Whether each run starts fresh interpreters (spawn, forkserver: 0.4-0.9 s) or a cluster:
        tests that repeat a run give these fewer trials."""
        return self.model == "dask" or self.options.get("start_method") in ("spawn", "forkserver")


NO_UVLOOP = importlib.util.find_spec("uvloop") is None
NO_DASK = importlib.util.find_spec("distributed") is None
METHODS = multiprocessing.get_all_start_methods()


def variant(model: str, id: str, **options: str) -> Any:
    """A pytest param for a variant, skipped (not replaced) where the platform lacks it."""
    marks = []
    if options.get("loop") == "uvloop" and NO_UVLOOP:
        marks.append(pytest.mark.skip(reason="uvloop is not installed"))
    if model == "dask" and NO_DASK:
        marks.append(
            pytest.mark.skip(reason="the dask extra is not installed: pip install 'concurrency-lab[dask]'")
        )
    if model == "interpreters" and (why := Interpreters.unavailable(options)):
        marks.append(pytest.mark.skip(reason=why))
    if options.get("start_method", METHODS[0]) not in METHODS:
        marks.append(pytest.mark.skip(reason=f"no start method {options['start_method']} here"))
    return pytest.param(Variant(model, options), id=id, marks=marks)


VARIANTS = [
    variant("asyncio", "asyncio"),
    variant("asyncio", "asyncio+uvloop", loop="uvloop"),
    variant("threads", "threads"),
    variant("processes", "processes+fork", start_method="fork"),
    variant("processes", "processes+spawn", start_method="spawn"),
    variant("processes", "processes+forkserver", start_method="forkserver"),
    variant("processes", "processes+fork+manager", start_method="fork", lock="manager"),
    variant("processes", "processes+spawn+manager", start_method="spawn", lock="manager"),
    variant("dask", "dask"),
    variant("interpreters", "interpreters+stdlib", implementation="stdlib"),
    variant("interpreters", "interpreters+backport", implementation="backport"),
]


@pytest.fixture(params=VARIANTS)
def each(request: pytest.FixtureRequest) -> Variant:
    """Every model and variant: asyncio (two loops), threads, processes (start methods, locks), dask."""
    variant: Variant = request.param
    return variant


@pytest.fixture(params=[v for v in VARIANTS if "lock" not in v.values[0].options])
def each_unlocked(request: pytest.FixtureRequest) -> Variant:
    """Every variant but the lock kinds: for demos where nothing locks, the kind changes nothing."""
    variant: Variant = request.param
    return variant


# Helpers the stdlib keeps for the life of the parent process, by design, and that end with it.
LONG_LIVED = ("resource_tracker", "forkserver")


def command_of(process: psutil.Process) -> str:
    """A process's command line, or "" once it has exited or is a zombie (a short-lived child of
    the lab's, or a pip run during set-up, comes and goes while a test looks)."""
    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""


def lab_children() -> list[psutil.Process]:
    """This test process's descendants, but for the stdlib's long-lived helpers."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if not any(name in " ".join(child.cmdline()) for name in LONG_LIVED):
                found.append(child)
        except psutil.NoSuchProcess:
            pass
    return found


@pytest.fixture(autouse=True)
def no_child_left() -> Iterator[None]:
    """After every test: no pool worker, manager or lab subprocess of the test is still running."""
    yield
    left = psutil.wait_procs(lab_children(), timeout=3)[1]
    assert not left, f"child processes left behind: {[p.cmdline() for p in left]}"
    assert not multiprocessing.active_children()
