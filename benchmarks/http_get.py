"""The lab's http-get against hand-written code, on the same local server, in paired runs.

    python benchmarks/http_get.py [--requests 200] [--latency 0.05] [--workers 50] [--pairs 9] [--out FILE]
    python benchmarks/http_get.py --shape realpython [--models asyncio] [--own-server]

`--shape realpython` is Real Python's asyncio example against the lab's server: 160 requests,
100 in flight, 20 ms each. With `--own-server` the lab's side starts its own server per run, as
`lab run http-get` does (the hand-written side still uses the benchmark's).

The hand-written side is what Real Python's article and aiohttp's documentation teach:
asyncio: one `aiohttp.ClientSession` and `asyncio.gather` with a `Semaphore(workers)`;
threads: a `ThreadPoolExecutor(workers)` with a `requests.Session` per thread (thread-local);
processes: a `multiprocessing.Pool(workers)` whose initializer makes a `requests.Session` per
process. Each side checks every body, opens its connections inside the timed region, and runs
against one server started for the whole benchmark (`lab.http.server.LocalServer`). The two sides
run interleaved in alternating order; the first pair warms up and is not counted. Reported:
the median time of each side and the median of the paired ratios lab / hand-written (goal:
<= 1.10), for the timed region only: the lab's `elapsed_s`, and the hand-written map.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
import requests

import lab
from lab.http.clients import body
from lab.http.server import LocalServer

Job = tuple[str, float, int]  # (server URL, latency, size)


def address(job: Job, request_id: int) -> str:
    url, latency, size = job
    return f"{url}/{request_id}?latency={latency:g}&size={size}"


def raw_asyncio(job: Job, requests_: int, workers: int) -> float:
    """One ClientSession, gather with a semaphore."""

    async def main() -> float:
        limit = asyncio.Semaphore(workers)
        connector = aiohttp.TCPConnector(limit=workers)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def get(i: int) -> bool:
                async with limit, session.get(address(job, i)) as r:
                    return r.status == 200 and bool(await r.read() == body(i, job[2]))

            begin = time.perf_counter()
            ok = await asyncio.gather(*(get(i) for i in range(requests_)))
            elapsed = time.perf_counter() - begin
        assert all(ok)
        return elapsed

    return asyncio.run(main())


local = threading.local()


def thread_get(job: Job, i: int) -> bool:
    """GET with this thread's own session (Real Python's pattern)."""
    if not hasattr(local, "session"):
        local.session = requests.Session()
    r: requests.Response = local.session.get(address(job, i))
    return r.status_code == 200 and r.content == body(i, job[2])


def raw_threads(job: Job, requests_: int, workers: int) -> float:
    """A ThreadPoolExecutor, a session per thread."""
    with ThreadPoolExecutor(workers) as pool:
        begin = time.perf_counter()
        ok = list(pool.map(lambda i: thread_get(job, i), range(requests_)))
        elapsed = time.perf_counter() - begin
    assert all(ok)
    return elapsed


session: requests.Session | None = None


def set_global_session() -> None:
    """The pool initializer: one session per process."""
    global session
    session = requests.Session()


def process_get(args: tuple[Job, int]) -> bool:
    job, i = args
    assert session is not None
    r = session.get(address(job, i))
    return r.status_code == 200 and r.content == body(i, job[2])


def raw_processes(job: Job, requests_: int, workers: int) -> float:
    """A multiprocessing.Pool, a session per process."""
    with multiprocessing.Pool(workers, initializer=set_global_session) as pool:
        begin = time.perf_counter()
        ok = pool.map(process_get, [(job, i) for i in range(requests_)])
        elapsed = time.perf_counter() - begin
    assert all(ok)
    return elapsed


RAW: dict[str, Callable[[Job, int, int], float]] = {
    "asyncio": raw_asyncio,
    "threads": raw_threads,
    "processes": raw_processes,
}


SHAPES = {"realpython": {"requests": 160, "workers": 100, "latency": 0.02}}


def with_lab(model: str, job: Job, requests_: int, workers: int, own: bool = False) -> float:
    """lab.run's elapsed_s against the same server (or, `own`, against one it starts itself)."""
    url, latency, size = job
    params = {"requests": requests_, "workers": workers, "latency": latency, "size": size}
    r = lab.run("http-get", model, **params, **({} if own else {"server": url}))
    assert r.elapsed_s is not None and r.correct, r.error
    return r.elapsed_s


def pairs(
    model: str, job: Job, requests_: int, workers: int, count: int, *, own: bool = False
) -> list[tuple[float, float]]:
    """`count` (lab, raw) pairs, the order alternating; the first pair is a warm-up."""
    out = []
    for i in range(count + 1):
        sides: list[Callable[[], float]] = [
            lambda: with_lab(model, job, requests_, workers, own),
            lambda: RAW[model](job, requests_, workers),
        ]
        got = [side() for side in (sides if i % 2 else sides[::-1])]
        mine, raw = got if i % 2 else got[::-1]
        if i:
            out.append((mine, raw))
    return out


def main(argv: list[str] | None = None) -> int:
    """Run every model's pairs and print a markdown table (and save it with --out)."""
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--pairs", type=int, default=9)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--shape", choices=sorted(SHAPES), help="a preset for requests, workers and latency")
    parser.add_argument("--models", nargs="+", choices=sorted(RAW), default=list(RAW))
    parser.add_argument("--own-server", action="store_true", help="the lab's side starts its own server")
    args = parser.parse_args(argv)
    for key, value in SHAPES.get(args.shape or "", {}).items():
        setattr(args, key, value)
    ideal = args.latency * -(-args.requests // args.workers)
    lines = [
        f"# http-get: the lab against hand-written code (Python {sys.version.split()[0]}, "
        f"start method {multiprocessing.get_start_method()})",
        "",
        f"{args.requests} requests, {args.workers} in flight, server latency {args.latency:g} s, "
        f"{args.size} bytes each (ideal {ideal:.3f} s); median of {args.pairs} interleaved pairs; the "
        f"lab {'starts its own server each run' if args.own_server else 'uses the same server'}.",
        "",
        "| model | lab median s | hand-written median s | ratio lab / hand-written (median of pairs) |",
        "|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    with LocalServer() as server:
        job: Job = (server.url, args.latency, args.size)
        for model in args.models:
            got = pairs(model, job, args.requests, args.workers, args.pairs, own=args.own_server)
            mine = statistics.median(m for m, _ in got)
            raw = statistics.median(r for _, r in got)
            ratio = statistics.median(m / r for m, r in got)
            lines.append(f"| {model} | {mine:.4f} | {raw:.4f} | {ratio:.3f} |")
            print(lines[-1], flush=True)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
