"""Network I/O, a demo's own section (`Section("network", ...)`: http-get's): time, requests/s,
per-request latency, verified responses, memory per request in flight, and whether the server
rather than the model was measured."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from lab.measure import stats
from lab.render.common import by_workers, note, s, table
from lab.results import Result
from lab.studies.sweeps import median_metric, per_worker_bytes, requests_per_s, size

SERVER_BOUND = 0.5  # a run at half the server's ceiling or more measured the server too


def latency_ms(group: Sequence[Result], key: str) -> str:
    """The median over trials of a per-request latency figure, in milliseconds."""
    value = median_metric(group, lambda r: r.metrics.get(key) if r.metrics else None)
    return "-" if value is None else f"{value * 1000:.1f}"


def server_bound(rate: float | None, ceiling: Mapping[str, Any] | None) -> bool:
    """Whether a run's requests/s came within half of the server's measured ceiling."""
    top = (ceiling or {}).get("ceiling")
    return bool(rate and top and rate >= SERVER_BOUND * top)


def network_table(results: Sequence[Result], ceiling: Mapping[str, Any] | None, demo: str) -> str:
    """One row per variant and requests in flight."""
    groups = {k: g for k, g in by_workers(results).items() if k[0] == demo}
    if not groups:
        return f"_{demo} did not run._"
    rows = []
    for (_, variant, workers), group in groups.items():
        spread, p = stats.elapsed(group), group[0].params
        rate = median_metric(group, requests_per_s)
        verified = f"{sum(r.observed or 0 for r in group)}/{sum(r.expected or 0 for r in group)}"
        flag = "server-bound" if server_bound(rate, ceiling) else note(spread)
        held = median_metric(group, lambda r: r.metrics.get("in_flight_mean") if r.metrics else None)
        rows.append((
            variant, workers, "-" if held is None else f"{held:.1f}", p["requests"], f"{p['latency']:g}",
            s(group[0].ideal_s),
            s(spread.median if spread else None), "-" if rate is None else f"{rate:.0f}",
            latency_ms(group, "latency_p50_s"), latency_ms(group, "latency_p99_s"), verified,
            size(median_metric(group, per_worker_bytes)), flag,
        ))  # fmt: skip
    headers = ["variant", "in flight", "held", "requests", "latency s", "ideal s", "median s", "requests/s",
               "p50 ms", "p99 ms", "verified", "memory per worker", "note"]  # fmt: skip
    explain = (
        "Every response is checked: status, length and content (`verified`, over all trials). "
        "`median s` is the whole batch, connections opened inside it; `p50` and `p99` are one "
        "request's time, medians over the trials; `held` is how many were in flight on average "
        "(the requests' own times over the batch's, Little's law), `in flight` the most allowed; "
        "memory per worker is (peak - baseline) / requests in flight, the PSS of the lab and its "
        "workers, the server's left out."
    )
    return table(rows, headers) + "\n\n" + explain


def network_findings(results: Sequence[Result], ceiling: Mapping[str, Any] | None, demo: str) -> list[str]:
    """Which model moved the requests fastest and which held them most cheaply, from the numbers."""
    groups = {k: g for k, g in by_workers(results).items() if k[0] == demo}
    if not groups:
        return []
    most = max(w for _, _, w in groups)
    top = {v: g for (_, v, w), g in groups.items() if w == most}
    timed = sorted((spread.median, v) for v, g in top.items() if (spread := stats.elapsed(g)))
    if not timed:
        return []
    memory = {v: median_metric(g, per_worker_bytes) for v, g in top.items()}
    line = (
        f"**{demo}** with {most} requests in flight: fastest {timed[0][1]} at {timed[0][0]:.4f} s, "
        f"slowest {timed[-1][1]} at {timed[-1][0]:.4f} s ({timed[-1][0] / timed[0][0]:.2f}x). "
        "Memory per request in flight: " + ", ".join(f"{v} {size(m)}" for v, m in memory.items()) + "."
    )
    bound = [v for v, g in top.items() if server_bound(median_metric(g, requests_per_s), ceiling)]
    if bound:
        line += f" {', '.join(bound)} came within half of the server's ceiling: the server was measured too."
    failed = [r for r in results if r.demo == demo and r.observed != r.expected]
    if failed:
        lost = statistics.fmean((r.expected or 0) - (r.observed or 0) for r in failed)
        line += f" {len(failed)} trials had failed requests (mean {lost:.1f}); see Failed runs."
    return [line]


def ceiling_text(ceiling: Mapping[str, Any] | None) -> str:
    """The server's ceiling, for the environment section."""
    if not ceiling:
        return "not measured"
    rates = ", ".join(
        f"{k} {v:.0f}" if v else f"{k}: not available" for k, v in ceiling["requests_per_s"].items()
    )
    return f"{rates} requests/s ({ceiling['how']})"
