"""The HTTP server's ceiling on this machine: requests/s at zero latency, measured apart.

Two measurements of the same server (`lab.http.server.LocalServer`, 2000-byte bodies, 100
connections): `wrk`, a C load generator, where it is installed (`apt-get install wrk`), which
measures the server; and the lab's own asyncio model (aiohttp on uvloop), which measures the
server and one Python client together, a lower bound of the server's ceiling. An http-get run
that comes within half of the ceiling measured the server as much as the model.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any

from lab.demos import DEMOS
from lab.http.server import KEEPER
from lab.models import MODELS
from lab.results import variant_label
from lab.runner import run

CONNECTIONS = 100
WRK_SECONDS = 2
CLIENT_REQUESTS = 5000


def with_wrk(url: str) -> float | None:
    """wrk's requests/s against `url` (None where wrk is not installed or failed)."""
    if shutil.which("wrk") is None:
        return None
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{WRK_SECONDS}s", f"{url}/1?latency=0&size=2000"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=WRK_SECONDS + 20, check=False)
    except subprocess.TimeoutExpired:
        return None
    found = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    return float(found.group(1)) if found else None


def with_lab(url: str, model: str, options: Mapping[str, str]) -> float | None:
    """The lab's own client in `model` at 100 in flight: requests/s, client included."""
    params = {"requests": CLIENT_REQUESTS, "latency": 0.0, "workers": CONNECTIONS, "server": url}
    demo = next((name for name, d in DEMOS.items() if d.ceiling), None)  # the one that fetches: http-get
    if demo is None:
        return None
    result = run(demo, model, **options, **params)
    return result.metrics.get("requests_per_s") if result.metrics and result.correct else None


def measure() -> dict[str, Any]:
    """Both measurements, and the ceiling the report compares runs with (the higher one); the
    lab's side in the models that declare `ceiling_options` (asyncio with uvloop). Inside a
    `KEEPER.keep()` block (a report's), it measures the server the runs used."""
    chosen = [(name, m.ceiling_options) for name, m in MODELS.items() if m.ceiling_options is not None]
    with KEEPER.keep() as keeper:
        server = keeper.get()
        found = {"wrk": with_wrk(server.url)}
        for name, options in chosen:
            if MODELS[name].unavailable({**MODELS[name].default_options(), **options}) is None:
                found[f"lab {variant_label(name, options)}"] = with_lab(server.url, name, options)
    rates = [v for v in found.values() if v]
    return {
        "requests_per_s": found,
        "ceiling": max(rates) if rates else None,
        "how": f"latency 0, 2000-byte bodies, {CONNECTIONS} connections; wrk -t1 for {WRK_SECONDS} s, "
        f"the lab for {CLIENT_REQUESTS} requests",
    }
