"""The asyncio model's coroutines, run on pytest-asyncio's loop (no lab-owned loop involved)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

import pytest

from lab.models.asyncio import Asyncio, Shared, count, echo, gather, prepare
from lab.models.base import Work
from lab.models.tasks import Counter


async def run_async(work: Work) -> tuple[list[Any], int]:
    """The model's map on this (pytest-asyncio's) loop: the outputs and the final counter."""
    async with AsyncExitStack() as stack:
        shared = await prepare(work, Asyncio.default_options(), stack)
        return await gather(shared, work, work.items), shared.counter.value


@pytest.mark.asyncio
async def test_coroutines_only_switch_at_an_await() -> None:
    _, counter = await run_async(Work("count", items=(100,) * 4, workers=4))
    assert counter == 100  # every round, all four read the same value


@pytest.mark.asyncio
async def test_asyncio_lock_makes_it_exact() -> None:
    _, counter = await run_async(Work("count", items=(100,) * 4, workers=4, locked=True))
    assert counter == 400


@pytest.mark.asyncio
async def test_at_most_workers_coroutines_run_at_once() -> None:
    shared = Shared(Counter(), asyncio.Lock(), asyncio.Barrier(3), asyncio.Semaphore(3))
    tasks = [asyncio.create_task(echo(str(i), 0.05, None, shared)) for i in range(7)]
    await asyncio.sleep(0.01)
    assert shared.slots.locked()  # three hold a slot, four wait for one
    assert await asyncio.gather(*tasks) == [str(i) for i in range(7)]


@pytest.mark.asyncio
async def test_pool_map_keeps_input_order() -> None:
    outputs, _ = await run_async(Work("echo", items=tuple("abcdefgh"), workers=3, sleep=0.01))
    assert outputs == list("abcdefgh")


@pytest.mark.asyncio
async def test_count_waits_for_every_worker_before_counting() -> None:
    shared = Shared(Counter(), asyncio.Lock(), asyncio.Barrier(2), asyncio.Semaphore(2))
    first = asyncio.create_task(count(5, 0.0, None, shared))
    await asyncio.sleep(0.05)
    assert shared.counter.value == 0 and not first.done()  # held at the start line
    await count(5, 0.0, None, shared)
    await first
    assert shared.counter.value == 10
