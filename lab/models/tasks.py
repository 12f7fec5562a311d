"""What the models' task functions share: the demos' work itself, faults, and recording a task.

Each model module defines the same task functions under the same names (`echo`, `count`,
`crunch`, `fetch`, `call`), so that the modules read side by side; what they have in common
lives here: the arithmetic, the fault injection, the user's function applied to an item, and
`timed`, which says who ran a task and when.
"""

from __future__ import annotations

import hashlib
import os
import reprlib
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any

from lab.errors import in_one_line
from lab.http.clients import Outcome
from lab.models.base import Fault, Kernel, Span, now


class Counter:
    """A plain Python object holding a number: it has no lock of its own."""

    def __init__(self) -> None:
        self.value = 0


class InjectedFault(RuntimeError):
    """The exception a task raises when asked to with the fault `raise`."""


def misbehave(fault: Fault | None) -> None:
    """Make the calling task fail in the way asked: raise, kill its process, or hang forever."""
    if fault == "raise":
        raise InjectedFault("injected fault: the task raised")
    if fault == "exit":
        os._exit(70)  # the worker process dies without a word, as a crash or OOM kill would
    if fault == "hang":
        threading.Event().wait()  # never set: a hang that nothing inside the task ends


def crunch_job(job: tuple[Kernel, int]) -> int | str:
    """One cpu-bound task, `(kernel, rounds)`: `crunch_rounds` or `digest_rounds`."""
    kernel, rounds = job
    return digest_rounds(rounds) if kernel == "hashlib" else crunch_rounds(rounds)


def crunch_rounds(rounds: int) -> int:
    """Pure-Python arithmetic that holds the GIL all along: `rounds` multiply-adds modulo a prime."""
    x = 1
    for i in range(rounds):
        x = (x * 31 + i) % 1_000_003
    return x


def work_on(data: bytes, rounds: int) -> int:
    """mixed's CPU part: `rounds` pure-Python multiply-adds seeded by the bytes received (their
    CRC-32), so each response's value is its own and a wrong body gives a wrong value."""
    x = zlib.crc32(data)
    for i in range(rounds):
        x = (x * 31 + i) % 1_000_003
    return x


DIGEST_BYTES_PER_ROUND = 64  # a task within 2x of the python kernel's time at the same rounds, here
BLOCK = bytes(1 << 20)


def digest_rounds(rounds: int) -> str:
    """SHA-256 in C over `rounds` x 64 zero bytes, fed in 1 MiB blocks: hashlib lets go of the GIL
    for any block over 2 KiB, so threads can hash in parallel."""
    digest, left, block = hashlib.sha256(), rounds * DIGEST_BYTES_PER_ROUND, memoryview(BLOCK)
    while left > 0:
        digest.update(block[: min(left, len(block))])
        left -= len(block)
    return digest.hexdigest()


class CallFailed(RuntimeError):
    """The user's function raised on an item (`call`): the message names the item's index."""


def apply(function: Callable[..., Any], pair: tuple[int, Any], kit: Any = None) -> Any:
    """`call`'s body in threads and processes: `function(item)` (with a `kit`: `function(item,
    kit)`, `lab.models.base.Kit`), a failure naming the item."""
    index, item = pair
    try:
        return function(item) if kit is None else function(item, kit)
    except Exception as exc:
        raise failed(index, item, exc) from exc


def failed(index: int, item: Any, exc: BaseException) -> CallFailed:
    """The exception `call` raises when the function raised on item `index` (picklable: one str)."""
    return CallFailed(f"item {index} ({shorten(item)}): {in_one_line(exc)}")


class Short(reprlib.Repr):
    """`reprlib`'s short reprs, bytes too (a 100 MB payload's whole repr would be 400 MB)."""

    def repr_bytes(self, value: bytes, level: int) -> str:
        """`b'\\x00\\x01...' (10,000,000 bytes)` for a long one."""
        return repr(value) if len(value) <= self.maxstring else f"{value[:8]!r}... ({len(value):,} bytes)"


SHORT = Short()


def shorten(item: Any, width: int = 40) -> str:
    """An item's repr, cut to `width` characters (built short: a large item is never written out)."""
    text = SHORT.repr(item)
    return text if len(text) <= width else text[: width - 3] + "..."


def verified(outputs: list[Outcome]) -> int:
    """How many `fetch` outcomes are verified responses: the http-get demo's counter."""
    return sum(not what for what, _ in outputs)


def worker_id() -> str:
    """Who runs the calling task: `process PID` in a worker's main thread, else `thread TID`."""
    if threading.current_thread() is threading.main_thread():
        return f"process {os.getpid()}"
    return f"thread {threading.get_native_id()}"


def timed(task: Any, pair: tuple[int, Any]) -> tuple[Any, Span]:
    """Run `task(item)` for `pair = (index, item)` and say who ran it, when, and its CPU time
    (`time.thread_time`: this thread's alone). Module-level, so that processes can pickle it."""
    index, item = pair
    worker, cpu, start = worker_id(), time.thread_time(), now()
    output = task(item)
    end = now()
    return output, (worker, None, index, start, end, time.thread_time() - cpu)
