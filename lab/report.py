"""The markdown report, rendered from a `ResultsFile` alone (so `--from` re-renders it exactly).

Five sections: execution time, counter correctness, the article's figures beside ours, what the
numbers show (sentences computed from the numbers, never canned), and the environment.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tabulate import tabulate

from lab import stats, sweep
from lab.results import Result, ResultsFile

ARTICLE_SLEEP_S = 5.0
ARTICLE_POOL_MAP = {5: 5.0095, 1: 25.03}  # seconds, processes = 5 and processes = 1
ARTICLE_RACY = "5, 4, 2, 1, 3 (random)"
ARTICLE_LOCKED = "always 5"
TIMED = (
    "`elapsed` is the work alone, every worker already started, as the article timed its map; "
    "`start-up` is starting and shutting down the pool or event loop, reported apart. "
    "Clock: `time.perf_counter`. Medians over the trials, with min-max; a row whose max/min is "
    "above 1.5 or whose standard deviation is above 10% is marked *unstable*."
)


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A GitHub pipe table, with numbers kept exactly as formatted here."""
    return tabulate(rows, headers, tablefmt="github", disable_numparse=True, missingval="-")


def s(value: float | None, digits: int = 4) -> str:
    """Seconds, or '-'."""
    return "-" if value is None else f"{value:.{digits}f}"


def by_workers(results: Iterable[Result]) -> dict[tuple[str, str, int], list[Result]]:
    """Results grouped by (demo, variant, workers), in the order first seen."""
    groups: dict[tuple[str, str, int], list[Result]] = {}
    for r in results:
        groups.setdefault((r.demo, r.variant, int(r.params.get("workers", 1))), []).append(r)
    return groups


def median_of(groups: dict[tuple[str, str, int], list[Result]], key: tuple[str, str, int]) -> float | None:
    """The median elapsed time of one group, or None."""
    spread = stats.elapsed(groups.get(key, []))
    return spread.median if spread else None


def time_table(results: Sequence[Result]) -> str:
    """Section 1: time per demo, variant and worker count."""
    groups = by_workers(results)
    rows = []
    for (demo, variant, workers), group in groups.items():
        spread, start = stats.elapsed(group), stats.startup(group)
        first = group[0]
        ideal = first.ideal_s
        over_ms = over_pct = speedup = None
        if spread and ideal is not None:
            over_ms = f"{(spread.median - ideal) * 1000:.1f}"
            over_pct = f"{(spread.median - ideal) / ideal * 100:.1f}" if ideal else None
        single = median_of(groups, (demo, variant, 1))
        if spread and single and workers > 1 and spread.median > 0:
            speedup = f"{single / spread.median:.2f}x"
        rows.append(
            (
                demo,
                variant,
                workers,
                first.params.get("tasks", workers),
                s(ideal, 2) if ideal is not None else None,
                s(spread.median if spread else None),
                f"{s(spread.low)}-{s(spread.high)}" if spread else None,
                f"{spread.stdev * 1000:.2f}" if spread else None,
                over_ms,
                over_pct,
                s(start.median if start else None),
                speedup,
                note(spread),
            )
        )
    headers = [
        "demo",
        "variant",
        "workers",
        "tasks",
        "ideal s",
        "median s",
        "min-max s",
        "stdev ms",
        "overhead ms",
        "overhead %",
        "start-up s",
        "speedup vs 1 worker",
        "note",
    ]
    return table(rows, headers)


def note(spread: stats.Spread | None) -> str:
    """The warning a timing row deserves, if any."""
    if spread is None:
        return "FAILED"
    if spread.too_short:
        return "too short to time"
    return "unstable" if spread.unstable else ""


def counter_table(results: Sequence[Result]) -> str:
    """Section 2: per counter demo and variant, what the counter ended at over the trials."""
    rows = []
    for (demo, variant), group in stats.group(r for r in results if r.expected is not None).items():
        done = [r for r in group if r.observed is not None]
        lost = [r.lost for r in done if r.lost is not None]
        rows.append(
            (
                demo,
                variant,
                f"{group[0].params.get('workers', 1)} x {group[0].params['increments']}",
                group[0].expected,
                stats.tally(r.observed for r in group),
                f"{sum(bool(r.correct) for r in group)}/{len(group)}",
                f"{statistics.fmean(lost):.1f}" if lost else None,
            )
        )
    headers = [
        "demo",
        "variant",
        "workers x increments",
        "expected",
        "observed (value x trials)",
        "correct",
        "mean lost updates",
    ]
    return table(rows, headers)


