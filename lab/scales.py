"""The report's scales: every demo's parameters at the quick and the article scale, their worker
sweeps, recorded timelines, race statistics, and what a model runs differently at a scale."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Scale:
    """The parameters of every demo at one scale, its worker sweeps, and how many trials by default."""

    name: str
    description: str
    trials: int
    params: Mapping[str, Sequence[Mapping[str, Any]]]  # demo -> one parameter set per row
    sweeps: Mapping[str, tuple[Mapping[str, Any], tuple[int, ...]]]  # demo -> (params, worker counts)
    # demo -> (parameter sets, models): one recorded trial each, drawn in the Timelines section
    timelines: Mapping[str, tuple[Sequence[Mapping[str, Any]], tuple[str, ...]]] = field(default_factory=dict)
    # model -> demo -> parameters that model runs the demo with instead (its rows show them), or
    # a string: why the model leaves the demo out at this scale (listed as skipped)
    adjust: Mapping[str, Mapping[str, Mapping[str, Any] | str]] = field(default_factory=dict)
    sweep_models: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # demo -> models, if not all
    races: Races | None = None  # race statistics: the racy counter over many trials (`lab.races`)


@dataclass(frozen=True)
class Races:
    """A scale's race statistics: which sizes, yield points and models, how many trials each."""

    increments: tuple[int, ...]
    trials: int
    models: tuple[str, ...]
    yield_points: tuple[str, ...] = ("sleep0",)
    all_variants: bool = False  # every variant (loops, start methods), or each model's default
    workers: int = 5


QUICK_ROUNDS = 500_000  # about 30 ms of arithmetic per task here
ALL = ("asyncio", "threads", "processes")
# A Dask increment is two round trips to the scheduler (about 2 ms, a thousand times a local one),
# and a local cluster's worker processes take about 0.1 s each to start and warm: at the quick
# scale, dask counts less and starts fewer clusters, so that the report stays about a minute.
DASK_QUICK: Mapping[str, Mapping[str, Any] | str] = {
    "racy-counter": {"workers": 5, "increments": 50},
    "locked-counter": {"workers": 5, "increments": 20},
    "http-get": "not at the quick scale: 20 worker processes to start per trial "
    "(lab run http-get --model dask runs it)",
}
SCALES = {
    "quick": Scale(
        "quick",
        "waits shrunk to 0.1 s, counters large enough that races show in every model",
        3,
        {
            "pool-map": [{"tasks": 5, "sleep": 0.1, "workers": 5}, {"tasks": 5, "sleep": 0.1, "workers": 1}],
            "serial-counter": [{"increments": 10}],
            "racy-counter": [{"workers": 5, "increments": 5000}],
            "locked-counter": [{"workers": 5, "increments": 500}],
            "cpu-bound": [
                {"tasks": 4, "rounds": QUICK_ROUNDS, "workers": 4},
                {"tasks": 4, "rounds": QUICK_ROUNDS, "workers": 1},
            ],
            "http-get": [{"requests": 160, "latency": 0.02, "workers": 20}],
        },
        {
            "pool-map": ({"tasks": 8, "sleep": 0.05}, (1, 2, 4, 8)),
            "cpu-bound": ({"tasks": 4, "rounds": QUICK_ROUNDS}, (1, 2, 4)),
            "http-get": ({"requests": 50, "latency": 0.005}, (1, 10, 50)),
        },
        {
            "pool-map": (
                [{"tasks": 5, "sleep": 0.1, "workers": 5}, {"tasks": 5, "sleep": 0.1, "workers": 1}],
                ALL,
            ),
            "cpu-bound": ([{"tasks": 2, "rounds": 2 * QUICK_ROUNDS, "workers": 2}], ("threads", "processes")),
            "racy-counter": ([{"workers": 5, "increments": 200}], ALL),
        },
        {"dask": DASK_QUICK},
        {"pool-map": ALL, "http-get": ALL},  # dask sweeps cpu-bound only, where its cost per task shows
        Races((1, 1000), 20, ALL, ("sleep0", "none")),
    ),
    "article": Scale(
        "article",
        "the article's own parameters: 5 letters, 5 s waits, 5 workers and 1; "
        "counters of 5 x 1 after 5 s and 1 s",
        2,
        {
            "pool-map": [{"tasks": 5, "sleep": 5.0, "workers": 5}, {"tasks": 5, "sleep": 5.0, "workers": 1}],
            "serial-counter": [{"increments": 10}],
            "racy-counter": [{"workers": 5, "increments": 1, "sleep": 5.0}],
            "locked-counter": [{"workers": 5, "increments": 1, "sleep": 1.0}],
            "cpu-bound": [{"tasks": 4, "workers": 4}, {"tasks": 4, "workers": 1}],
            # Real Python's 160 pages; 0.09 s each is their synchronous 14.29 s / 160, over the internet.
            "http-get": [{"requests": 160, "latency": 0.09, "workers": 5}],
        },
        {
            "pool-map": ({"tasks": 8, "sleep": 1.0}, (1, 2, 4, 8)),
            "cpu-bound": ({"tasks": 4}, (1, 2, 4)),
            # synchronous, one per core, Real Python's 5 threads, and all 160 in flight (asyncio)
            "http-get": ({"requests": 160, "latency": 0.09}, (1, 2, 5, 160)),
        },
        {
            "pool-map": (
                [{"tasks": 5, "sleep": 5.0, "workers": 5}, {"tasks": 5, "sleep": 5.0, "workers": 1}],
                ALL,
            ),
            "cpu-bound": ([{"tasks": 2, "workers": 2}], ("threads", "processes")),
            "racy-counter": ([{"workers": 5, "increments": 1, "sleep": 1.0}], ALL),
        },
        {},
        {},
        # The article's own size, 5 x 1 (without its 5 s wait), in every variant: 100 trials give
        # an interval within +-10 points.
        Races((1,), 100, (*ALL, "dask"), all_variants=True),
    ),
}


__all__ = ["SCALES", "Races", "Scale"]
