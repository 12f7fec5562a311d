"""The asyncio model's coroutines, run on pytest-asyncio's loop (no lab-owned loop involved)."""

from __future__ import annotations

import asyncio

import pytest

from lab.models.base import Counter, Work
from lab.models.coroutines import Shared, count, map_limited, run_async


@pytest.mark.asyncio
async def test_coroutines_only_switch_at_an_await() -> None:
    measured = await run_async(Work("count", items=(100,) * 4, workers=4))
    assert measured.counter == 100  # every round, all four read the same value


@pytest.mark.asyncio
async def test_asyncio_lock_makes_it_exact() -> None:
    measured = await run_async(Work("count", items=(100,) * 4, workers=4, locked=True))
    assert measured.counter == 400


@pytest.mark.asyncio
async def test_map_limited_keeps_order_and_the_limit() -> None:
    running, peak = 0, 0

    async def task(item: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01 * (item % 3))
        running -= 1
        return item

    outputs, elapsed = await map_limited(task, tuple(range(20)), workers=3)
    assert outputs == list(range(20)) and peak == 3 and elapsed > 0


@pytest.mark.asyncio
async def test_count_waits_for_every_worker_before_counting() -> None:
    shared = Shared(Counter(), asyncio.Lock(), asyncio.Barrier(2))
    first = asyncio.create_task(count(5, 0.0, None, shared))
    await asyncio.sleep(0.05)
    assert shared.counter.value == 0 and not first.done()  # held at the start line
    await count(5, 0.0, None, shared)
    await first
    assert shared.counter.value == 10
