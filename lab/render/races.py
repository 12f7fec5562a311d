"""Race statistics: the racy counter's lost updates as proportions with 95% intervals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lab import pictures
from lab.render.common import table
from lab.results import Result
from lab.studies import races


def races_section(results: Sequence[Result], drawn: Mapping[str, Mapping[str, str]]) -> str:
    """The race table (one row per variant, yield point and size), its chart, and how to read it."""
    if not results:
        return "_Race statistics did not run at this scale (or the racy counter was left out)._"
    rows = races.rows(results)
    text = (
        f"{races.summary(results)}. A trial *loses* when the counter ends below workers x "
        "increments. Yield point `sleep0` is the demos' own (a `sleep(0)` between the read and the "
        "write); `none` is the bare read-modify-write.\n\n"
        + table([races.cells(r) for r in rows], list(races.HEADERS))
    )
    return (
        text
        + "\n\n"
        + pictures.markdown(
            results[0].demo, {k: dict(v) for k, v in drawn.items()}, "race statistics", "Chart"
        )
    )
