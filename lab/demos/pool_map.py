"""pool-map, the article's demo 1: `tasks` tasks each wait `sleep` s and return their letter;
workers overlap the waits."""

from __future__ import annotations

import functools
import math
import string

from lab.demos.base import AnswerRow, AtScale, Demo, Params, cheap
from lab.models.base import Measured


@functools.lru_cache(maxsize=8)
def letters(n: int) -> tuple[str, ...]:
    """The article's items, 'a'..'e', continued as 'f'.. 'z', 'a1', 'b1', ... for larger n.

    Cached (the tuple is immutable): building 10,000 of them takes 3 ms, which every trial and
    every check of the outputs would otherwise pay again (a profile of `lab.run` found it)."""
    abc = string.ascii_lowercase
    return tuple(abc[i % 26] + (str(i // 26) if i >= 26 else "") for i in range(n))


def waits_ideal(params: Params) -> float:
    """pool-map's ideal: the waits alone, `workers` at a time."""
    return float(params["sleep"]) * math.ceil(int(params["tasks"]) / int(params["workers"]))


def same_items(demo: Demo, params: Params, measured: Measured) -> bool:
    """pool-map's outputs: its items, in order."""
    return measured.outputs == list(demo.items(params))


# The article's five letters, its 5 s waits at 0.05 s: long enough against start-up and the
# sleep's own overshoot (well under 1 ms here), short enough for a first run. Rows and timelines.
QUICK_WAITS = [{"tasks": 5, "sleep": 0.05, "workers": w} for w in (5, 1)]
ARTICLE = [{"tasks": 5, "sleep": 5.0, "workers": 5}, {"tasks": 5, "sleep": 5.0, "workers": 1}]
SMOKE = [{"tasks": 2, "sleep": 0.01, "workers": w} for w in (2, 1)]

DEMO = Demo(
    "pool-map",
    "article demo 1: `tasks` tasks each wait `sleep` s and return their letter; workers overlap the waits",
    {"tasks": 5, "sleep": 5.0, "workers": None, "chunksize": None},
    "echo",
    lambda p: letters(p["tasks"]),
    ideal=waits_ideal,
    outputs_right=same_items,
    scales={
        # The sweep's points at 1 and 5 workers are the rows' own work, measured once
        # (`lab.studies.suite.share_twins`). A costly model (a cluster per run) sweeps cpu-bound
        # only, where its cost per task shows.
        "quick": AtScale(QUICK_WAITS, ({"tasks": 5, "sleep": 0.05}, (1, 2, 3, 5)), cheap, QUICK_WAITS),
        "article": AtScale(ARTICLE, ({"tasks": 8, "sleep": 1.0}, (1, 2, 4, 8)), timelines=ARTICLE),
        "smoke": AtScale(SMOKE, ({"tasks": 2, "sleep": 0.01}, (1, 2)), cheap, SMOKE),
    },
    rank=10,
    answers=(AnswerRow("fastest at most workers", "a few waits at once"),),
    roles=frozenset({"speed", "waiting workers", "article"}),
    timeline_caption="The article's demo 1 with 5 workers and with 1: five bars side by side, or five "
    "in a row.",
)
