"""A demo that shares state through the model's own primitives (`Demo.kit`): a plug-in of the lab.

Each of `tasks` tasks adds 1 to the run's shared integer `adds` times, each time reading it,
waiting in the model's own sleep, and writing it back, inside the model's lock: whatever the
model, no update may be lost. Its parameter `adds` is its own, declared here.
"""

from __future__ import annotations

from typing import Any

from lab.demos import Demo
from lab.params import Param


def tally(item: int, kit: Any) -> int:
    """Add 1 to the shared integer `adds` times, under the model's lock."""
    for _ in range(item):
        with kit.lock:
            value = kit.value
            kit.sleep(0)
            kit.value = value + 1
    return item


async def tally_async(item: int, kit: Any) -> int:
    """`tally` for asyncio, whose kit is awaited."""
    for _ in range(item):
        async with kit.lock:
            value = kit.value
            await kit.sleep(0)
            kit.value = value + 1
    return item


DEMO = Demo(
    "tally",
    "`tasks` tasks add 1 to the model's shared integer `adds` times each, inside the model's lock",
    {"tasks": 4, "adds": 20, "workers": None},
    "call",
    lambda p: (p["adds"],) * p["tasks"],
    function=tally,
    async_function=tally_async,
    kit=True,
    expected=lambda p: p["tasks"] * p["adds"],
    outputs_right=lambda demo, p, measured: list(measured.outputs) == [p["adds"]] * p["tasks"],
    params=(Param("adds", "int", "additions per task", "a", low=0, high=10_000),),
)
