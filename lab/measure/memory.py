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
but for processes that are not the model's: the HTTP server (`exclude`) and the stdlib's resource
tracker (`helper_pids`). The forkserver is counted: its workers share its pages, and leaving it
out would hand its share of those pages to them. (The run that starts it counts its start too.)

Cost, measured here. The lab process's own peak comes from the kernel's high-water mark
(VmHWM, reset by writing 5 to /proc/self/clear_refs): nothing is sampled for it. A thread
looks for child processes every `INTERVAL_S` (one read of /proc/PID/task/PID/children, a few
us), and only while there are any does it sample. PSS itself (one `pread` of
/proc/PID/smaps_rollup per process, 50-130 us of kernel time each, walking page tables the
workers are filling) is read when a process appears or goes, and no more often than every
`ANCHOR_S` besides; in between, each process's PSS is estimated from that reading and how far its
RSS (a counter, read for almost nothing) has moved since: memory a worker allocates is its own,
so its PSS grows as its RSS does. The pages a forked worker copies on writing to them grow its
PSS and not its RSS: the next reading counts them, and after an estimate there always is one,
however soon the RSS stops growing.
`benchmarks/overhead.py` measures what sampling costs.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import os
import sys
import threading
import time
from collections.abc import Collection
from types import TracebackType
from typing import Any

import psutil

from lab.signals import threads_without_sigint

INTERVAL_S = 0.010
BACK_OFF_S = 0.160  # the longest wait between looks for child processes, while there are none
RSS_STEP = 256 * 1024  # RSS growth (bytes, all processes) after which a sample is taken again
# The shortest time between two readings of PSS, but for processes coming and going. Reading it
# at every sample (each RSS_STEP of growth, every 10 ms) made the processes' transfer of 4 x 10 MB
# (a fresh process) 6% slower: estimated in between, the lab's run took 0.944 (0.934-0.967) of the
# time, 40 pairs, with the same peak (mixed: 88.9-89.4 MB against 87.7-88.6; every 50 ms: 0.962;
# only as processes come and go, 0.953, but mixed's copied-on-write pages were missed, 66-76 MB).
ANCHOR_S = 0.100
COLLECT_AFTER = 32 * 1024 * 1024  # bytes of growth after which the next baseline collects first
LAST_GROWTH = [0]  # the previous run's growth, in this process
ACTIVE: list[MemorySampler] = []  # the samplers measuring now, innermost last (`checkpoint`)


def checkpoint() -> None:
    """Read the PSS of every process the measuring samplers watch, now, in the calling thread.

    A model calls this once its work is done and before it stops its workers (`Model.run`, after
    the clock): the pages a forked worker copied on writing to them grow its PSS but not its RSS,
    which only a reading sees, and a run shorter than `ANCHOR_S` may have had none since its
    workers started. Without it, 30 forked http-get workers read 1 KB a request in a report's
    run, against 4 MB read at every sample."""
    for sampler in list(ACTIVE):
        sampler.read_now()


def helper_pids() -> set[int]:
    """The stdlib's resource tracker and forkserver: long-lived helpers whose memory is not the
    model's (the forkserver's children, the workers, are still sampled).

    multiprocessing keeps their pids in private attributes (3.11-3.14); a command-line match would
    also catch every child forked from a parent whose own command line names it. The forkserver
    matters since it may be kept with Dask and numpy preloaded (`use_forkserver`): sampling its
    100 MB every 10 ms slowed a processes run beside it by half.
    """
    tracker = getattr(sys.modules.get("multiprocessing.resource_tracker"), "_resource_tracker", None)
    server = getattr(sys.modules.get("multiprocessing.forkserver"), "_forkserver", None)
    pids = (getattr(tracker, "_pid", None), getattr(server, "_forkserver_pid", None))
    return {pid for pid in pids if isinstance(pid, int)}


def available_bytes() -> int:
    """The memory this machine can still give a process without swapping (`psutil`'s
    `available`: free pages plus the caches the kernel would drop)."""
    return int(psutil.virtual_memory().available)


