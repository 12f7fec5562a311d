"""`lab serve`: the http-get demo's server in the foreground, for pointing other tools at it."""

from __future__ import annotations

import argparse

from lab.cli.common import whole
from lab.http.server import LOOPBACK, bind, serve, url_of


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `serve` subcommand's arguments."""
    p = sub.add_parser("serve", help="run the lab's HTTP server in the foreground until Ctrl-C")
    p.add_argument(
        "--host", default=LOOPBACK, help="address to listen on (default 127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=whole, default=0, help="port (default: any free one, printed at start)")


def command(args: argparse.Namespace) -> int:
    """Bind (a port in use or a bad host is one line, status 2), say where, serve until Ctrl-C."""
    sock = bind(args.host, args.port)
    url = url_of(sock)
    said = (
        f"lab server on {url}: GET {url}/<id>?latency=<seconds>&size=<bytes> waits, then answers "
        f"<size> bytes of '<id>|'. Ctrl-C stops it.\n"
        f"  lab run http-get --server {url}    wrk -c100 -d5s '{url}/1?latency=0&size=2000'"
    )
    serve(sock, ready=lambda: print(said, flush=True))  # said once uvicorn is loaded, not before
    return 0