def pick(results: Sequence[Result], demo: str, model: str, default_method: str) -> list[Result]:
    """A model's results for a demo, processes under the platform's default start method only."""
    return [
        r
        for r in results
        if r.demo == demo
        and r.model == model
        and r.options.get("start_method", default_method) == default_method
        and r.options.get("lock", "mp") == "mp"
        and r.options.get("loop", "asyncio") == "asyncio"
    ]


def article_table(results: Sequence[Result], environment: dict[str, Any], scale: str) -> str:
    """Section 3: the article's figures beside ours, on the same parameters (or scaled, said so)."""
    method = environment.get("default_start_method", "fork")
    groups = by_workers(results)
    rows = []
    for workers, figure in ARTICLE_POOL_MAP.items():
        ours = [r for r in pick(results, "pool-map", "processes", method) if r.params["workers"] == workers]
        if not ours:
            continue
        sleep = float(ours[0].params["sleep"])
        scaled = figure * sleep / ARTICLE_SLEEP_S
        lab = {
            m: median_of(groups, ("pool-map", f"{m}+{method}+mp" if m == "processes" else m, workers))
            for m in ("processes", "threads", "asyncio")
        }
        rows.append(
            (
                f"pool map, {workers} worker{'s' if workers > 1 else ''}, 5 x sleep({sleep:g})",
                f"{figure} s (processes = {workers})",
                f"{scaled:.4f} s" if scale != "article" else "same parameters",
                "; ".join(f"{m} {s(v)} s" for m, v in lab.items() if v is not None),
            )
        )
    for demo, words in (("racy-counter", ARTICLE_RACY), ("locked-counter", ARTICLE_LOCKED)):
        ours = pick(results, demo, "processes", method)
        if ours:
            p = ours[0].params
            kind = "unlocked" if demo == "racy-counter" else "locked"
            rows.append(
                (
                    f"{kind} counter, {p['workers']} x {p['increments']}",
                    f"{words} (expected 5)",
                    "same parameters"
                    if (p["workers"], p["increments"]) == (5, 1)
                    else "not comparable: larger counter",
                    f"processes: {stats.tally(r.observed for r in ours)} (expected {ours[0].expected})",
                )
            )
    note = "The article timed `Pool.map` alone with the pool already started, as `elapsed` does here. " + (
        "At this scale the waits are shorter than the article's 5 s, so its times are also shown "
        "scaled to ours (times sleep / 5 s)."
        if scale != "article"
        else ""
    )
    return table(rows, ["demo", "the article", "the article, scaled", "this lab (median)"]) + "\n\n" + note


def findings(results: Sequence[Result], environment: dict[str, Any]) -> list[str]:
    """Section 4: sentences computed from the numbers."""
    groups = by_workers(results)
    lines = []
    for demo in ("pool-map", "cpu-bound"):
        lines += speed_findings(demo, groups)
    lines += race_findings([r for r in results if r.demo == "racy-counter"])
    locked = [r for r in results if r.demo == "locked-counter"]
    if locked:
        wrong = sorted({r.variant for r in locked if not r.correct})
        lines.append(
            f"**locked-counter**: exact in {sum(bool(r.correct) for r in locked)} of {len(locked)} trials"
            + (f"; wrong or failed in {', '.join(wrong)}." if wrong else ": every lock kept every update.")
        )
        per_op = lock_costs(locked)
        if per_op:
            lines.append(
                "Time per locked increment (elapsed / all increments, which the lock serialises): "
                + "; ".join(per_op)
                + "."
            )
    if any(r.demo == "cpu-bound" for r in results):
        gil = environment.get("gil_enabled", True)
        lines.append(
            "This interpreter "
            + (
                "has the GIL enabled: threads are one cook, taking turns on CPU work."
                if gil
                else "runs without the GIL: threads can compute in parallel."
            )
        )
    return lines


