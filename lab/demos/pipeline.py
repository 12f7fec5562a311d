"""pipeline, messages between workers: `producers` producers put `messages` messages of `size`
bytes on the model's own queue, `consumers` consumers take them and do `rounds` of CPU work on
each; every message must arrive exactly once, and each producer's in the order it sent them.

The queue is the model's (`lab.models.base.Kit`): `asyncio.Queue`, `queue.Queue`,
`multiprocessing.Queue`, the interpreters' `Queue`, a `distributed.Queue` on dask's scheduler. Each
consumer takes a fixed share of the messages (no end-of-stream marker is needed, so that no
message is ever left on the queue when the run ends), and stamps each with the time it took it:
a message's latency is from its put to its get, on the one system-wide clock
(`time.perf_counter`), and the queue's depth at any moment is the puts so far minus the gets.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from lab.demos.base import AnswerRow, AtScale, Demo, Params, Section, cheap
from lab.models.base import AsyncKit, Kit, Measured, now
from lab.models.tasks import crunch_rounds
from lab.params import Param

# A consumer's output: the (producer, sequence, put time, get time) of each message it took, and
# the sum of its CPU work's values (a wrong sum: work skipped or a message's rounds lost).
Taken = tuple[list[tuple[int, int, float, float]], int]


def shares(total: int, parts: int) -> list[int]:
    """`total` split into `parts` shares as even as whole numbers allow (the first ones larger)."""
    return [total // parts + (i < total % parts) for i in range(parts)]


def roles(p: Params) -> tuple[Any, ...]:
    """The items: one per producer, `("put", producer, messages, size)`, then one per consumer,
    `("get", consumer, messages, rounds)`. Producers come first: a pool with fewer workers than
    roles starts every producer before the consumers that wait on them."""
    put = [("put", i, n, p["size"]) for i, n in enumerate(shares(p["messages"], p["producers"]))]
    get = [("get", i, n, p["rounds"]) for i, n in enumerate(shares(p["messages"], p["consumers"]))]
    return (*put, *get)


def step(item: tuple[str, int, int, int], kit: Kit) -> Any:
    """One producer (put its messages, each `(producer, sequence, put time, payload)`) or one
    consumer (take its share, each stamped with the time it was taken, and work on each)."""
    what, who, count, size_or_rounds = item
    if what == "put":
        payload = bytes(size_or_rounds)
        for sequence in range(count):
            kit.put((who, sequence, now(), payload))
        return count
    taken, total = [], 0
    for _ in range(count):
        producer, sequence, sent, _payload = kit.get()
        taken.append((producer, sequence, sent, now()))
        total += crunch_rounds(size_or_rounds) if size_or_rounds else 0
    return taken, total


async def step_async(item: tuple[str, int, int, int], kit: AsyncKit) -> Any:
    """`step` for asyncio: the same, awaiting the `asyncio.Queue` (whose `put`, unbounded,
    never waits: a producer puts all its messages before it lets a consumer run)."""
    what, who, count, size_or_rounds = item
    if what == "put":
        payload = bytes(size_or_rounds)
        for sequence in range(count):
            await kit.put((who, sequence, now(), payload))
        return count
    taken, total = [], 0
    for _ in range(count):
        producer, sequence, sent, _payload = await kit.get()
        taken.append((producer, sequence, sent, now()))
        total += crunch_rounds(size_or_rounds) if size_or_rounds else 0
    return taken, total


def consumed(params: Params, outputs: Sequence[Any]) -> list[Taken]:
    """The consumers' outputs (they follow the producers')."""
    return [(list(taken), total) for taken, total in outputs[params["producers"] :]]


def delivered(demo: Demo, params: Params, measured: Measured) -> bool:
    """Every message taken exactly once, each consumer seeing each producer's in sent order, and
    every consumer's CPU work done on each."""
    if len(measured.outputs) != params["producers"] + params["consumers"]:
        return False
    sent = shares(params["messages"], params["producers"])
    if list(measured.outputs[: params["producers"]]) != sent:
        return False
    seen: list[tuple[int, int]] = []
    value = crunch_rounds(params["rounds"]) if params["rounds"] else 0
    for taken, total in consumed(params, measured.outputs):
        last: dict[int, int] = {}
        for producer, sequence, _, _ in taken:
            if sequence <= last.get(producer, -1):
                return False  # out of order
            last[producer] = sequence
            seen.append((producer, sequence))
        if total != value * len(taken):
            return False
    return sorted(seen) == [(p, s) for p, n in enumerate(sent) for s in range(n)]


def pipeline_metrics(params: Params, measured: Measured) -> dict[str, Any] | None:
    """Messages per second, the latency from put to get (median, p99) and the queue's peak depth."""
    taken = [t for got, _ in consumed(params, measured.outputs) for t in got]
    if not taken or not measured.elapsed_s:
        return None
    latencies = sorted(got - sent for _, _, sent, got in taken)
    # The depth at each moment: puts so far minus gets so far (a get at the same instant as
    # its put comes after it).
    events = sorted([(sent, 1) for _, _, sent, _ in taken] + [(got, -1) for _, _, _, got in taken],
                    key=lambda e: (e[0], -e[1]))  # fmt: skip
    depth = peak = 0
    for _, change in events:
        depth += change
        peak = max(peak, depth)
    return {
        "messages_per_s": round(len(taken) / measured.elapsed_s, 1),
        "latency_p50_s": statistics.median(latencies),
        "latency_p99_s": latencies[min(len(latencies) - 1, math.ceil(0.99 * len(latencies)) - 1)],
        "peak_depth": peak,
        "megabytes_per_s": round(len(taken) * params["size"] / measured.elapsed_s / 1e6, 2),
    }


