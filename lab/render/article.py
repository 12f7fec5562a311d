"""The article's figures beside ours, on the same parameters (or scaled, said so).

The article and Real Python measured three approaches (processes, threads, asyncio); each model
says which of them it is (`Model.approach`, declared by the model's own class: a plug-in that
subclasses one inherits its code, not its place in these tables)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lab.demos import DEMOS, Role, having
from lab.measure import stats
from lab.render.common import by_workers, defaults_of, median_of, model_for, s, table
from lab.results import Result

ARTICLE_SLEEP_S = 5.0
ARTICLE_POOL_MAP = {5: 5.0095, 1: 25.03}  # seconds, processes = 5 and processes = 1
ARTICLE_RACY = "5, 4, 2, 1, 3 (random)"
ARTICLE_LOCKED = "always 5"


def pick(results: Sequence[Result], demo: str, approach: str) -> list[Result]:
    """The results of the model standing for `approach` in a demo, with its default options."""
    model = model_for(approach)
    return [r for r in results if r.demo == demo and r.model == model and defaults_of(r.model, r.options)]


def shown(r: Result) -> str:
    """A default variant's name in these tables: its model, and its interpreter where the report
    ran several (`processes@3.13.0`)."""
    return f"{r.model}@{r.python['label']}" if r.python else r.model


def article_table(results: Sequence[Result], environment: dict[str, Any], scale: str) -> str:
    """The article's figures beside ours, on the same parameters (or scaled, said so).

    The article and Real Python measured three approaches (processes, threads, asyncio); each model
    says which of them it is (`Model.approach`, declared by the model's own class: a plug-in that
    subclasses one inherits its code, not its place in these tables)."""
    groups = by_workers(results)
    rows = []
    for demo in both("waiting workers"):
        rows += pool_rows(results, groups, demo, scale)
    for demo in both("racy counter"):
        rows += counter_rows(results, demo, "unlocked", ARTICLE_RACY)
    for demo in both("locked counter"):
        rows += counter_rows(results, demo, "locked", ARTICLE_LOCKED)
    note = "The article timed `Pool.map` alone with the pool already started, as `elapsed` does here. " + (
        "At this scale the waits are shorter than the article's 5 s, so its times are also shown "
        "scaled to ours (times sleep / 5 s)."
        if scale != "article"
        else ""
    )
    return table(rows, ["demo", "the article", "the article, scaled", "this lab (median)"]) + "\n\n" + note


def both(role: Role) -> list[str]:
    """The demos in `role` that also stand beside the article's figures."""
    return [name for name in having(role) if "article" in DEMOS[name].roles]


def pool_rows(
    results: Sequence[Result], groups: dict[tuple[str, str, int], list[Result]], demo: str, scale: str
) -> list[tuple[str, str, str, str]]:
    """The article's pool map (demo 1) beside ours, at each of its worker counts."""
    pooled = [r for r in results if r.demo == demo]
    rows = []
    for workers, figure in ARTICLE_POOL_MAP.items():
        ours = [r for r in pick(results, demo, "processes") if r.params["workers"] == workers]
        if not ours:
            continue
        sleep = float(ours[0].params["sleep"])
        scaled = figure * sleep / ARTICLE_SLEEP_S
        lab = {  # each model's default variant; in a report across Pythons, one per interpreter
            shown(r): median_of(groups, (demo, r.variant, workers))
            for m in filter(None, map(model_for, ("processes", "threads", "asyncio")))
            for r in pooled
            if r.model == m and defaults_of(m, r.options) and r.params["workers"] == workers
        }
        rows.append(
            (
                f"pool map, {workers} worker{'s' if workers > 1 else ''}, 5 x sleep({sleep:g})",
                f"{figure} s (processes = {workers})",
                f"{scaled:.4f} s" if scale != "article" else "same parameters",
                "; ".join(f"{m} {s(v)} s" for m, v in lab.items() if v is not None),
            )
        )
    return rows


def counter_rows(
    results: Sequence[Result], demo: str, kind: str, words: str
) -> list[tuple[str, str, str, str]]:
    """The article's counter (its demo 3, unlocked, or 4, locked) beside ours."""
    ours = pick(results, demo, "processes")
    if not ours:
        return []
    p = ours[0].params
    tallies = "; ".join(
        f"{label}: {stats.tally(r.observed for r in ours if shown(r) == label)}"
        for label in dict.fromkeys(map(shown, ours))
    )
    return [(
        f"{kind} counter, {p['workers']} x {p['increments']}",
        f"{words} (expected 5)",
        "same parameters" if (p["workers"], p["increments"]) == (5, 1) else "not comparable: larger counter",
        tallies + f" (expected {ours[0].expected})",
    )]  # fmt: skip


REAL_PYTHON = (  # "Speed Up Your Python Program With Concurrency", 2024: 160 pages over the internet
    ("synchronous (1 at a time)", "threads", "one", 14.29),
    ("5 threads", "threads", "five", 3.19),
    ("asyncio, all in flight", "asyncio", "all", 0.49),
    ("processes, one per core", "processes", "cores", 3.43),
)


def real_python_table(results: Sequence[Result], environment: dict[str, Any]) -> str:
    """Real Python's four figures beside this lab's http-get at the same number in flight."""
    fetching = having("real python")
    fetched = [
        r for r in results if r.demo in fetching and not r.options.get("client", "").startswith("httpx")
    ]
    fetched = [r for r in fetched if defaults_of(r.model, r.options)]  # the client is left to vary
    if not fetched:
        return f"_{', '.join(fetching) or 'No demo in the role real python'} did not run._"
    groups = by_workers(fetched)
    in_flight = {
        "one": 1,
        "five": 5,
        "all": max(w for _, _, w in groups),
        "cores": environment.get("cpus_usable"),
    }
    rows = []
    for label, approach, key, theirs in REAL_PYTHON:
        workers, model = in_flight[key], model_for(approach)
        matches = [k for k in groups if k[1].split("+")[0] == model and k[2] == workers]
        ours = median_of(groups, matches[0]) if matches else None
        p = groups[matches[0]][0].params if matches else {}
        setup = (
            f"{p['requests']} x latency {p['latency']:g} s, {workers} in flight"
            if p
            else "not run at this scale"
        )
        rows.append((label, f"{theirs} s", setup, f"{s(ours)} s" if ours is not None else "-"))
    text = (
        "Real Python's figures went over the internet to real web sites (requests for the synchronous, "
        "threads and processes versions, aiohttp for asyncio); ours go over loopback to the lab's "
        "server, which waits `latency` seconds per request. Their 14.29 s for 160 pages is about "
        "89 ms a page, which the article-scale report's latency of 0.09 s reproduces."
    )
    return table(rows, ["Real Python", "theirs", "this lab's run", "this lab (median)"]) + "\n\n" + text
