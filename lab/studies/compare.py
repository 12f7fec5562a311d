"""Comparing results files, like pyperf's `compare_to`: rows matched, medians side by side, ratios,
and whether a difference is larger than the noise.

Rows match when their demo, variant and parameters agree (the timeout and the server's address
left out: they say how a run was guarded, not what it measured). The first file is the baseline.

Larger than the noise: a two-sided Mann-Whitney U test on the trials' times (exact for small
samples, the normal approximation past 400 pairs), at the 5% level. It assumes nothing about the
times' distribution, only that the trials of one row are exchangeable. With few trials it cannot
say much: with 3 trials against 3, the smallest p it can give is 0.10, so no difference is ever
called significant, and the table says "too few trials" instead of pretending.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lab import journal
from lab.demos import DEMOS
from lab.errors import BadResultsFile
from lab.results import Result, ResultsFile, read_text, results_from, undrawable

LEVEL = 0.05
IGNORED = ("timeout", "server")  # how a run was guarded or where its server was, not what it measured


@dataclass(frozen=True)
class Loaded:
    """One file's rows: (kind, demo, variant, parameters) -> trial times, and what made the file."""

    name: str
    rows: Mapping[tuple[str, str, str, str], list[float]]
    about: str


def key(result: Result, kind: str) -> tuple[str, str, str, str]:
    """The row a result belongs to: its kind (main table or sweep), demo, variant and parameters."""
    params = dict(result.params)
    demo = DEMOS.get(result.demo)
    for name, default in demo.defaults.items() if demo else ():
        params.setdefault(name, default)  # a parameter added since the file was written, at its default
    params = {k: v for k, v in sorted(params.items()) if k not in IGNORED}
    described = ", ".join(f"{k}={v}" for k, v in params.items() if v is not None)
    return kind, result.demo, result.variant, described


def load(path: str | Path) -> Loaded:
    """A results file the lab wrote (a report, a sweep or races; any schema version it reads), or a
    JSON array of results (`lab run --json`), or a report's journal (`lab.journal`)."""
    if journal.is_journal(path):
        text, data = journal.read(path).doc().to_json(), {}
    else:
        text = read_text(path)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadResultsFile(f"{str(path)!r} is not JSON ({exc.msg} at line {exc.lineno})") from None
    rows: dict[tuple[str, str, str, str], list[float]] = {}
    if isinstance(data, list):
        groups = {"main": list(results_from(data, repr(str(path))))}
        about = "lab run --json output"
    else:
        doc = ResultsFile.from_json(text, source=repr(str(path)))
        groups = {"main": list(doc.results), "sweep": list(doc.sweeps)}
        env = doc.environment
        about = (f"`{env.get('command', '?')}` on {env.get('date', '?')}, "
                 f"{env.get('implementation', 'Python')} {env.get('python', '?')}")  # fmt: skip
    try:
        for kind, results in groups.items():
            for r in results:
                if r.elapsed_s is not None and not r.timing.get("recorded"):
                    rows.setdefault(key(r, kind), []).append(r.elapsed_s)
    except Exception as exc:  # a value the schema admits (a parameter, `timing`) that is not what it says
        raise undrawable(repr(str(path)), exc) from None
    return Loaded(str(path), rows, about)


@cache
def arrangements(n: int, m: int, u: int) -> int:
    """How many orderings of n values against m give the Mann-Whitney statistic u (no ties)."""
    if u < 0:
        return 0
    if n == 0 or m == 0:
        return 1 if u == 0 else 0
    return arrangements(n - 1, m, u - m) + arrangements(n, m - 1, u)


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    """The two-sided p-value of the Mann-Whitney U test of `a` against `b` (ties count a half)."""
    n, m = len(a), len(b)
    if n == 0 or m == 0:
        return 1.0
    u = sum(1.0 if x > y else 0.5 if x == y else 0.0 for x in a for y in b)
    low = min(u, n * m - u)
    if n * m <= 400:
        total = math.comb(n + m, n)
        tail = sum(arrangements(n, m, k) for k in range(math.floor(low) + 1)) / total
        return min(1.0, 2 * tail)
    mean, sd = n * m / 2, math.sqrt(n * m * (n + m + 1) / 12)
    z = (low + 0.5 - mean) / sd
    return min(1.0, 2 * 0.5 * math.erfc(-z / math.sqrt(2)))


def least_p(n: int, m: int) -> float:
    """The smallest two-sided p the exact test can give with n trials against m: 2 / C(n+m, n)."""
    return min(1.0, 2 / math.comb(n + m, n)) if n and m else 1.0


def verdict(a: Sequence[float], b: Sequence[float]) -> str:
    """`faster`, `slower` (significant at 5%), `same within noise`, or `too few trials`."""
    if least_p(len(a), len(b)) >= LEVEL:
        return f"too few trials (n={len(a)}, {len(b)})"
    p = mann_whitney_p(a, b)
    if p >= LEVEL:
        return f"within noise (p={p:.2f})"
    return f"{'slower' if statistics.median(b) > statistics.median(a) else 'faster'} (p={p:.3f})"


def compare(base: Loaded, other: Loaded) -> tuple[list[list[str]], list[str]]:
    """The table of rows both files have, and the rows only one of them has."""
    table, unmatched = [], []
    for row_key in dict.fromkeys([*base.rows, *other.rows]):
        kind, demo, variant, params = row_key
        a, b = base.rows.get(row_key), other.rows.get(row_key)
        if a is None or b is None:
            where = Path(other.name if a is None else base.name).name
            unmatched.append(
                f"{demo} · {variant} · {params}"
                + (" (sweep)" if kind == "sweep" else "")
                + f": only in {where}"
            )
            continue
        ma, mb = statistics.median(a), statistics.median(b)
        table.append([
            demo + (" (sweep)" if kind == "sweep" else ""), variant, params, f"{ma:.4f}", f"{mb:.4f}",
            f"{mb / ma:.3f}" if ma > 0 else "-", verdict(a, b),
        ])  # fmt: skip
    return table, unmatched


HEADERS = ("demo", "variant", "parameters", "A median s", "B median s", "B / A", "difference")


def markdown(paths: Sequence[str | Path]) -> str:
    """The comparison of every file with the first, as markdown."""
    from tabulate import tabulate  # noqa: PLC0415  (a dependency; imported where it is used)

    loaded = [load(p) for p in paths]
    base = loaded[0]
    lines = ["# lab compare", "", f"A (the baseline): `{base.name}`, {base.about}.", ""]
    for other in loaded[1:]:
        table, unmatched = compare(base, other)
        lines += [f"## B: `{other.name}`", "", f"{other.about}.", ""]
        if table:
            lines += [tabulate(table, HEADERS, tablefmt="github", disable_numparse=True), ""]
        else:
            lines += ["_No row matches: the files ran different demos, variants or parameters._", ""]
        if unmatched:
            lines += ["Unmatched rows:", "", *(f"- {u}" for u in unmatched), ""]
    lines += [
        "B / A is the ratio of medians (above 1: B slower). *difference*: a two-sided Mann-Whitney U "
        "test on the trials' times at 5%; it assumes no distribution, but with few trials it cannot "
        "call anything (3 against 3: p is at least 0.10), and says so.",
        "",
    ]
    return "\n".join(lines)
