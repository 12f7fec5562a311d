"""Signal masks: for the lab's own helper threads, and while worker processes start."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing import resource_tracker


@contextmanager
def threads_without_sigint() -> Iterator[None]:
    """Threads started inside inherit a blocked SIGINT, so that it always reaches the main thread."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextmanager
def sigint_deferred(start_method: str) -> Iterator[None]:
    """Hold Ctrl-C back while processes start: it is delivered (as KeyboardInterrupt) on the way out.

    Children started in this window must not die of that Ctrl-C before their initializer has set
    it to be ignored. Fork and forkserver children inherit the parent's blocked signal mask, so
    blocking SIGINT is enough, and a blocked signal is never lost: it waits, pending. Spawn's
    exec resets the mask; what survives exec is a signal set to be ignored, so under spawn the
    parent also ignores SIGINT meanwhile (Linux keeps a blocked signal pending even while it is
    ignored, so the parent's own Ctrl-C still arrives when the handler is back).
    """
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    if start_method != "fork":
        # Starting the resource tracker unblocks SIGINT on its way out: start it first, outside.
        resource_tracker.ensure_running()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    handler = None
    if start_method == "spawn" and signal.SIGINT not in signal.sigpending():
        handler = signal.signal(signal.SIGINT, signal.SIG_IGN)  # (a pending one would be discarded)
    try:
        yield
    finally:
        if handler is not None:
            signal.signal(signal.SIGINT, handler)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
