"""The report's scales: quick, article and smoke. A scale holds what is the same for every demo
(how many trials, whether lean, extra rounds for an undecided verdict); each demo declares its own
sizes at each scale (`lab.demos.AtScale`): its rows, its worker sweep, its recorded timelines, its
race statistics, what a costly model (a cluster per run) runs instead, and a scale it does not
name runs it at its defaults."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """One scale: its name, what it is for, and how many trials by default."""

    name: str
    description: str
    trials: int
    # A lean scale (the quick report's, meant for a first run) runs a variant other than a
    # model's default, or a costly model (a cluster per trial), on a demo's first parameter set
    # only: a loop, start method or lock kind changes start-up and the map the same way in each
    # row (the others, a worker count or a kernel, are the model's lesson, which its default
    # variant teaches, and a costly model's worker counts are in its sweep). It changes one
    # option at a time, and each only on the demos that show what it changes (`Option.shown_by`),
    # where the full scale runs every combination everywhere (`lab.studies.suite.variants`).
    lean: bool = False
    # Extra rounds for a demo whose verdict its trials leave undecided (`lab.studies.suite`):
    # at most this many, within `extra_budget_s` in all.
    extra_rounds: int = 0
    extra_budget_s: float = 0.0


SCALES = {
    "quick": Scale(
        "quick",
        "waits shrunk to 0.05 s, counters large enough that races show in every model",
        3,
        lean=True,
        extra_rounds=10,  # only the rows an undecided verdict that matters compares: 0.3-0.6 s a round
        extra_budget_s=8.0,
    ),
    "article": Scale(
        "article",
        "the article's own parameters: 5 letters, 5 s waits, 5 workers and 1; "
        "counters of 5 x 1 after 5 s and 1 s",
        2,
        extra_rounds=2,  # a round of the article's pool-map is minutes: the budget keeps it out
        extra_budget_s=60.0,
    ),
    # Every section in seconds: for checking that a report (a plug-in's, a new demo's) runs
    # whole. Its waits and counts are too small for its numbers to teach anything.
    "smoke": Scale(
        "smoke",
        "every section in seconds, sizes too small to teach anything: for checking that a report runs",
        1,
        lean=True,
    ),
}


__all__ = ["SCALES", "Scale"]
