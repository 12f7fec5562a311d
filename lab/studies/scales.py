"""The report's scales: every demo's parameters at the quick and the article scale, their worker
sweeps, recorded timelines and race statistics.

Which models join a study is a rule over what models declare (`Model.cheap`, `.asynchronous`),
never a list of names, so that a plug-in model joins the studies its kind joins; what a model
runs differently at a scale it declares itself (`Model.at_scale`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lab.models import Model

Chooses = Callable[[type[Model]], bool]  # which models join a study


def every(model: type[Model]) -> bool:
    """Every model."""
    return True


def cheap(model: type[Model]) -> bool:
    """The models cheap enough for every study (no cluster to start per run)."""
    return model.cheap


def cheap_and_sync(model: type[Model]) -> bool:
    """Cheap models that run plain functions: where computing shows the GIL (or its absence)."""
    return model.cheap and not model.asynchronous


@dataclass(frozen=True)
class Scale:
    """The parameters of every demo at one scale, its worker sweeps, and how many trials by default."""

    name: str
    description: str
    trials: int
    params: Mapping[str, Sequence[Mapping[str, Any]]]  # demo -> one parameter set per row
    sweeps: Mapping[str, tuple[Mapping[str, Any], tuple[int, ...]]]  # demo -> (params, worker counts)
    # demo -> (parameter sets, which models): one recorded trial each, drawn in the Timelines section
    timelines: Mapping[str, tuple[Sequence[Mapping[str, Any]], Chooses]] = field(default_factory=dict)
    sweep_models: Mapping[str, Chooses] = field(default_factory=dict)  # demo -> which models, if not all
    races: Races | None = None  # race statistics: the racy counter over many trials (`lab.studies.races`)
    # A lean scale (the quick report's, meant for a first run) runs a variant other than a
    # model's default, or a costly model (a cluster per trial), on a demo's first parameter set
    # only: a loop, start method or lock kind changes start-up and the map the same way in each
    # row (the others, a worker count or a kernel, are the model's lesson, which its default
    # variant teaches, and a costly model's worker counts are in its sweep). It changes one
    # option at a time, and each only on the demos that show what it changes (`Option.shown_by`),
    # where the full scale runs every combination everywhere (`lab.studies.suite.variants`).
    lean: bool = False
    # The A/A pair (`lab.studies.suite.noise_runs`): a main run, in the first model chosen, twice
    # a round; its ratio is the run's noise floor. Where no such run is planned, there is none.
    noise: tuple[str, Mapping[str, Any], Chooses] | None = None
    # Extra rounds for a demo whose verdict its trials leave undecided (`lab.studies.suite`):
    # at most this many, within `extra_budget_s` in all.
    extra_rounds: int = 0
    extra_budget_s: float = 0.0

    def sweeps_model(self, demo: str, model: type[Model]) -> bool:
        """Whether the demo's sweep at this scale runs `model`."""
        return self.sweep_models.get(demo, every)(model)


@dataclass(frozen=True)
class Races:
    """A scale's race statistics: which sizes, yield points and models, how many trials each."""

    increments: tuple[int, ...]
    trials: int
    models: Chooses
    yield_points: tuple[str, ...] = ("sleep0",)
    all_variants: bool = False  # every variant (loops, start methods), or each model's default
    workers: int = 5