def speed_findings(demo: str, groups: dict[tuple[str, str, int], list[Result]]) -> list[str]:
    """Which variant was fastest with the most workers, and each one's speedup over one worker."""
    most = max((w for d, _, w in groups if d == demo), default=0)
    timed = {v: median_of(groups, (d, v, w)) for d, v, w in groups if d == demo and w == most}
    ranked = sorted((t, v) for v, t in timed.items() if t is not None)
    if not ranked:
        return []
    (fast, fastest), (slow, slowest) = ranked[0], ranked[-1]
    line = (
        f"**{demo}** with {most} workers: fastest {fastest} at {fast:.4f} s, slowest {slowest} at "
        f"{slow:.4f} s ({slow / fast:.2f}x)."
    )
    speedups = []
    for variant, t in timed.items():
        single = median_of(groups, (demo, variant, 1))
        if single and t:
            speedups.append(f"{variant} {single / t:.2f}x")
    if speedups and most > 1:
        line += f" Speedup of {most} workers over 1: " + ", ".join(speedups) + "."
    return [line]


def race_findings(racy: Sequence[Result]) -> list[str]:
    """Where updates were lost, how often and how many."""
    if not racy:
        return []
    parts = []
    for variant, group in stats.group(racy).items():
        lossy = [r.lost for r in group if r.lost]
        parts.append(
            f"{variant[1]} in {len(lossy)}/{len(group)} trials"
            + (f" (mean {statistics.fmean(lossy):.1f} of {group[0].expected})" if lossy else "")
        )
    return ["**racy-counter**: updates were lost in " + "; ".join(parts) + "."]


def lock_costs(locked: Sequence[Result]) -> list[str]:
    """Median elapsed per increment for each locked variant, in microseconds."""
    out = []
    for (_, variant), group in stats.group(locked).items():
        spread = stats.elapsed(group)
        n = group[0].params.get("increments", 0) * group[0].params.get("workers", 1)
        if spread and n and not group[0].params.get("sleep"):  # with a wait first, the wait dominates
            out.append(f"{variant} {spread.median / n * 1e6:.1f} us")
    return out


def loops_table(results: Sequence[Result]) -> str:
    """asyncio's own event loop beside uvloop, demo by demo."""
    groups = by_workers(r for r in results if r.model == "asyncio")
    rows = []
    for demo, variant, workers in groups:
        if variant != "asyncio" or (demo, "asyncio+uvloop", workers) not in groups:
            continue
        own, uv = (
            median_of(groups, (demo, variant, workers)),
            median_of(groups, (demo, "asyncio+uvloop", workers)),
        )
        ratio = f"{uv / own:.2f}" if own and uv else None
        rows.append((demo, workers, s(own), s(uv), ratio))
    if not rows:
        return "_No run here had both loops._"
    return table(rows, ["demo", "workers", "asyncio loop s", "uvloop s", "uvloop / asyncio"])


def start_methods_table(results: Sequence[Result]) -> str:
    """Processes under each start method: start-up and the map, apart."""
    methods = list(dict.fromkeys(r.options["start_method"] for r in results if r.model == "processes"))
    groups = by_workers(r for r in results if r.model == "processes" and r.options.get("lock") == "mp")
    rows: dict[tuple[str, int], list[str]] = {}
    for (demo, _, workers), group in groups.items():
        method = group[0].options["start_method"]
        spread, start = stats.elapsed(group), stats.startup(group)
        cells = rows.setdefault((demo, workers), ["-"] * (2 * len(methods)))
        i = 2 * methods.index(method)
        cells[i : i + 2] = [s(start.median if start else None), s(spread.median if spread else None)]
    if not rows:
        return "_No processes run here._"
    headers = ["demo", "workers"] + [f"{m} {what} s" for m in methods for what in ("start-up", "map")]
    return table([(d, w, *cells) for (d, w), cells in rows.items()], headers)


def locks_table(lock_costs: dict[str, float]) -> str:
    """Each lock's cost per acquire and release, measured apart from the demos."""
    rows = [(name, f"{us:.3f}") for name, us in lock_costs.items()]
    return table(rows, ["lock", "us per acquire + release (uncontended, median)"])


def variants_section(results: Sequence[Result], run: dict[str, Any]) -> str:
    """Section 5: the variants of a model next to each other."""
    parts = [
        "Event loops (medians of `elapsed`):",
        loops_table(results),
        "Start methods (medians; start-up is the pool's start and shutdown, apart from the map):",
        start_methods_table(results),
    ]
    if run.get("lock_costs"):
        parts += [
            "Locks, measured apart in the parent process (the manager's is a socket round trip per "
            "acquire and per release):",
            locks_table(run["lock_costs"]),
        ]
    return "\n\n".join(parts)


