"""Measuring like a benchmark tool: spreads and warnings, sweeps and charts, the GIL, lock costs."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import lab
from lab.cli import main, show
from lab.measure import memory
from lab.measure.stats import Spread
from lab.models import MODELS
from lab.models.tasks import crunch_rounds
from lab.studies import lock_costs


def test_spread_and_the_unstable_warning() -> None:
    steady = Spread.of([0.100, 0.101, 0.102])
    assert steady is not None and steady.median == 0.101 and not steady.unstable
    noisy = Spread.of([0.100, 0.160, 0.101])
    assert noisy is not None and noisy.unstable and noisy.high / noisy.low > 1.5
    tiny = Spread.of([1e-6, 5e-6])
    assert tiny is not None and tiny.too_short and not tiny.unstable


def test_unstable_rows_are_flagged_in_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    steady = lab.run("pool-map", "threads", sleep=0.01, tasks=1)
    noisy = [lab.Result.from_dict({**steady.to_dict(), "elapsed_s": t, "trial": i})
             for i, t in enumerate((0.01, 0.03, 0.011), 1)]  # fmt: skip
    show(noisy, as_json=False)
    assert "UNSTABLE" in capsys.readouterr().out
    show([steady, steady], as_json=False)
    assert "UNSTABLE" not in capsys.readouterr().out


def test_timing_records_gc_and_warmup() -> None:
    [r] = lab.run_trials("pool-map", "threads", 1, warmup=True, sleep=0)
    assert r.timing == {"clock": "time.perf_counter", "gc": True, "warmup": True, "recorded": False}


def machine_parallelism(rounds: int) -> float:
    """What hand-written stdlib code gets from two processes right now: serial time / parallel time."""
    begin = time.perf_counter()
    for _ in range(4):
        crunch_rounds(rounds)
    serial = time.perf_counter() - begin
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(crunch_rounds, [1, 1]))  # both workers started before the clock
        begin = time.perf_counter()
        list(pool.map(crunch_rounds, [rounds] * 4))
        return serial / (time.perf_counter() - begin)


@pytest.mark.timed
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="parallelism needs two cores")
def test_cpu_bound_only_processes_compute_in_parallel() -> None:
    params: dict[str, Any] = {"tasks": 4, "workers": 2, "rounds": 1_000_000}
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    ratios = []
    # Measured 1.8-1.9x here, about 1.33x with another program keeping one core busy (processes
    # then get two thirds of each core). Up to three attempts, and a skip if even hand-written
    # stdlib code cannot show parallelism at that moment.
    for _ in range(3):
        threads = min(r.elapsed_s or 0 for r in lab.run_trials("cpu-bound", "threads", 3, **params))
        processes = min(r.elapsed_s or 0 for r in lab.run_trials("cpu-bound", "processes", 3, **params))
        ratios.append(threads / processes)
        if ratios[-1] > (1.15 if gil else 0.7):
            return
    if (possible := machine_parallelism(params["rounds"])) < 1.15:
        pytest.skip(f"the machine shows no parallelism now (stdlib processes: {possible:.2f}x)")
    # With a core kept busy, hand-written stdlib processes reached 1.28x while the lab's measured
    # 1.09x: the lab must beat threads and come within 20% of what stdlib code gets right now.
    if gil and max(ratios) > max(1.0, 0.8 * possible):
        return
    raise AssertionError(f"threads / processes: {ratios}; stdlib processes reach {possible:.2f}x")


def test_lock_costs_show_the_manager_and_scheduler_round_trips() -> None:
    costs = lock_costs.measure(MODELS.values())
    names = {"threading.Lock", "asyncio.Lock", "multiprocessing.Lock", "Manager().Lock()"}
    assert set(costs) == names | ({"distributed.Lock"} if "distributed.Lock" in costs else set())
    assert costs["Manager().Lock()"] > 20 * costs["multiprocessing.Lock"]
    if "distributed.Lock" in costs:  # with the dask extra: it lives in the scheduler, milliseconds
        assert costs["distributed.Lock"] > 3 * costs["Manager().Lock()"] > 3 * costs["threading.Lock"]


def test_sweep_writes_markdown_json_and_a_chart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["sweep", "pool-map", "--workers", "1,2,4", "--tasks", "4", "--sleep", "0.02", "--trials", "1",
            "--models", "asyncio", "threads", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    [md] = tmp_path.glob("*.md")
    text = md.read_text()
    assert "efficiency" in text and "| threads   | 4 " in text
    [png] = tmp_path.glob("*.png")
    assert f"]({png.name})" in text and png.read_bytes().startswith(b"\x89PNG")
    doc = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert [r["params"]["workers"] for r in doc["sweeps"]] == [1, 2, 4, 1, 2, 4]
    assert "speedup" in capsys.readouterr().out


def test_a_sweep_from_two_workers_draws_its_speedups_over_two(monkeypatch: pytest.MonkeyPatch) -> None:
    # The pipeline's sweep starts at a producer and a consumer: with speedups only over one worker,
    # its speedup panel was empty.
    pytest.importorskip("matplotlib")
    from lab.studies import sweeps  # noqa: PLC0415

    results = [
        r for w in (2, 4) for r in lab.run_trials("pool-map", "threads", 2, tasks=4, sleep=0.01, workers=w)
    ]
    drawn: list[Any] = []
    monkeypatch.setattr(sweeps, "save", lambda plt, fig, path: drawn.append(fig))
    assert sweeps.chart(results, Path("unused.png"), "t") is None
    right = drawn[0].axes[1]
    assert right.get_ylabel() == "speedup over 2 workers"
    [measured] = [bars.lines[0] for bars in right.containers if bars.get_label() == "threads"]
    assert list(measured.get_xdata()) == [2, 4] and measured.get_ydata()[0] == pytest.approx(1.0)


def test_sweep_without_matplotlib_still_gives_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name)
    )
    argv = ["sweep", "pool-map", "--workers", "1,2", "--tasks", "2", "--sleep", "0", "--trials", "1",
            "--models", "threads", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    text = next(tmp_path.glob("*.md")).read_text()
    assert "Chart skipped: matplotlib is not installed (pip install 'concurrency-lab[plot]')" in text
    assert not list(tmp_path.glob("*.png"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sweep", "serial-counter"], "runs in no model"),
        (["sweep", "pool-map", "--workers", "1,x"], "workers must be a whole number, not 'x'"),
        (["sweep", "pool-map", "--workers", "0,2"], "workers must be 1 or more, not 0"),
        (["sweep", "pool-map", "--models", "fibers"], "unknown model 'fibers'; valid: asyncio, threads"),
    ],
)
def test_bad_sweep_input(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def hold_growing(steps: int) -> int:
    """A worker that takes 4 MB more every 20 ms (written, so resident), and holds it all a moment."""
    held = []
    for _ in range(steps):
        held.append(b"\x01" * (4 << 20))
        time.sleep(0.02)
    time.sleep(0.05)
    return sum(map(len, held))


@pytest.mark.skipif(not memory.SMAPS_ROLLUP, reason="PSS from /proc/PID/smaps_rollup: Linux only")
def test_the_sampler_sees_a_workers_growth_without_reading_its_pss_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # PSS is read as processes come and go and every ANCHOR_S; between, the RSS tells the growth.
    reads = [0]
    read_pss = memory.Rollup.pss

    def counted(rollup: memory.Rollup) -> int:
        reads[0] += 1
        return read_pss(rollup)

    monkeypatch.setattr(memory.Rollup, "pss", counted)
    began = time.perf_counter()
    with memory.MemorySampler() as sampler, ProcessPoolExecutor(1) as pool:
        assert pool.submit(hold_growing, 20).result() == 80 << 20
    elapsed = time.perf_counter() - began
    assert sampler.peak - sampler.baseline > 60 << 20  # what the worker held was seen
    # Each process sampled (the lab and its worker; a forkserver too, where it starts one) read
    # on entry, as processes appeared, then by the clock. Read at every sample, as before, it
    # was 41 reads in 0.5 s against a bound of 17.
    processes = len(sampler.rollups)
    assert reads[0] <= processes * (3 + elapsed / memory.ANCHOR_S), (reads[0], sampler.samples, elapsed)


INHERITED = bytearray()  # a forked worker's copy of its parent's pages (the tests below fill it)


def sampled_in_a_forked_worker(
    task: Callable[[], int], returns: int, checkpoint: bool = False
) -> memory.MemorySampler:
    """The sampler of a run in which one forked worker inherits 40 MB (written, so resident, before
    the baseline and the fork) and runs `task`, which must return `returns`; with `checkpoint`, the
    run ends as `Model.run` ends one, with `memory.checkpoint()` before the pool stops."""
    import multiprocessing  # noqa: PLC0415

    INHERITED[:] = b"\x01" * (40 << 20)
    try:
        with (
            memory.MemorySampler() as sampler,
            ProcessPoolExecutor(1, multiprocessing.get_context("fork")) as pool,
        ):
            assert pool.submit(task).result() == returns
            if checkpoint:
                memory.checkpoint()
    finally:
        INHERITED[:] = b""
    return sampler


def copy_then_grow() -> int:
    """In a forked worker, once the sampler has found it: grow by 2 MB five times, 20 ms apart (the
    sampler then samples every 10 ms), write to every inherited page (each is copied: PSS grows, RSS
    does not), grow 2 MB more (a sample, an estimate), and hold it all for a second."""
    time.sleep(0.2)
    grown = []
    for _ in range(5):
        grown.append(b"\x01" * (2 << 20))
        time.sleep(0.02)
    for at in range(0, len(INHERITED), 4096):
        INHERITED[at] = 2
    grown.append(b"\x01" * (2 << 20))
    time.sleep(1.0)
    return sum(map(len, grown))


@pytest.mark.skipif(not memory.SMAPS_ROLLUP, reason="PSS from /proc/PID/smaps_rollup: Linux only")
def test_after_an_estimate_the_sampler_still_reads_the_pages_a_worker_copied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Readings 0.5 s apart at least: every sample of the worker's growth after the one that found
    # it is an estimate, blind to the 40 MB copied on write. Sampling must go on to a reading even
    # though the RSS stays still after the last 2 MB; stopping at the estimate, this read 17 MB.
    monkeypatch.setattr(memory, "ANCHOR_S", 0.5)
    # What is tested is when the sampler reads, not how its thread is scheduled: at nice 19 beside
    # one busy core, it sampled twice in 1.4 s and saw nothing of the worker (Model.run's
    # checkpoint is what still reads a run's end there).
    monkeypatch.setattr(memory, "lower_this_thread", lambda: None)
    sampler = sampled_in_a_forked_worker(copy_then_grow, 12 << 20)
    assert sampler.peak - sampler.baseline > 40 << 20, sampler.summary(1)


def copy_at_once() -> int:
    """In a forked worker, once the sampler has found it: write to every inherited page (each is
    copied: PSS grows, RSS does not) and return at once."""
    time.sleep(0.2)
    for at in range(0, len(INHERITED), 4096):
        INHERITED[at] = 3
    return len(INHERITED)


@pytest.mark.skipif(not memory.SMAPS_ROLLUP, reason="PSS from /proc/PID/smaps_rollup: Linux only")
def test_a_checkpoint_before_the_workers_stop_reads_the_pages_they_copied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The worker's 40 MB copied on write move no RSS, so no sample follows the reading that found
    # it; the pool stops right after. Only `checkpoint` (Model.run's, before its workers stop)
    # reads them: without it this read 0 MB.
    monkeypatch.setattr(memory, "ANCHOR_S", 0.5)
    sampler = sampled_in_a_forked_worker(copy_at_once, 40 << 20, checkpoint=True)
    assert sampler.peak - sampler.baseline > 30 << 20, sampler.summary(1)
    assert sampler not in memory.ACTIVE  # measuring no more


def test_every_model_run_takes_the_checkpoint_outside_its_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    took: list[float] = []

    def slow_checkpoint() -> None:  # a reading that takes its time: neither the work's nor start-up's
        began = time.perf_counter()
        time.sleep(0.5)
        took.append(time.perf_counter() - began)

    monkeypatch.setattr(memory, "checkpoint", slow_checkpoint)
    r = lab.run("pool-map", "threads", tasks=2, sleep=0.0, workers=2)
    # Within the run: two threads start and stop in milliseconds, far less than the reading took;
    # counted in the start-up, the reading alone would make it longer than that.
    [reading] = took
    assert r.startup_s is not None and r.startup_s < reading / 2
    assert r.elapsed_s is not None and r.elapsed_s < reading / 2
