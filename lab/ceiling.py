"""The HTTP server's ceiling on this machine: requests/s at zero latency, measured apart.

Two measurements of the same server (`lab.server.LocalServer`, 2000-byte bodies, 100
connections): `wrk`, a C load generator, where it is installed (`apt-get install wrk`), which
measures the server; and the lab's own asyncio model (aiohttp on uvloop), which measures the
server and one Python client together, a lower bound of the server's ceiling. An http-get run
that comes within half of the ceiling measured the server as much as the model.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

from lab.runner import run
from lab.server import LocalServer

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


def with_lab(url: str) -> float | None:
    """The lab's asyncio model (aiohttp, uvloop) at 100 in flight: requests/s, client included."""
    params = {"requests": CLIENT_REQUESTS, "latency": 0.0, "workers": CONNECTIONS, "server": url}
    result = run("http-get", "asyncio", loop="uvloop", **params)
    return result.metrics.get("requests_per_s") if result.metrics and result.correct else None


def measure() -> dict[str, Any]:
    """Both measurements, and the ceiling the report compares runs with (the higher one)."""
    with LocalServer() as server:
        found = {"wrk": with_wrk(server.url), "lab asyncio+uvloop": with_lab(server.url)}
    rates = [v for v in found.values() if v]
    return {
        "requests_per_s": found,
        "ceiling": max(rates) if rates else None,
        "how": f"latency 0, 2000-byte bodies, {CONNECTIONS} connections; wrk -t1 for {WRK_SECONDS} s, "
        f"the lab for {CLIENT_REQUESTS} requests",
    }
