"""The lab's HTTP server: a raw ASGI app on uvicorn (httptools parser, uvloop), in its own process.

It knows nothing of models. Every request is `GET /<id>?latency=<s>&size=<bytes>`: the server
waits `latency` seconds with `asyncio.sleep` (so it holds thousands of slow requests at once) and
answers `size` bytes that depend on `id` (`body(id, size)`), with an `X-Lab-Id` header, so a
client can check that it got its own response, whole:

    client ── GET /17?latency=0.05&size=2000 ──> uvicorn (own process, own GIL)
           <── 200, 2000 bytes of "17|17|17|…" ──  after asyncio.sleep(0.05)

uvicorn with httptools and a raw ASGI app served 45,000-50,000 requests/s here (wrk, 10 and 100
connections, latency 0); aiohttp.web on uvloop 28,000-32,000. `LocalServer` starts it as a child
process (`python -m lab.http.server`) on an ephemeral port of 127.0.0.1 and stops it on the way out,
whatever happened; the child also exits when its parent dies (its stdin closes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import os
import resource
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

from lab.errors import InvalidParameter, LabError
from lab.http.clients import body

LOOPBACK = "127.0.0.1"
BACKLOG = 16_384  # the kernel caps it at net.core.somaxconn (4096 here); 128 drops SYNs at 10,000
MAX_SIZE = 16 * 1024 * 1024
START_TIMEOUT_S = 30.0
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def query_number(query: dict[str, list[str]], name: str, default: float) -> float:
    """A number from the query string, or `default`; a bad one raises ValueError."""
    values = query.get(name)
    return float(values[0]) if values else default


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI app: wait `latency` seconds, then send `body(id, size)`."""
    if scope["type"] != "http":
        return  # lifespan is off; nothing else is served
    try:
        request_id = int(scope["path"].strip("/") or 0)
        query = parse_qs(scope["query_string"].decode("latin-1"))
        latency, size = query_number(query, "latency", 0.0), int(query_number(query, "size", 2000))
        if not (0 <= latency <= 3600 and 0 <= size <= MAX_SIZE):
            raise ValueError("out of range")
    except ValueError:
        await respond(send, 400, b"expected GET /<id>?latency=<seconds>&size=<bytes>\n", -1)
        return
    if latency:
        await asyncio.sleep(latency)
    await respond(send, 200, body(request_id, size), request_id)


