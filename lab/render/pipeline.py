"""Messages between workers, a demo's own section (`Section("messages", ...)`: pipeline's): by
message size, what each model's queue costs a message with no work (`rounds` 0, one producer,
one consumer); then, at a fixed count, each variant's time as the CPU work on each message grows,
and the `rounds` from which a variant beats the one that passes bare messages fastest (the
crossover: where processes' parallel work pays for their slower queue)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lab.measure import stats
from lab.measure.stats import MIN_EFFECT, Ratio
from lab.models import MODELS
from lab.render.common import s, table
from lab.results import Result
from lab.studies.sweeps import median_metric, size


def compared(r: Result) -> bool:
    """Whether a result is a variant the section compares: the model's defaults but for options
    tied to a kit primitive the demo uses (`Option.needs`: the queue kind is the lesson here)."""
    declared = MODELS.get(r.model)
    return declared is not None and all(
        value == declared.option(key).choices[0] or declared.option(key).needs is not None
        for key, value in r.options.items()
        if key != "client"
    )


def rows_of(results: Sequence[Result], demo: str) -> list[Result]:
    """The demo's timed results in the variants compared."""
    return [r for r in results if r.demo == demo and r.elapsed_s and not r.error and compared(r)]


def grouped(results: Sequence[Result]) -> dict[tuple[str, tuple[tuple[str, Any], ...]], list[Result]]:
    """Results by (variant, parameters), in the order first seen."""
    found: dict[tuple[str, tuple[tuple[str, Any], ...]], list[Result]] = {}
    for r in results:
        found.setdefault((r.variant, tuple(sorted(r.params.items()))), []).append(r)
    return found


def metric(group: Sequence[Result], name: str) -> float | None:
    """A group's median of one of its metrics."""
    return median_metric(group, lambda r: (r.metrics or {}).get(name))


def median(group: Sequence[Result]) -> float | None:
    """A group's median time (None where no trial has one)."""
    spread = stats.elapsed(group)
    return spread.median if spread else None


def plural(n: int, noun: str) -> str:
    """`1 producer`, `2 consumers`."""
    return f"{n:,} {noun}{'s' * (n != 1)}"


def ms(value: float | None) -> str:
    """Seconds as milliseconds, or '-'."""
    return "-" if value is None else f"{value * 1e3:.3g}"


def by_size(results: Sequence[Result], demo: str) -> list[tuple[Any, ...]]:
    """With no work on a message, one producer and one consumer: each variant at each size (the
    smallest first, the most messages a second first within a size)."""
    bare = [
        r for r in rows_of(results, demo)
        if not r.params["rounds"] and r.params["producers"] == 1 and r.params["consumers"] == 1
    ]  # fmt: skip
    groups = sorted(
        grouped(bare).values(), key=lambda g: (g[0].params["size"], -(metric(g, "messages_per_s") or 0))
    )
    found = []
    for group in groups:
        first, rate = group[0], metric(group, "messages_per_s")
        found.append((
            first.variant,
            size(first.params["size"]),
            f"{first.params['messages']:,}",
            s(median(group)),
            "-" if rate is None else f"{rate:,.0f}",
            "-" if not rate else f"{1e6 / rate:.2f}",
            "-" if (mb := metric(group, "megabytes_per_s")) is None else f"{mb:,.1f}",
            ms(metric(group, "latency_p50_s")),
            ms(metric(group, "latency_p99_s")),
            "-" if (depth := metric(group, "peak_depth")) is None else f"{depth:,.0f}",
        ))  # fmt: skip
    return found


Ladder = tuple[dict[str, Any], list[int], dict[str, dict[int, list[Result]]]]


def ladder(results: Sequence[Result], demo: str) -> Ladder | None:
    """The rounds ladder: the parameters (but `rounds`) that ran at the most values of `rounds`,
    those values, and each variant's trials at each; None where no parameters ran at two values
    with one of them above 0."""
    shapes: dict[tuple[tuple[str, Any], ...], dict[str, dict[int, list[Result]]]] = {}
    for r in rows_of(results, demo):
        shape = tuple(sorted((k, v) for k, v in r.params.items() if k != "rounds"))
        at = shapes.setdefault(shape, {}).setdefault(r.variant, {})
        at.setdefault(int(r.params["rounds"]), []).append(r)

    def rungs(by_variant: Mapping[str, Mapping[int, list[Result]]]) -> list[int]:
        return sorted({n for at in by_variant.values() for n in at})

    usable = [(shape, v) for shape, v in shapes.items() if len(rungs(v)) > 1 and 0 in rungs(v)]
    if not usable:
        return None
    shape, by_variant = max(usable, key=lambda sv: len(rungs(sv[1])))
    return dict(shape), rungs(by_variant), by_variant


