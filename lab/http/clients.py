"""HTTP clients for the `http-get` demo: one class per library, each used the way its users use it.

    sync  (threads, processes)   requests.Session      httpx.Client        one per thread / process
    async (asyncio)              aiohttp.ClientSession httpx.AsyncClient   one per run

Every client answers `get(request_id) -> Outcome`: `("", seconds)` when the response was
verified (status 200, the right length, the body `lab.http.server.body(id, size)`), or
`(what went wrong, seconds)`: `refused`, `reset`, `timeout`, `status 503`, `wrong length`,
`wrong body`, or the exception's name. A failed request is counted, never raised, so one refused
connection does not hide what the other requests did.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from time import perf_counter as now  # the lab's one clock (lab.models.base.now)
from types import TracebackType
from typing import Any

Outcome = tuple[str, float]  # ("" if verified, else what went wrong; seconds the request took)
SYNC_CLIENTS = ("requests", "httpx")
ASYNC_CLIENTS = ("aiohttp", "httpx")
CONNECT_SLACK_S = 30.0  # a request's timeout is this plus the server's latency


def body(request_id: int, size: int) -> bytes:
    """The `size` bytes the server answers request `request_id` with: `"<id>|"` repeated, cut."""
    unit = f"{request_id}|".encode()
    return (unit * (size // len(unit) + 1))[:size]


@dataclass(frozen=True)
class Target:
    """Where the requests go and what they ask for: the server's base URL, latency and size."""

    url: str
    latency: float
    size: int

    @property
    def timeout(self) -> float:
        """Each request's timeout: the server's latency, plus room for a connection to be set up."""
        return self.latency + CONNECT_SLACK_S

    def address(self, request_id: int) -> str:
        """The URL of one request."""
        return f"{self.url.rstrip('/')}/{request_id}?latency={self.latency:g}&size={self.size}"

    def verify(self, request_id: int, status: int, content: bytes) -> str:
        """ "" if this is request `request_id`'s own, whole response; otherwise what is wrong."""
        if status != 200:
            return f"status {status}"
        if len(content) != self.size:
            return "wrong length"
        return "" if content == body(request_id, self.size) else "wrong body"


def causes(exc: BaseException) -> Iterator[BaseException]:
    """An exception and every exception it wraps (libraries wrap the socket's own error)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [e.__cause__, e.__context__, *(a for a in e.args if isinstance(a, BaseException))]
        todo.append(getattr(e, "os_error", None))  # aiohttp's ClientConnectorError keeps it here


def failure(exc: BaseException) -> str:
    """A short name for why a request failed, the same whatever library raised it."""
    for e in causes(exc):
        if isinstance(e, ConnectionRefusedError):
            return "refused"
        if isinstance(e, ConnectionResetError | BrokenPipeError):
            return "reset"
        if isinstance(e, TimeoutError) or "Timeout" in type(e).__name__:
            return "timeout"
    text = str(exc)
    if "Connection refused" in text:
        return "refused"
    if "reset" in text.lower() or "Disconnected" in type(exc).__name__:
        return "reset"
    return type(exc).__name__


class SyncClient(ABC):
    """What the threads and processes models use: one per thread or process."""

    def __init__(self, target: Target) -> None:
        self.target = target

    def get(self, request_id: int) -> Outcome:
        """One request, timed and verified; a failure is returned, not raised."""
        return self.receive(request_id)[0]

    def receive(self, request_id: int) -> tuple[Outcome, bytes]:
        """`get`, and the body received (empty after a failure)."""
        begin = now()
        try:
            status, content = self.fetch(self.target.address(request_id))
            return (self.target.verify(request_id, status, content), now() - begin), content
        except Exception as exc:
            return (failure(exc), now() - begin), b""

    @abstractmethod
    def fetch(self, url: str) -> tuple[int, bytes]:
        """GET `url`: its status and whole body."""

    @abstractmethod
    def close(self) -> None:
        """Close the client's connections."""