# About 30 ms of arithmetic per task here: at 300,000 the pool's fixed cost hid half the speedup.
QUICK_ROUNDS = 500_000
# The article's five letters, its 5 s waits at 0.05 s: long enough against start-up and the
# sleep's own overshoot (well under 1 ms here), short enough for a first run. Rows and timelines.
QUICK_WAITS = [{"tasks": 5, "sleep": 0.05, "workers": w} for w in (5, 1)]
SCALES = {
    "quick": Scale(
        "quick",
        "waits shrunk to 0.05 s, counters large enough that races show in every model",
        3,
        {
            "pool-map": QUICK_WAITS,
            "serial-counter": [{"increments": 10}],
            "racy-counter": [{"workers": 5, "increments": 1000}],  # every model loses at 1,000 (section 3)
            "locked-counter": [{"workers": 5, "increments": 500}],
            "cpu-bound": [
                {"tasks": 4, "rounds": QUICK_ROUNDS, "workers": 4},
                {"tasks": 4, "rounds": QUICK_ROUNDS, "workers": 1},
                {"tasks": 4, "rounds": QUICK_ROUNDS, "workers": 4, "kernel": "hashlib"},
                {"tasks": 4, "rounds": QUICK_ROUNDS, "workers": 1, "kernel": "hashlib"},
            ],
            # Four waves of 20 in flight: httpx's clients take 4-6 times aiohttp's time here, and at
            # 160 requests they alone took 7 s of the report.
            "http-get": [{"requests": 80, "latency": 0.02, "workers": 20}],
            # The CPU share from none to a quarter of the item (about 6 ms of CPU at 100,000 here,
            # against the 20 ms wait): where offloading starts to pay (the section's last table).
            "mixed": [
                {"tasks": 16, "latency": 0.02, "rounds": r, "workers": 8} for r in (100_000, 0, 20_000)
            ],
        },
        {
            # the rows' own work: their points at 1 and 5 workers are measured once (`share_twins`)
            "pool-map": ({"tasks": 5, "sleep": 0.05}, (1, 2, 3, 5)),
            "cpu-bound": ({"tasks": 4, "rounds": QUICK_ROUNDS}, (1, 2, 4)),
            # all 30 in flight at the top: 30 processes fork in 0.3 s here, 50 took 0.5 s a trial
            "http-get": ({"requests": 30, "latency": 0.005}, (1, 10, 30)),
        },
        {
            "pool-map": (QUICK_WAITS, cheap),
            "cpu-bound": ([{"tasks": 2, "rounds": 2 * QUICK_ROUNDS, "workers": 2}], cheap_and_sync),
            "racy-counter": ([{"workers": 5, "increments": 200}], cheap),
            "mixed": ([{"tasks": 8, "latency": 0.02, "rounds": 100_000, "workers": 4}], cheap),
        },
        # A costly model (a cluster per run) sweeps cpu-bound only, where its cost per task shows.
        {"pool-map": cheap, "http-get": cheap},
        # One increment (where a race is chance) and 200 (where a yield point makes it certain and
        # processes race through shared memory): threads took 0.12 s a trial at 1,000. Ten trials
        # each: processes' 5 forks are 0.1 s a trial here, two thirds of the section's time.
        Races((1, 200), 10, cheap, ("sleep0", "none")),
        lean=True,
        # CPU work in one thread: what a busy or drifting machine slows, at 0.1 s a trial.
        noise=("cpu-bound", {"tasks": 4, "rounds": QUICK_ROUNDS, "workers": 1}, cheap_and_sync),
        extra_rounds=10,  # only the rows an undecided verdict that matters compares: 0.3-0.6 s a round
        extra_budget_s=8.0,
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
            "cpu-bound": [
                {"tasks": 4, "workers": 4},
                {"tasks": 4, "workers": 1},
                {"tasks": 4, "workers": 4, "kernel": "hashlib"},
                {"tasks": 4, "workers": 1, "kernel": "hashlib"},
            ],
            # Real Python's 160 pages; 0.09 s each is their synchronous 14.29 s / 160, over the internet.
            "http-get": [{"requests": 160, "latency": 0.09, "workers": 5}],
            "mixed": [
                {"tasks": 32, "latency": 0.05, "rounds": r, "workers": 8}
                for r in (300_000, 0, 30_000, 100_000)
            ],
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
                cheap,
            ),
            "cpu-bound": ([{"tasks": 2, "workers": 2}], cheap_and_sync),
            "racy-counter": ([{"workers": 5, "increments": 1, "sleep": 1.0}], cheap),
            "mixed": ([{"tasks": 16, "latency": 0.05, "rounds": 300_000, "workers": 8}], cheap),
        },
        {},
        # The article's own size, 5 x 1 (without its 5 s wait), in every variant: 100 trials give
        # an interval within +-10 points.
        Races((1,), 100, every, all_variants=True),
        noise=("cpu-bound", {"tasks": 4, "workers": 1}, cheap_and_sync),
        extra_rounds=2,  # a round of the article's pool-map is minutes: the budget keeps it out
        extra_budget_s=60.0,
    ),
    # Every section in seconds: for checking that a report (a plug-in's, a new demo's) runs
    # whole. Its waits and counts are too small for its numbers to teach anything.
    "smoke": Scale(
        "smoke",
        "every section in seconds, sizes too small to teach anything: for checking that a report runs",
        1,
        {
            "pool-map": [{"tasks": 2, "sleep": 0.01, "workers": w} for w in (2, 1)],
            "serial-counter": [{"increments": 10}],
            "racy-counter": [{"workers": 2, "increments": 200}],
            "locked-counter": [{"workers": 2, "increments": 20}],
            "cpu-bound": [
                {"tasks": 2, "rounds": 20_000, "workers": 2},
                {"tasks": 2, "rounds": 20_000, "workers": 1},
                {"tasks": 2, "rounds": 20_000, "workers": 2, "kernel": "hashlib"},
                {"tasks": 2, "rounds": 20_000, "workers": 1, "kernel": "hashlib"},
            ],
            "http-get": [{"requests": 10, "latency": 0.001, "workers": 5}],
            "mixed": [{"tasks": 4, "latency": 0.001, "rounds": 2_000, "workers": 2}],
        },
        {
            "pool-map": ({"tasks": 2, "sleep": 0.01}, (1, 2)),
            "cpu-bound": ({"tasks": 2, "rounds": 20_000}, (1, 2)),
            "http-get": ({"requests": 10, "latency": 0.001}, (1, 5)),
        },
        {
            "pool-map": ([{"tasks": 2, "sleep": 0.01, "workers": w} for w in (2, 1)], cheap),
            "cpu-bound": ([{"tasks": 2, "rounds": 20_000, "workers": 2}], cheap_and_sync),
            "racy-counter": ([{"workers": 2, "increments": 20}], cheap),
            "mixed": ([{"tasks": 2, "latency": 0.001, "rounds": 2_000, "workers": 2}], cheap),
        },
        {"pool-map": cheap, "http-get": cheap},
        Races((10,), 3, cheap),
        lean=True,
    ),
}


__all__ = ["SCALES", "Races", "Scale"]