def release_free_memory() -> None:
    """Hand free heap pages back to the OS before a baseline is taken.

    Without this, memory freed by an earlier run stays resident and the next run reuses it
    without growing: after one 10,000-request run, 2,000 waiting coroutines measured 10 bytes
    each instead of 1.3 KB. glibc's `malloc_trim(0)` (1 us here) returns the free heap. The
    cyclic garbage a large run leaves needs a full `gc.collect()`, which costs 6.7 ms here (7% of
    a 10,000-task run), so it is done only after a run that grew by more than `COLLECT_AFTER`.
    """
    if LAST_GROWTH[0] > COLLECT_AFTER:
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
SMAPS_ROLLUP = os.path.exists("/proc/self/smaps_rollup")  # Linux 4.14+


def children_of(pid: int) -> list[int]:
    """The pids of a process's children and theirs, from /proc/PID/task/PID/children on Linux
    (a few us, where psutil's walk over every process takes 400 us), or from psutil elsewhere.

    On Linux only the children of each process's main thread are found: pools, managers and the
    forkserver are started from it, and a threads run with 10,000 threads costs one read, not
    10,000."""
    if not os.path.exists(f"/proc/{pid}/task/{pid}/children"):
        with contextlib.suppress(psutil.Error):
            return [c.pid for c in psutil.Process(pid).children(recursive=True)]
        return []
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        with contextlib.suppress(OSError), open(f"/proc/{parent}/task/{parent}/children") as f:
            kids = [int(k) for k in f.read().split()]
            found += kids
            todo += kids
    return found


PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class Rollup:
    """/proc/PID/smaps_rollup and /proc/PID/statm, kept open: each reading is one `pread` (one
    system call, so one hand-over of the GIL; open, read and close would be three, each one a
    hand-over to a model's threads or event loop and back). psutil would parse every line in
    Python; this parses one.

    PSS walks the process's page tables (about 100 us, holding its memory map's lock while the
    worker computes); RSS from statm is a counter the kernel keeps, read for almost nothing."""

    def __init__(self, pid: int) -> None:
        self.fd: int | None = os.open(f"/proc/{pid}/smaps_rollup", os.O_RDONLY)
        self.statm: int | None = os.open(f"/proc/{pid}/statm", os.O_RDONLY)

    def pss(self) -> int:
        """The process's PSS in bytes, or 0 once it has gone."""
        if self.fd is None:
            return 0
        try:
            data = os.pread(self.fd, 4096, 0)
            at = data.index(b"\nPss:")
            return int(data[at + 5 : data.index(b"kB", at)]) * 1024
        except (OSError, ValueError):
            self.close()
            return 0

    def rss(self) -> int:
        """The process's resident memory in bytes (cheap), or 0 once it has gone."""
        if self.statm is None:
            return 0
        try:
            return int(os.pread(self.statm, 256, 0).split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            self.close()
            return 0

    def close(self) -> None:
        """Close the files (a process that has gone reads as nothing)."""
        for fd in (self.fd, self.statm):
            if fd is not None:
                os.close(fd)
        self.fd = self.statm = None


def pss(process: psutil.Process) -> int:
    """A process's proportional memory in bytes, or 0 if it is gone (where the OS has no PSS, USS;
    where it has neither, RSS)."""
    if SMAPS_ROLLUP:
        try:
            rollup = Rollup(process.pid)
        except OSError:
            return 0
        try:
            return rollup.pss()
        finally:
            rollup.close()
    try:
        full = process.memory_full_info()
        return int(getattr(full, "pss", full.uss))
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return 0
    except (psutil.AccessDenied, AttributeError):
        return int(process.memory_info().rss)


def reset_high_water_mark() -> bool:
    """Reset the kernel's record of this process's peak RSS (VmHWM) to its current RSS (Linux 4.0+;
    a process may do this to itself); False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def rss_and_high_water_mark() -> tuple[int, int]:
    """This process's resident memory now and at its peak since the last reset, in bytes."""
    found = dict.fromkeys(("VmRSS", "VmHWM"), 0)
    with open("/proc/self/status") as f:
        for line in f:
            key = line.split(":", 1)[0]
            if key in found:
                found[key] = int(line.split()[1]) * 1024
    return found["VmRSS"], found["VmHWM"]


def lower_this_thread() -> None:
    """Give the calling thread the lowest CPU priority (nice 19) on Linux, where `setpriority` of
    a thread's id changes that thread alone (elsewhere it would be the whole process: left as is).

    The sampler's reads of the workers' page tables (`Rollup.pss`) are kernel work on a CPU the
    workers want: at its own priority, it made the processes' transfer of 4 x 10 MB 11% slower
    (0.111 s against 0.100 s with no children sampled, 11 alternations); niced, a sample waits for
    a free moment instead."""
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


class MemorySampler:
    """A context manager that measures the lab's memory while its body runs.

    The lab process's own peak comes from the kernel (VmHWM, reset on entry): exact, and free,
    so a thread or coroutine run is not sampled at all, and with `children=False` (a model that
    starts no process) no sampling thread is even started. Child processes (a process pool, a
    manager, a forkserver's workers) are sampled: every `INTERVAL_S` a thread checks for them,
    and while there are any it sums the PSS of the lab and all of them. The peak is the larger of
    the two. Where VmHWM cannot be reset (not Linux), the lab process is sampled too.
    """

    def __init__(self, exclude: Collection[int] = (), children: bool = True) -> None:
        self.me = psutil.Process()
        self.exclude = set(exclude)
        self.watching = children  # a model without child processes needs no sampling thread
        self.children: list[psutil.Process] = []
        self.rollups: dict[int, Rollup] = {}
        self.known: set[int] = set()
        self.baseline = self.peak = self.samples = self.start_rss = self.sampled_rss = 0
        # The last reading of PSS: each process's (PSS, RSS) then, and when (`ANCHOR_S`).
        self.anchors: dict[int, tuple[int, int]] = {}
        self.anchored_at = 0.0
        self.estimated = False  # the last sample was an estimate: a reading is still due
        self.kernel_peak = False
        self.stopping = threading.Event()
        self.lock = threading.Lock()  # one sample at a time: the sampling thread's or `read_now`'s
        self.thread = threading.Thread(target=self.watch, daemon=True, name="lab-memory")

    def refresh_children(self) -> None:
        """Find the children that appeared since the last look, keeping the model's own."""
        for pid in children_of(self.me.pid):
            if pid in self.known:
                continue
            self.known.add(pid)
            with contextlib.suppress(psutil.Error, OSError):  # a child may exit as it is found
                child = psutil.Process(pid)
                if pid in self.exclude or child.ppid() in self.exclude or pid in helper_pids():
                    continue
                self.children.append(child)  # the forkserver's children are the model's workers
                if SMAPS_ROLLUP:
                    self.rollups[pid] = Rollup(pid)

    def sample(self) -> int:
        """One sample: this process's PSS plus its (model's) children's, read when a process has
        come or gone or `ANCHOR_S` has passed since the last reading, estimated from the RSS
        moved since that reading otherwise."""
        self.samples += 1
        if not SMAPS_ROLLUP:
            return pss(self.me) + sum(pss(c) for c in self.children)
        now = time.perf_counter()
        live = {pid for pid, rollup in self.rollups.items() if rollup.fd is not None}
        self.estimated = live == self.anchors.keys() and now - self.anchored_at <= ANCHOR_S
        if not self.estimated:
            # The RSS just after the PSS: what grows between the two reads is missed until the
            # next reading, never counted twice (the peak is a maximum, and would keep it).
            self.anchors = {pid: (r.pss(), r.rss()) for pid, r in self.rollups.items() if pid in live}
            self.anchored_at = now
        total = 0
        self.sampled_rss = 0
        for pid, rollup in self.rollups.items():
            rss = rollup.rss()
            self.sampled_rss += rss
            if rss and pid in self.anchors:  # 0: the process has gone, and its memory with it
                pss_then, rss_then = self.anchors[pid]
                total += max(0, pss_then + rss - rss_then)
        return total

    def rss(self) -> int:
        """The RSS of this process and its children: cheap, to see whether PSS can have grown."""
        return sum(rollup.rss() for rollup in self.rollups.values())

    def may_have_grown(self) -> bool:
        """Whether a sample is worth its cost: there is no RSS to go by, or the RSS grew by more
        than `RSS_STEP` since the last sample. (PSS moves with RSS, but for pages that stop being
        shared when a sibling exits, which only lowers the total, and pages copied on a write.)"""
        return not SMAPS_ROLLUP or self.rss() > self.sampled_rss + RSS_STEP

    def watch(self) -> None:
        """The sampling thread's loop: a look for children each time, a sample while there are any.

        The waits back off, 10, 20, 40 ... up to `BACK_OFF_S`, while there are no children or the
        peak stops growing (by more than 1%), and drop back to 10 ms when it grows: a pool starts
        its processes and reaches its size in its first milliseconds, and every sample reads each
        process's page tables (about 100 us of a CPU the workers would use)."""
        lower_this_thread()
        wait = INTERVAL_S
        while not self.stopping.wait(wait):
            with self.lock:  # `read_now`, from the model's thread, looks and samples too
                grew = self.look()
            wait = INTERVAL_S if grew else min(BACK_OFF_S, 2 * wait)

    def look(self) -> bool:
        """One turn of `watch`: a look for children, and a sample if one is due; whether the peak grew."""
        known = len(self.children)
        self.refresh_children()
        growing = len(self.children) > known or self.may_have_grown()
        if (self.children or not self.kernel_peak) and (growing or self.estimated):
            # After an estimate, sampling goes on (cheaply, backing off) until the next reading,
            # even once the RSS stops growing: a reading counts what the growth left, the pages
            # forked workers copied on writing to them included (2.5 MB a pool-map worker here,
            # which no RSS shows: estimates alone read 3 KB).
            value = self.sample()
            grew = value > self.peak * 1.01
            self.peak = max(self.peak, value)
            return grew
        return False

    def read_now(self) -> None:
        """A reading of PSS now, whatever the time since the last (`checkpoint`), where there are
        children to read; the peak keeps it if it is higher."""
        if not self.watching or not SMAPS_ROLLUP:
            return
        with self.lock:
            self.refresh_children()
            if not self.children:
                return
            self.anchored_at = -ANCHOR_S  # long ago: the sample reads rather than estimates
            self.peak = max(self.peak, self.sample())

    def __enter__(self) -> MemorySampler:
        if SMAPS_ROLLUP:
            self.rollups[self.me.pid] = Rollup(self.me.pid)
        release_free_memory()
        self.kernel_peak = reset_high_water_mark()
        if self.kernel_peak:
            self.start_rss = rss_and_high_water_mark()[0]
        self.refresh_children()
        self.baseline = self.peak = self.sample()
        self.watching = self.watching or not self.kernel_peak
        if self.watching:
            with threads_without_sigint():
                self.thread.start()
        ACTIVE.append(self)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with contextlib.suppress(ValueError):
            ACTIVE.remove(self)
        self.stopping.set()
        if self.watching:
            self.thread.join()
        if self.kernel_peak:
            growth = rss_and_high_water_mark()[1] - self.start_rss
            self.peak = max(self.peak, self.baseline + growth)
        for rollup in self.rollups.values():
            rollup.close()
        LAST_GROWTH[0] = self.peak - self.baseline

    def method(self) -> str:
        """How the peak was found, for the record."""
        parts = ["the lab's own peak from the kernel (VmHWM)"] if self.kernel_peak else []
        if self.children or not self.kernel_peak:
            parts.append(
                f"PSS of the lab and its children, sampled when their RSS grew (checked every "
                f"{INTERVAL_S * 1000:g} ms), read as processes come and go and no more often than "
                f"every {ANCHOR_S * 1000:g} ms besides, estimated from the RSS in between"
            )
        return "; ".join(parts)

    def summary(self, workers: int) -> dict[str, Any]:
        """The record a `Result` keeps: baseline, peak, per worker (bytes), and how it was sampled."""
        return {
            "baseline_bytes": self.baseline,
            "peak_bytes": self.peak,
            "per_worker_bytes": round((self.peak - self.baseline) / max(1, workers)),
            "samples": self.samples,
            "method": self.method(),
        }
