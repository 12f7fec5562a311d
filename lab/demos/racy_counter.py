"""racy-counter, the article's demo 3: `workers` workers add 1 to a shared counter with no lock;
updates get lost. Its race statistics (`lab races`, the report's section) are declared here."""

from __future__ import annotations

from lab.demos.base import AnswerRow, AtScale, Demo, Params, Races, cheap, every


def increments_count(params: Params) -> int:
    """The counters' right value: every increment of every worker."""
    return int(params["increments"]) * int(params.get("workers", 1))


def per_worker(params: Params) -> tuple[int, ...]:
    """The counter demos' items: one task per worker, each of `increments` increments."""
    return (int(params["increments"]),) * int(params["workers"])


DEMO = Demo(
    "racy-counter",
    "article demo 3: `workers` workers add 1 to a shared counter with no lock; updates get lost",
    {"workers": 5, "increments": 1, "sleep": 0.0, "yield_point": "sleep0"},
    "count",
    per_worker,
    expected=increments_count,
    scales={
        "quick": AtScale(
            [{"workers": 5, "increments": 1000}],  # every model loses at 1,000 (section 3)
            timelines=[{"workers": 5, "increments": 200}],
            # One increment (where a race is chance) and 200 (where a yield point makes it certain
            # and processes race through shared memory): threads took 0.12 s a trial at 1,000. Ten
            # trials each: processes' 5 forks are 0.1 s a trial here, two thirds of the section's time.
            races=Races((1, 200), 10, cheap, ("sleep0", "none")),
            # A Dask increment is two round trips to the scheduler (about 2 ms, a thousand times a
            # local one): a costly model counts less here, so that the report stays short.
            costly={"workers": 5, "increments": 50},
        ),
        "article": AtScale(
            [{"workers": 5, "increments": 1, "sleep": 5.0}],
            timelines=[{"workers": 5, "increments": 1, "sleep": 1.0}],
            # The article's own size, 5 x 1 (without its 5 s wait), in every variant: 100 trials
            # give an interval within +-10 points.
            races=Races((1,), 100, every, all_variants=True),
        ),
        "smoke": AtScale(
            [{"workers": 2, "increments": 200}],
            timelines=[{"workers": 2, "increments": 20}],
            races=Races((10,), 3, cheap),
        ),
    },
    rank=30,
    answers=(AnswerRow("shared state", "shared state"),),  # its row reads the locked counter's too
    roles=frozenset({"racy counter", "article"}),
    timeline_caption="The unlocked counter: where the bars overlap, read-modify-writes interleave and "
    "updates are lost.",
)