def producers_and_consumers(params: Params) -> int:
    """A worker for each producer and each consumer: every stage runs at once."""
    return int(params["producers"]) + int(params["consumers"])


def more_consumers(params: Params, consumers: int) -> dict[str, Any]:
    """A sweep point (the sweep's own parameters, `consumers` set): each consumer and producer
    with a worker of its own."""
    point = {**DEFAULTS, **params, "consumers": consumers}
    return {**params, "consumers": consumers, "workers": producers_and_consumers(point)}


def in_words(params: Params) -> str:
    """What one run did: `1 producer -> 4 consumers, 5000 messages of 100 bytes, 0 rounds each`."""
    producers, consumers = params["producers"], params["consumers"]
    return (
        f"{producers} producer{'s' * (producers != 1)} -> {consumers} consumer{'s' * (consumers != 1)}, "
        f"{params['messages']} messages of {params['size']} bytes, {params['rounds']} rounds each"
    )


def role_names(p: Params) -> list[str]:
    """What each item is (`roles`' order), for the timeline's bars: `producer 0`, `consumer 1`."""
    return [f"producer {i}" for i in range(p["producers"])] + [f"consumer {i}" for i in range(p["consumers"])]


def by_size(ladder: tuple[tuple[int, int], ...]) -> list[dict[str, Any]]:
    """The size ladder: each (size, messages) with no work, one producer and one consumer."""
    return [{"size": size, "messages": messages} for size, messages in ladder]


def by_rounds(rungs: tuple[int, ...], messages: int, consumers: int) -> list[dict[str, Any]]:
    """The rounds ladder: small messages with `rounds` of work each, shared by `consumers`."""
    return [{"messages": messages, "consumers": consumers, "rounds": rounds} for rounds in rungs]


DEFAULTS = {"producers": 1, "consumers": 1, "messages": 20_000, "size": 100, "rounds": 0, "workers": None}


DEMO = Demo(
    "pipeline",
    "messages between workers: `producers` producers put `messages` messages of `size` bytes on the "
    "model's own queue, `consumers` consumers take them (`rounds` of CPU work each); each arrives "
    "exactly once, in its producer's order",
    DEFAULTS,
    "call",
    roles,
    function=step,
    async_function=step_async,
    kit=True,
    queued=True,
    default_workers=producers_and_consumers,
    outputs_right=delivered,
    metrics=pipeline_metrics,
    headline=(
        ("messages_per_s", "msg/s", ""),
        ("latency_p50_s", "p50", "ms"),
        ("latency_p99_s", "p99", "ms"),
        ("peak_depth", "peak depth", ""),
    ),
    params=(
        Param("producers", "int", "workers putting messages on the queue", "P", low=1, high=1000),
        Param("consumers", "int", "workers taking messages off the queue", "C", low=1, high=1000),
        Param("messages", "int", "messages in all, split between the producers", "m", low=0, high=10_000_000),
    ),
    scales={
        # The first row is the answer's (and a costly model's: a cluster's queue is the
        # scheduler's, a round trip per put and per get, about 1 ms here); then the section's
        # two ladders: message sizes with no work, and CPU work on each message (the crossover).
        "quick": AtScale(
            [
                {"messages": 2_000},
                *by_size(((10_000, 1_000), (100_000, 1_000), (1_000_000, 100))),
                *by_rounds((0, 300, 1_000, 3_000), messages=500, consumers=2),
            ],
            ({"messages": 2_000}, (1, 2, 4)),
            # Not dask's: its queue is the scheduler's, a round trip a message (3 s a point here);
            # its figure is in the main table, at the costly size.
            sweep_models=cheap,
            timelines=[{"messages": 200, "consumers": 2, "rounds": 1_000}],
            costly={"messages": 200},
        ),
        "article": AtScale(
            [
                {},
                *by_size(((1_000, 20_000), (10_000, 20_000), (100_000, 5_000), (1_000_000, 1_000))),
                *by_rounds((0, 100, 300, 1_000, 3_000, 10_000), messages=2_000, consumers=4),
            ],
            ({}, (1, 2, 4, 8)),
            timelines=[{"messages": 200, "consumers": 2, "rounds": 1_000}],
            costly={"messages": 1_000},
        ),
        "smoke": AtScale(
            [{"messages": 200}, *by_size(((10_000, 100),)), *by_rounds((0, 300), messages=50, consumers=2)],
            ({"messages": 200}, (1, 2)),
            timelines=[{"messages": 50}],
            timeline_models=cheap,
            costly={"messages": 50},
        ),
    },
    rank=80,
    sweep_point=more_consumers,
    in_words=in_words,
    answers=(AnswerRow("passing messages", "passing messages between workers"),),
    section=Section("messages", "Messages between workers"),
    item_names=role_names,
    timeline_caption="One producer and two consumers, 200 messages of 1,000 rounds each (about 43 us of CPU "
    "a message). In asyncio and threads the producer puts every message at once and the consumers run one "
    "after another: a consumer with its messages waiting works through its share within one GIL switch "
    "interval (5 ms). Processes' consumers run side by side on two cores, each waiting for messages part "
    "of its time (its CPU share).",
)
