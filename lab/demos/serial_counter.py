"""serial-counter, the article's demo 2: a plain loop adds 1 `increments` times; no concurrency,
the reference. It runs in the calling thread, in no model (`task` None)."""

from __future__ import annotations

from lab.demos.base import AtScale, Demo
from lab.demos.racy_counter import increments_count

TEN = AtScale([{"increments": 10}])

DEMO = Demo(
    "serial-counter",
    "article demo 2: a plain loop adds 1 `increments` times; no concurrency, the reference",
    {"increments": 10, "sleep": 0.0},
    None,
    lambda p: (),
    expected=increments_count,
    scales={"quick": TEN, "article": TEN, "smoke": TEN},
    rank=20,
)
