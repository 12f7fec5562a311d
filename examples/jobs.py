"""Four known jobs for `lab bench`, each with the answer the lab should find.

    lab bench examples.jobs:arithmetic --range 8 --workers 1,2
    lab bench examples.jobs:digest --range 8 --workers 1,2
    lab bench examples.jobs:wait --async examples.jobs:await_wait --range 32 --workers 1,8,32
    lab bench examples.jobs:unsafe --range 16 --workers 1,2,4

`arithmetic` holds the GIL (threads ~1x, processes ~one per core). `digest` spends its time in
hashlib, which lets go of the GIL, so threads scale too. `wait` blocks without using the CPU
(everything scales, asyncio's `await_wait` at the least memory per worker). `unsafe` keeps a
module-level buffer between a write and a read, so threads see each other's items, and
processes, each with its own buffer, do not.
"""

from __future__ import annotations

import asyncio
import hashlib
import time

ROUNDS = 1_500_000  # ~70 ms of pure-Python arithmetic per item on this project's machine
BLOCK = bytes(4 * 1024 * 1024)  # 4 MB, hashed 16 times per item: ~40 ms of SHA-256
WAIT_S = 0.05


def arithmetic(item: int) -> int:
    """Pure-Python multiply-adds modulo a prime: holds the GIL all along."""
    x = item
    for i in range(ROUNDS):
        x = (x * 31 + i) % 1_000_003
    return x


def digest(item: int) -> str:
    """SHA-256 over 64 MB: hashlib releases the GIL while it hashes a buffer over 2 KB."""
    h = hashlib.sha256(item.to_bytes(8, "little"))
    for _ in range(16):
        h.update(BLOCK)
    return h.hexdigest()


def wait(item: int) -> int:
    """A blocking wait of 50 ms (a database call, a remote API), then the item."""
    time.sleep(WAIT_S)
    return item


async def await_wait(item: int) -> int:
    """`wait`, written as a coroutine: the event loop runs other items meanwhile."""
    await asyncio.sleep(WAIT_S)
    return item


_BUFFER: list[int] = []  # shared by every caller in this process: the bug


def unsafe(item: int) -> int:
    """Write the item into a module-level buffer, do some I/O, read it back: not thread-safe."""
    _BUFFER[:] = [item]
    time.sleep(0.001)  # I/O: another thread runs here and overwrites the buffer
    return _BUFFER[0] * 2
