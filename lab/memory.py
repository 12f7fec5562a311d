"""Memory per worker: the lab's memory (PSS) before a run and at its peak, sampled in a thread.

    baseline_bytes    the lab process and its children, just before the model starts its workers
    peak_bytes        the largest sample while the model runs (pool start-up, the work, shutdown)
    per_worker_bytes  (peak - baseline) / workers

The sum of PSS, not of RSS or USS. A forked worker's RSS counts every page it still shares with
its parent, so a sum of RSS counts those pages once per worker. USS counts only the pages a
process alone holds, so the moment the lab forks, its own USS falls (66 MB to 14 MB here, with
16 workers): its pages are now shared, and a sum of USS counts them nowhere. PSS splits each
shared page between the processes that map it, so the sum over the lab and its workers is what
they hold together: a forked worker adds only the pages it has written to. The lab process and
every child are counted (pool workers, the forkserver's children, a manager),
but for processes that are not the model's: the HTTP server (`exclude`), and the stdlib's
long-lived helpers (the forkserver and the resource tracker), whose memory is the same whatever
the model does.

Cost, measured here: one PSS read is about 50 us per process (Linux's /proc/PID/smaps_rollup), a
list of children about 400 us; the sampler reads every `INTERVAL_S` and lists the children every
`CHILDREN_EVERY` samples, so a thread or coroutine run pays about 0.5% of one core, a run of 16
processes about 10% of one core, in a thread that is asleep the rest of the time.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import sys
import threading
from collections.abc import Collection
from types import TracebackType
from typing import Any

import psutil

from lab.signals import threads_without_sigint

INTERVAL_S = 0.010
CHILDREN_EVERY = 5
HELPERS = ("resource_tracker", "forkserver")


def release_free_memory() -> None:
    """Collect garbage and hand free heap pages back to the OS before a baseline is taken.

    Without this, memory freed by an earlier run stays resident and the next run reuses it
    without growing: after one 10,000-request run, 2,000 waiting coroutines measured 10 bytes
    each instead of 1.3 KB. glibc's `malloc_trim(0)` returns the free heap; elsewhere only the
    garbage collection is done.
    """
    gc.collect()
    if LIBC is not None:
        LIBC.malloc_trim(0)


def load_libc() -> Any:
    """glibc, for `malloc_trim`, or None where there is none (macOS, musl, Windows)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


LIBC = load_libc()


def pss(process: psutil.Process) -> int:
    """A process's proportional memory in bytes, or 0 if it is gone (where the OS has no PSS, USS;
    where it has neither, RSS)."""
    try:
        full = process.memory_full_info()
        return int(getattr(full, "pss", full.uss))
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return 0
    except (psutil.AccessDenied, AttributeError):
        return int(process.memory_info().rss)


class MemorySampler:
    """A context manager that samples the lab's memory while its body runs."""

    def __init__(self, exclude: Collection[int] = ()) -> None:
        self.me = psutil.Process()
        self.exclude = set(exclude)
        self.children: list[psutil.Process] = []
        self.known: set[int] = set()
        self.baseline = self.peak = 0
        self.samples = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True, name="lab-memory")

    def refresh_children(self) -> None:
        """Find the children that appeared since the last look, keeping the model's own."""
        try:
            found = self.me.children(recursive=True)
        except psutil.NoSuchProcess:
            return
        for child in found:
            if child.pid in self.known:
                continue
            self.known.add(child.pid)
            with contextlib.suppress(psutil.Error):
                if child.pid in self.exclude or child.ppid() in self.exclude:
                    continue
                if any(helper in " ".join(child.cmdline()) for helper in HELPERS):
                    continue
                self.children.append(child)

    def sample(self) -> int:
        """One sample: this process's PSS plus its (model's) children's."""
        if self.samples % CHILDREN_EVERY == 0:
            self.refresh_children()
        self.samples += 1
        return pss(self.me) + sum(pss(c) for c in self.children)

    def watch(self) -> None:
        """The sampling thread's loop."""
        while not self.stopping.wait(INTERVAL_S):
            self.peak = max(self.peak, self.sample())

    def __enter__(self) -> MemorySampler:
        release_free_memory()
        self.baseline = self.peak = self.sample()
        with threads_without_sigint():
            self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stopping.set()
        self.thread.join()

    def summary(self, workers: int) -> dict[str, Any]:
        """The record a `Result` keeps: baseline, peak, per worker (bytes), and how it was sampled."""
        return {
            "baseline_bytes": self.baseline,
            "peak_bytes": self.peak,
            "per_worker_bytes": round((self.peak - self.baseline) / max(1, workers)),
            "samples": self.samples,
            "method": f"PSS of the lab and its children, every {INTERVAL_S * 1000:g} ms",
        }