async def respond(send: Send, status: int, content: bytes, request_id: int) -> None:
    """One whole response with its length (and the request id, which the body also encodes)."""
    headers = [(b"content-length", str(len(content)).encode()), (b"x-lab-id", str(request_id).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def raise_open_files(needed: int | None = None) -> int:
    """Raise this process's open-file soft limit to its hard limit; return the new soft limit.

    10,000 connections need 10,000 file descriptors in the client and as many in the server,
    where the usual soft limit is 1,024. Raising the soft limit up to the hard one needs no
    privilege. With `needed`, raise InvalidParameter when even the hard limit is below it.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and (needed is None or soft < needed):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    if needed is not None and soft != resource.RLIM_INFINITY and soft < needed:
        raise InvalidParameter(
            f"{needed - 64} connections need about {needed} open files, but this process may open "
            f"at most {soft}: raise the limit with `ulimit -n {needed}` (as root, or in limits.conf)"
        )
    return soft


def bind(host: str, port: int, backlog: int = BACKLOG) -> socket.socket:
    """A listening TCP socket, or InvalidParameter naming the bad host or port and why."""
    if not 0 <= port <= 65535:
        raise InvalidParameter(f"port must be from 0 to 65535 (0: any free port), not {port}")
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        family = socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except (OSError, OverflowError) as exc:
        sock.close()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidParameter(
            f"cannot listen on {host}:{port}: {reason} (try another --host or --port)"
        ) from None
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """The base URL a bound socket serves, e.g. http://127.0.0.1:43121."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(sock: socket.socket, ready: Callable[[], None] = lambda: None) -> None:
    """Serve the app on `sock` until SIGINT or SIGTERM (uvicorn handles both, and closes cleanly);
    `ready()` is called once uvicorn is imported and configured, just before it serves."""
    import uvicorn  # noqa: PLC0415  (imported only where a server runs: it is a second of start-up)

    raise_open_files()
    loop = "uvloop" if sys.platform != "win32" else "asyncio"
    config = uvicorn.Config(
        app,
        http="httptools",
        loop=loop,
        lifespan="off",
        log_level="warning",
        access_log=False,
        backlog=BACKLOG,
        timeout_keep_alive=30,  # keep a client's idle connections through a whole sweep point
        timeout_graceful_shutdown=1,  # requests still sleeping when told to stop are not waited for
    )
    server = uvicorn.Server(config)
    ready()
    server.run(sockets=[sock])


def exit_with_parent() -> None:
    """Exit when stdin closes: the process that started this server is gone, however it died."""

    def watch() -> None:
        sys.stdin.buffer.read()
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="lab-server-parent-watch").start()


@dataclass
class LocalServer:
    """The server in a child process on 127.0.0.1 (an ephemeral port), as a context manager.

    `url` is known once entered. Leaving stops the child (SIGTERM, then SIGKILL after 5 s) and
    waits for it, whatever happened inside, KeyboardInterrupt included.
    """

    host: str = LOOPBACK
    url: str = ""
    process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LocalServer:
        command = [sys.executable, "-m", "lab.http.server", "--host", self.host, "--port", "0", "--child"]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # a Ctrl-C at the terminal is the lab's to handle; it stops us
        )
        try:
            self.url = self.read_url()
            self.wait_until_serving()
        except BaseException:
            self.stop()
            raise
        return self

    def wait_until_serving(self) -> None:
        """Before anyone's clock starts: one request answered, so the server's first-request
        work (its event loop, the parser, the app's code paths) is done (LabError if it never is)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/0?latency=0&size=1", timeout=5) as answer:
                    answer.read()
                return
            except OSError as exc:
                if time.monotonic() > deadline or (self.process and self.process.poll() is not None):
                    raise LabError(f"the lab's HTTP server does not answer at {self.url}: {exc}") from None
                time.sleep(0.01)

    def read_url(self) -> str:
        """The first line the child prints: its URL, or (if it died first) why."""
        assert self.process is not None and self.process.stdout is not None
        timer = threading.Timer(START_TIMEOUT_S, self.process.kill)
        timer.start()
        try:
            line = self.process.stdout.readline().decode().strip()
        finally:
            timer.cancel()
        if not line.startswith("http"):
            assert self.process.stderr is not None
            why = self.process.stderr.read().decode().strip().splitlines()
            raise LabError(f"the lab's HTTP server did not start: {why[-1] if why else 'no reason given'}")
        return line

    @property
    def pid(self) -> int | None:
        """The server process's id, while it runs."""
        return self.process.pid if self.process else None

    def stop(self) -> None:
        """Stop the child and wait for it (a second SIGINT from the terminal changes nothing)."""
        if self.process is None:
            return
        process, self.process = self.process, None
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream:
                stream.close()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@dataclass
class Keeper:
    """Keeps one `LocalServer` for every run inside `keep()`, started when a run first asks for it.

    A report's or a sweep's http-get runs then share one server instead of starting one each
    (74 ms here); outside any `keep()`, each run starts its own and stops it at its end.
    """

    depth: int = 0
    server: LocalServer | None = None

    @contextlib.contextmanager
    def keep(self) -> Iterator[Keeper]:
        """Share the server within this block; stop it when the outermost block ends."""
        self.depth += 1
        try:
            yield self
        finally:
            self.depth -= 1
            if self.depth == 0 and self.server is not None:
                server, self.server = self.server, None
                server.stop()

    def get(self) -> LocalServer:
        """The kept server, started now if it is not running yet (call inside `keep()`)."""
        assert self.depth > 0, "Keeper.get is called inside keep()"
        if self.server is None:
            self.server = LocalServer().__enter__()
        return self.server


KEEPER = Keeper()


def main(argv: list[str] | None = None) -> int:
    """`python -m lab.http.server`: what `LocalServer` starts (`lab serve` is the same, for users)."""
    parser = argparse.ArgumentParser(prog="python -m lab.http.server")
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--child", action="store_true", help="started by the lab: exit when stdin closes")
    args = parser.parse_args(argv)
    try:
        sock = bind(args.host, args.port)
    except LabError as exc:
        print(f"lab: error: {exc}", file=sys.stderr)
        return 2
    if args.child:
        exit_with_parent()
    # The URL is printed once uvicorn is imported: printed before, a run that started its clock on
    # reading it had its first requests wait in the backlog for the import.
    serve(sock, ready=lambda: print(url_of(sock), flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
