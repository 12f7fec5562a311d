"""locked-counter, the article's demo 4: the racy counter with the model's lock around the read
and the write; always exact."""

from __future__ import annotations

from lab.demos.base import AtScale, Demo
from lab.demos.racy_counter import increments_count, per_worker

DEMO = Demo(
    "locked-counter",
    "article demo 4: the same, with the model's lock around the read and the write; always exact",
    {"workers": 5, "increments": 1, "sleep": 0.0, "yield_point": "sleep0"},
    "count",
    per_worker,
    locked=True,
    expected=increments_count,
    scales={
        "quick": AtScale([{"workers": 5, "increments": 500}]),
        "article": AtScale([{"workers": 5, "increments": 1, "sleep": 1.0}]),
        "smoke": AtScale([{"workers": 2, "increments": 20}]),
    },
    rank=40,
)
