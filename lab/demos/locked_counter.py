"""locked-counter, the article's demo 4: the racy counter with the model's lock around the read
and the write; always exact. Everything else is the racy counter's, written once there."""

from __future__ import annotations

from dataclasses import replace

from lab.demos import racy_counter
from lab.demos.base import AtScale

DEMO = replace(
    racy_counter.DEMO,
    name="locked-counter",
    description="article demo 4: the same, with the model's lock around the read and the write; always exact",
    locked=True,
    scales={
        "quick": AtScale([{"workers": 5, "increments": 200}], costly={"workers": 5, "increments": 20}),
        "article": AtScale([{"workers": 5, "increments": 1, "sleep": 1.0}]),
        "smoke": AtScale([{"workers": 2, "increments": 20}]),
    },
    rank=40,
    answers=(),  # the racy counter's row ("shared state") reads this one's records too
    roles=frozenset({"locked counter", "article"}),
    timeline_caption="",
)
