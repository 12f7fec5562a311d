"""Race statistics: how often the racy counter loses an update, with a confidence interval.

The article saw "5, 4, 2, 1, 3" once and called it random. How random is a proportion: of N
trials of one variant at one size, how many lost at least one update. Each row gives that
proportion with its Wilson score 95% interval (which stays within 0..1 and behaves at 0 and N,
where the textbook interval does not), and the mean fraction of updates lost.

The trials are ordinary `racy-counter` results (`lab.run_trials`), kept in the results file's
`races`; the rows and the chart are computed from them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.pictures import PLOT_HINT, pyplot, save
from lab.results import Result

if TYPE_CHECKING:
    from lab.studies.suite import Variant

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile
HEADERS = ("variant", "yield point", "workers x increments", "trials", "lost in", "P(lost)", "95% interval",
           "mean fraction lost")  # fmt: skip


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion `successes / trials` (z = 1.96: 95%)."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    # The interval always holds p: at 0 or all successes its end is p itself, where the float
    # arithmetic can land a hair inside (5.6e-17 at 0 of 3).
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


@dataclass(frozen=True)
class Row:
    """One variant at one size: trials, how many lost an update, the proportion and its interval."""

    variant: str
    yield_point: str
    workers: int
    increments: int
    trials: int
    lost_trials: int
    p_lost: float
    ci_low: float
    ci_high: float
    mean_lost_fraction: float
    failed: int  # trials that did not complete (not counted in `trials`)

    def to_dict(self) -> dict[str, Any]:
        """The row as `lab races --json` prints it."""
        return asdict(self)


def rows(results: Sequence[Result]) -> list[Row]:
    """The rows of some racy-counter results: one per variant, yield point, workers and increments."""
    groups: dict[tuple[str, str, int, int], list[Result]] = {}
    for r in results:
        key = (r.variant, str(r.params.get("yield_point", "sleep0")), int(r.params["workers"]),
               int(r.params["increments"]))  # fmt: skip
        groups.setdefault(key, []).append(r)
    out = []
    for (variant, point, workers, increments), group in groups.items():
        done = [r for r in group if r.lost is not None and r.expected]
        lost = sum(1 for r in done if (r.lost or 0) > 0)
        low, high = wilson(lost, len(done))
        fractions = [(r.lost or 0) / (r.expected or 1) for r in done]
        out.append(
            Row(
                variant,
                point,
                workers,
                increments,
                len(done),
                lost,
                lost / len(done) if done else 0.0,
                low,
                high,
                sum(fractions) / len(fractions) if fractions else 0.0,
                len(group) - len(done),
            )
        )
    return out


def race(
    demo: str,
    chosen: Sequence[Variant],
    *,
    increments: Sequence[int],
    trials: int,
    yield_points: Sequence[str] = ("sleep0",),
    workers: int = 5,
    run: Callable[..., list[Result]],
    into: list[Result] | None = None,
    each: Callable[[str], None] = lambda _: None,
) -> list[Result]:
    """`trials` trials of `demo` (a racy counter) for every variant, size and yield point (`run` is
    `run_trials`; `each` is told what runs next, for a progress display). The results go into
    `into` as they come, so that a caller keeps them when Ctrl-C stops the rest."""
    results: list[Result] = [] if into is None else into
    for variant in chosen:
        for point in yield_points:
            for count in increments:
                each(f"{variant.label} · {point} · {workers} x {count}")
                results += run(demo, variant.model, trials, workers=workers, increments=count,
                               yield_point=point, **variant.options)  # fmt: skip
    return results


def cells(row: Row) -> list[str]:
    """A row as the tables show it."""
    return [row.variant, row.yield_point, f"{row.workers} x {row.increments}", str(row.trials),
            f"{row.lost_trials}/{row.trials}", f"{row.p_lost:.2f}", f"{row.ci_low:.2f}-{row.ci_high:.2f}",
            f"{row.mean_lost_fraction:.3f}"]  # fmt: skip


def chart(results: Sequence[Result], path: Path, title: str) -> str | None:
    """P(an update is lost) with its 95% interval: against increments per worker (log x), one line
    per variant and yield point; or, with one size only, a dot per variant. None, or why not drawn."""
    plt = pyplot()
    if plt is None:
        return PLOT_HINT
    table = rows(results)
    lines: dict[tuple[str, str], list[Row]] = {}
    for row in table:
        lines.setdefault((row.variant, row.yield_point), []).append(row)
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=100)
    sizes = sorted({r.increments for r in table})
    if len(sizes) == 1:
        ordered = [mine[0] for mine in lines.values()]
        ax.errorbar(
            range(len(ordered)), [r.p_lost for r in ordered], yerr=interval(ordered), fmt="o", capsize=4
        )
        ax.set_xticks(range(len(ordered)), [name(*key) for key in lines], rotation=25, ha="right", fontsize=8)
        ax.set_xlabel(
            f"{ordered[0].workers} workers x {sizes[0]} increment(s), {ordered[0].trials} trials each"
        )
    else:
        markers, dashes = "osD^v<>p", ["-", "--", ":", "-."]
        for i, (key, mine) in enumerate(lines.items()):
            mine.sort(key=lambda r: r.increments)
            style = {"marker": markers[i % len(markers)], "linestyle": dashes[i % len(dashes)],
                     "label": name(*key), "markersize": max(3.0, 8 - i), "capsize": 3}  # fmt: skip
            ax.errorbar([r.increments for r in mine], [r.p_lost for r in mine], yerr=interval(mine), **style)
        ax.set_xscale("log")
        ax.set_xticks(sizes, [str(s) for s in sizes])
        ax.set_xlabel("increments per worker")
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel("P(a trial loses an update)")
    ax.grid(True, alpha=0.3)
    ax.set_title(title, fontsize=10)
    save(plt, fig, path)
    return None


def interval(rows: Sequence[Row]) -> list[list[float]]:
    """Error bars: the distances from each proportion down and up to its interval's ends."""
    return [[r.p_lost - r.ci_low for r in rows], [r.ci_high - r.p_lost for r in rows]]


def name(variant: str, yield_point: str) -> str:
    """A line's or a dot's label: the variant, and its yield point unless the default."""
    return variant if yield_point == "sleep0" else f"{variant}, yield {yield_point}"


def summary(results: Sequence[Result]) -> str:
    """A one-line description of a race run: trials per row and the interval's method."""
    table = rows(results)
    n = sorted({r.trials for r in table})
    return (
        f"{'/'.join(map(str, n))} trials per row; P(lost) is the share of trials that lost at least one "
        "update, with its Wilson score 95% interval"
    )