def bare_winner(found: Ladder) -> str | None:
    """The variant fastest at `rounds` 0 (the median), the one the others must beat."""
    _, _, by_variant = found
    at_zero = {v: t for v, at in by_variant.items() if (t := median(at.get(0, []))) is not None}
    return min(at_zero, key=lambda v: at_zero[v]) if at_zero else None


def crossover(found: Ladder, variant: str, winner: str) -> str:
    """The smallest `rounds` from which `variant` is shown faster than `winner` (the winner's time
    over the variant's, paired by trial, its whole interval above `MIN_EFFECT`) at every rounds
    above it too: `300 rounds`; where it is at none, `never` if the variant is shown no faster at
    the top rung, else `not shown up to 3,000 rounds` (undecided there); `-` where a rung is
    unmeasured."""
    _, rungs, by_variant = found
    mine, theirs = by_variant.get(variant, {}), by_variant.get(winner, {})
    ratios = [Ratio.of(stats.paired(theirs.get(n, []), mine.get(n, []))) for n in rungs]
    if any(ratio is None for ratio in ratios):
        return "-"
    shown = [ratio is not None and ratio.verdict(MIN_EFFECT) == "slower" for ratio in ratios]
    for i, n in enumerate(rungs):
        if all(shown[i:]):
            return f"{n:,} rounds"
    top = ratios[-1]
    return (
        "never"
        if top is not None and top.verdict(MIN_EFFECT) in ("faster", "tie")
        else f"not shown up to {rungs[-1]:,} rounds"
    )


def crossovers(results: Sequence[Result], demo: str) -> tuple[str, dict[str, str]] | None:
    """The rounds-0 winner and, for every other variant of the ladder, its crossover."""
    found = ladder(results, demo)
    winner = bare_winner(found) if found else None
    if found is None or winner is None:
        return None
    return winner, {v: crossover(found, v, winner) for v in found[2] if v != winner}


def work_rows(found: Ladder, winner: str) -> list[tuple[Any, ...]]:
    """Each rung: the winner's extra time a message over its rounds-0 time (what that much work
    costs, done serially), each variant's median, and its time against the winner's."""
    shape, rungs, by_variant = found
    messages = int(shape["messages"]) or 1
    base = median(by_variant[winner].get(0, []))
    rows = []
    for n in rungs:
        own = median(by_variant[winner].get(n, []))
        work = f"{(own - base) / messages * 1e6:.1f}" if own is not None and base is not None and n else "-"
        cells = []
        for variant, at in by_variant.items():
            ratio = Ratio.of(stats.paired(by_variant[winner].get(n, []), at.get(n, [])))
            against = "" if variant == winner or ratio is None else f" ({ratio.text()})"
            cells.append(s(median(at.get(n, []))) + against)
        rows.append((f"{n:,}", work, *cells))
    return rows


SIZE_HEADERS = ["variant", "message", "messages", "median s", "msg/s", "us a message", "MB/s", "p50 ms",
                "p99 ms", "peak depth"]  # fmt: skip


def messages_section(results: Sequence[Result], demo: str) -> str:
    """What a message costs by size, then the work from which each variant's parallelism pays."""
    parts = []
    sizes = by_size(results, demo)
    if sizes:
        parts.append(
            "No work on a message (`rounds` 0), one producer and one consumer: each model's queue alone. "
            "Per message: the run's time over its messages; latency: from a message's put to its get "
            "(an unbounded queue lets the producer run ahead, which the peak depth shows). MB/s counts "
            "the bytes each message names: asyncio and threads hand over a reference, processes a copy.\n\n"
            + table(sizes, SIZE_HEADERS)
        )
    found = ladder(results, demo)
    winner = bare_winner(found) if found else None
    if found and winner:
        shape = found[0]
        parts.append(
            f"CPU work on each message (`rounds` of pure Python), {shape['messages']:,} messages of "
            f"{size(shape['size'])}, {plural(shape['producers'], 'producer')}, "
            f"{plural(shape['consumers'], 'consumer')}: "
            f"median seconds, and in brackets {winner}'s time over the variant's, paired by trial (above 1: "
            f"the variant is faster), with its 95% interval. Work a message: {winner}'s extra time a "
            "message over its time with no work.\n\n"
            + table(work_rows(found, winner), ["rounds", "work a message (us)", *found[2]])
        )
        others = [v for v in found[2] if v != winner]
        if others:
            parts.append(
                f"Faster than {winner} (the fastest with no work; its interval above {MIN_EFFECT:g}x at "
                "every rounds from there on) from: "
                + ", ".join(f"{v} {crossover(found, v, winner)}" for v in others)
                + "."
            )
    return "\n\n".join(parts) if parts else f"No {demo} results in this run."
