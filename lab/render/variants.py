"""The variants of a model side by side: one table per option with several choices (asyncio's
event loops, processes' start methods and locks, a plug-in's own), and the locks' costs.

Which options a model has is what it declares (`Model.options`): nothing here names a model."""

from __future__ import annotations

from collections.abc import Sequence

from lab.demos import DEMOS
from lab.measure import stats
from lab.models import MODELS
from lab.render.common import s, table
from lab.results import Result, RunInfo


def option_table(results: Sequence[Result], model: str, key: str, values: list[str]) -> str | None:
    """One model's results by the value of option `key` (the other options where they were):
    start-up and the map's median, per value, per demo and worker count (None: no row ran in
    more than one value)."""
    groups: dict[tuple[str, int, str], list[Result]] = {}
    for r in results:
        groups.setdefault((r.job, int(r.params.get("workers", 1)), r.options[key]), []).append(r)
    rows: dict[tuple[str, int], list[str]] = {}
    ran: dict[tuple[str, int], int] = {}  # how many values each row compares
    for (demo, workers, value), group in groups.items():
        ran[demo, workers] = ran.get((demo, workers), 0) + 1
        spread, start = stats.elapsed(group), stats.startup(group)
        cells = rows.setdefault((demo, workers), ["-"] * (2 * len(values)))
        i = 2 * values.index(value)
        cells[i : i + 2] = [s(start.median if start else None), s(spread.median if spread else None)]
    headers = ["demo", "workers"] + [f"{v} {what} s" for v in values for what in ("start-up", "map")]
    # A row only the default ran compares nothing (at the quick scale a variant runs one row per demo).
    compared = [(d, w, *cells) for (d, w), cells in rows.items() if ran[d, w] > 1]
    return table(compared, headers) if compared else None


def option_tables(results: Sequence[Result]) -> list[str]:
    """A heading and a table for each option of each model that ran with more than one value,
    comparing results whose other options are at their defaults."""
    parts = []
    for model in dict.fromkeys(r.model for r in results):
        declared = MODELS.get(model)
        if declared is None:
            continue
        mine = [r for r in results if r.model == model]
        for option in declared.takes:
            values = list(dict.fromkeys(r.options[option.name] for r in mine if option.name in r.options))
            if len(values) < 2:
                continue
            others = [
                r
                for r in mine
                if option.name in r.options
                and (DEMOS[r.demo].locked or not option.only_locked)  # a lock kind only where it locks
                and all(v == declared.option(k).choices[0] for k, v in r.options.items() if k != option.name)
            ]
            if (compared := option_table(others, model, option.name, values)) is None:
                continue
            parts += [
                f"{model}, by {option.help} (`{option.name}`; medians; start-up is the start and shutdown "
                "of the pool or loop, apart from the map):",
                compared,
            ]
    return parts


def locks_table(lock_costs: dict[str, float]) -> str:
    """Each lock's cost per acquire and release, measured apart from the demos."""
    rows = [(name, f"{us:.3f}") for name, us in lock_costs.items()]
    return table(rows, ["lock", "us per acquire + release (uncontended, median)"])


def variants_section(results: Sequence[Result], run: RunInfo) -> str:
    """The variants of a model next to each other."""
    parts = option_tables(results) or ["_No model ran here with more than one variant._"]
    if run.lock_costs:
        parts += [
            "Locks, measured apart in the parent process (the manager's is a socket round trip per "
            "acquire and per release):",
            locks_table(dict(run.lock_costs)),
        ]
    return "\n\n".join(parts)