class RequestsClient(SyncClient):
    """A `requests.Session`: keeps its connection alive between requests."""

    def __init__(self, target: Target) -> None:
        import requests  # noqa: PLC0415  (imported where used: the asyncio model never needs it)

        super().__init__(target)
        self.session = requests.Session()

    def fetch(self, url: str) -> tuple[int, bytes]:
        r = self.session.get(url, timeout=self.target.timeout)
        return r.status_code, r.content

    def close(self) -> None:
        self.session.close()


class HttpxClient(SyncClient):
    """An `httpx.Client` (the same code underneath as its async twin)."""

    def __init__(self, target: Target) -> None:
        import httpx  # noqa: PLC0415

        super().__init__(target)
        self.client = httpx.Client(timeout=target.timeout)

    def fetch(self, url: str) -> tuple[int, bytes]:
        r = self.client.get(url)
        return r.status_code, r.content

    def close(self) -> None:
        self.client.close()


def load(name: str) -> None:
    """Import client library `name` now: a model calls this before its clock starts, so that no
    request pays for the import (requests takes about 0.1 s to import)."""
    importlib.import_module({"requests": "requests", "httpx": "httpx", "aiohttp": "aiohttp"}[name])


def sync_client(name: str, target: Target) -> SyncClient:
    """A new sync client of library `name`."""
    return RequestsClient(target) if name == "requests" else HttpxClient(target)


class AsyncClient(ABC):
    """What the asyncio model uses: one for the whole run, shared by every coroutine.

    At most `connections` connections: the libraries' defaults (aiohttp 100, httpx 100) would
    otherwise cap the requests in flight below the workers asked for.
    """

    def __init__(self, target: Target, connections: int) -> None:
        self.target, self.connections = target, connections

    async def get(self, request_id: int) -> Outcome:
        """One request, timed and verified; a failure is returned, not raised."""
        return (await self.receive(request_id))[0]

    async def receive(self, request_id: int) -> tuple[Outcome, bytes]:
        """`get`, and the body received (empty after a failure)."""
        begin = now()
        try:
            status, content = await self.fetch(self.target.address(request_id))
            return (self.target.verify(request_id, status, content), now() - begin), content
        except Exception as exc:  # (asyncio.TimeoutError is TimeoutError since 3.11)
            return (failure(exc), now() - begin), b""

    @abstractmethod
    async def fetch(self, url: str) -> tuple[int, bytes]:
        """GET `url`: its status and whole body."""

    @abstractmethod
    async def __aenter__(self) -> AsyncClient:
        """Open the session, on the running loop."""

    @abstractmethod
    async def __aexit__(self, kind: Any, exc: Any, tb: TracebackType | None) -> None:
        """Close the session and its connections."""


class AiohttpClient(AsyncClient):
    """One `aiohttp.ClientSession` with a `TCPConnector(limit=connections)`."""

    async def __aenter__(self) -> AiohttpClient:
        import aiohttp  # noqa: PLC0415

        connector = aiohttp.TCPConnector(limit=self.connections)
        timeout = aiohttp.ClientTimeout(total=self.target.timeout)
        self.session = aiohttp.ClientSession(connector=connector, timeout=timeout)
        return self

    async def fetch(self, url: str) -> tuple[int, bytes]:
        async with self.session.get(url) as r:
            return r.status, await r.read()

    async def __aexit__(self, kind: Any, exc: Any, tb: TracebackType | None) -> None:
        await self.session.close()


class HttpxAsyncClient(AsyncClient):
    """One `httpx.AsyncClient` with `Limits(max_connections=connections)`."""

    async def __aenter__(self) -> HttpxAsyncClient:
        import httpx  # noqa: PLC0415

        limits = httpx.Limits(max_connections=self.connections, max_keepalive_connections=self.connections)
        self.client = httpx.AsyncClient(timeout=self.target.timeout, limits=limits)
        return self

    async def fetch(self, url: str) -> tuple[int, bytes]:
        r = await self.client.get(url)
        return r.status_code, r.content

    async def __aexit__(self, kind: Any, exc: Any, tb: TracebackType | None) -> None:
        await self.client.aclose()


def async_client(name: str, target: Target, connections: int) -> AsyncClient:
    """A new async client of library `name` (enter it on the running loop)."""
    return AiohttpClient(target, connections) if name == "aiohttp" else HttpxAsyncClient(target, connections)
