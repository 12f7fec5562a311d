"""Signal masks (for the lab's own helper threads, and while worker processes start), and the
lifetime of the lab's child processes (`die_with_parent`)."""

from __future__ import annotations

import os
import signal
import threading
import time
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
    blocking SIGINT is enough for them, and a blocked signal is never lost: it waits, pending.
    Spawn's exec resets the mask; what survives exec is a signal set to be ignored, so under spawn
    the parent also ignores SIGINT meanwhile (Linux keeps a blocked signal pending even while it is
    ignored, so the parent's own Ctrl-C still arrives when the handler is back).

    Blocking it in this thread does not hold it back from the lab: the kernel hands a Ctrl-C to
    any thread that has SIGINT open, and Python then runs the handler in the main thread. A thread
    started before the window has it open, and one is started by a native library at import:
    numpy's OpenBLAS, imported with `distributed`. So under fork and forkserver the handler
    itself defers: it notes the signal, which is raised again on the way out, in this thread.
    """
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    if start_method != "fork":
        # Starting the resource tracker unblocks SIGINT on its way out: start it first, outside.
        resource_tracker.ensure_running()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    held: list[int] = []
    handler = None
    if start_method == "spawn":
        if signal.SIGINT not in signal.sigpending():  # (a pending one would be discarded)
            handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    elif signal.getsignal(signal.SIGINT) is not None:  # (None: a handler not set from Python, kept)
        handler = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        if handler is not None:
            signal.signal(signal.SIGINT, handler)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        if held:
            signal.raise_signal(signal.SIGINT)  # to the handler the lab had, now back


PARENT_WATCH_S = 0.25  # how often a child looks for its parent


# Set by a lab that starts another lab (`lab.studies.across`): the starting lab's pid, which the
# started one watches as its pool workers watch it (`die_with_parent`), so that it ends when the
# first is killed.
PARENT_ENV = "LAB_PARENT_PID"


def die_with_parent(lab: int, interval: float = PARENT_WATCH_S) -> None:
    """In a worker process the lab (pid `lab`) started, directly or through a forkserver (a
        pool's initializer calls it): end this process within `interval` seconds of the lab's death,
        however it died, `kill -9` included.

        A parent killed outright runs no clean-up, and its pool's workers would live on, reparented
        to init: each forked worker holds copies of its parent's pipes, so none of them ever reads an
        end of file, nor do the resource tracker and the lab's HTTP server, which wait for one. A
        daemon thread that sees the parent's pid change (`os.getppid`) ends the worker; the rest
        follows, each on its own end of file. The lab's pid comes from the lab, not from `getppid`
    here: a spawned worker that is still importing when the lab dies reads init's pid as its parent.
    A worker also ends when its parent changes (a forkserver's worker: when the forkserver ends),
    which also covers a killed lab that no one has reaped yet (a zombie still answers `kill(pid,
    0)`). Chosen over Linux's `PR_SET_PDEATHSIG`, which fires when
        the *thread* that started the child ends (a pool may start workers from a helper thread that
        ends first) and exists only on Linux. For forkserver's workers the parent is the forkserver,
        which exits when the lab does. The thread sleeps between looks: a wake-up every 0.25 s costs
        a worker nothing measurable."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent and parent != 1 and alive(lab):
            time.sleep(interval)
        os._exit(1)  # no clean-up to wait for: whoever would collect this worker's results is gone

    threading.Thread(target=watch, name="lab-parent-watch", daemon=True).start()


def alive(pid: int) -> bool:
    """Whether a process of that pid exists (a zombie included)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, and is another user's
        return True
    return True