def sweep_section(sweeps: Sequence[Result], charts: dict[str, dict[str, str]]) -> str:
    """Section 6: each swept demo's table, and its chart beside the report (or why there is none)."""
    if not sweeps:
        return "No sweep in this run."
    parts = [
        "Each model (default options) at several worker counts. Efficiency is ideal / measured: for "
        "pool-map the waits alone; for cpu-bound the model's one-worker time / min(workers, tasks), "
        "perfect parallelism with a core per worker, which no machine reaches beyond its cores."
    ]
    for demo in dict.fromkeys(r.demo for r in sweeps):
        group = [r for r in sweeps if r.demo == demo]
        p = group[0].params
        work = f"{p['rounds']} rounds" if "rounds" in p else f"sleep({p['sleep']:g})"
        parts.append(f"### {demo}: {p.get('tasks')} tasks x {work}")
        parts.append(table(sweep.rows(group), sweep.HEADERS))
        chart = charts.get(demo, {})
        if "file" in chart:
            parts.append(f"![{demo} sweep]({chart['file']})")
        else:
            parts.append(f"_Chart skipped: {chart.get('skipped', 'not drawn')}._")
    return "\n\n".join(parts)


def render_sweep(doc: ResultsFile) -> str:
    """The markdown of `lab sweep`: what ran, the table, the chart, where."""
    env, run = dict(doc.environment), dict(doc.run)
    demo = doc.sweeps[0].demo if doc.sweeps else "?"
    parts = [
        f"# lab sweep: {demo}",
        f"Made by `{env.get('command')}` on {env.get('date')}, {run.get('trials')} trials per point. {TIMED}",
        sweep_section(doc.sweeps, run.get("charts", {})),
        "## Environment\n\n" + environment_table(env, []),
    ]
    return "\n\n".join(parts) + "\n"


def environment_table(environment: dict[str, Any], skipped: Sequence[dict[str, str]]) -> str:
    """Section 5: where the numbers come from."""
    env = dict(environment)
    packages = env.pop("packages", {})
    rows = [(k.replace("_", " "), ", ".join(v) if isinstance(v, list) else v) for k, v in env.items()]
    rows.append(("packages", ", ".join(f"{k} {v}" for k, v in packages.items())))
    rows += [(f"skipped: {x['variant']}", x["reason"]) for x in skipped]
    return table(rows, ["", ""])


def render(doc: ResultsFile) -> str:
    """The whole markdown report."""
    results, env, run = list(doc.results), dict(doc.environment), dict(doc.run)
    failed = [r for r in results if r.error]
    parts = [f"# lab report: {run.get('scale', '?')} scale"]
    if run.get("partial"):
        parts.append(
            f"> **PARTIAL REPORT**: the run was interrupted ({run.get('interrupted', 'stopped')}); "
            f"only the {len(results)} results measured before that are below."
        )
    parts.append(
        f"Made by `{env.get('command')}` on {env.get('date')}: {len(results)} results, "
        f"{run.get('trials')} trials per row. Every number below was measured in that run; "
        "the JSON file beside this one holds each trial."
    )
    parts.append(TIMED)
    sections: list[tuple[str, Callable[[], str]]] = [
        ("1. Execution time", lambda: time_table(results)),
        ("2. Counter correctness", lambda: counter_table(results)),
        ("3. Against the article", lambda: article_table(results, env, str(run.get("scale")))),
        ("4. What the numbers show", lambda: "\n".join(f"- {x}" for x in findings(results, env))),
        ("5. Variants side by side", lambda: variants_section(results, run)),
        ("6. Worker sweeps", lambda: sweep_section(doc.sweeps, run.get("charts", {}))),
        ("7. Environment", lambda: environment_table(env, run.get("skipped", []))),
    ]
    for title, body in sections:
        parts.append(f"## {title}\n\n{body()}")
    if failed:
        rows = [(r.demo, r.variant, r.trial, r.error) for r in failed]
        parts.append("## Failed runs\n\n" + table(rows, ["demo", "variant", "trial", "error"]))
    return "\n\n".join(parts) + "\n"
