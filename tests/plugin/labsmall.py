"""The smallest demo: one function applied to each item, in every model (a plug-in of the lab)."""

from __future__ import annotations

from lab.demos import AnswerRow, Demo


def digit_sum(n: int) -> int:
    """The sum of the decimal digits of 2 ** n: a little pure-Python work."""
    return sum(map(int, str(2**n)))


async def digit_sum_async(n: int) -> int:
    """Its coroutine twin, for asyncio (without one, asyncio runs `digit_sum` in a thread)."""
    return digit_sum(n)


DEMO = Demo(
    "digits",  # the entry point's name
    "the digit sums of 2 ** n for `tasks` values of n from `rounds` on",
    {"tasks": 8, "rounds": 4_000, "workers": None},
    "call",  # each model applies `function` to every item, as `lab bench` runs a function
    lambda p: tuple(range(p["rounds"], p["rounds"] + p["tasks"])),
    function=digit_sum,
    async_function=digit_sum_async,  # outputs: checked against digit_sum of each item
    answers=(AnswerRow("fastest at most workers", "digit sums"),),
)
