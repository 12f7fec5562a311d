"""Every use of CPython's private API, in one place, with the versions it was checked on and what
happens without it.

    forkserver._forkserver, ._stop, ._preload_modules, ._forkserver_pid
        checked on 3.11-3.14. Used by `use_forkserver` to restart the forkserver with another
        preload list. Without them the running forkserver is kept as it is: workers start
        correctly, only slower (each imports what the preload would have).
    ProcessPoolExecutor._processes
        checked on 3.11-3.14 (3.14 also has the public `kill_workers`, used first). Used to kill
        a pool's workers at once and to read their pids for CPU time. Without it: no kill (the
        pool's own shutdown still runs) and no worker CPU time (the lab's own still counts).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver
from multiprocessing.process import BaseProcess


def use_forkserver(preload: Sequence[str]) -> None:
    """Make the next forkserver child come from a forkserver that imported `preload` first.

    A process has one forkserver, shared by every start method user: the processes model's
    workers want `__main__` and their task module in it (as a script's `__main__` imports its
    tasks), a Dask cluster's want `distributed` in it (without it each worker imports it itself:
    1.0 s instead of 0.26 s to start five). A running forkserver with other modules is stopped
    (it serves no pool: the lab runs one model at a time) and the next start makes a new one.
    `set_forkserver_preload` is public; `_stop` and `_preload_modules` are not.
    """
    wanted = list(preload)
    server = getattr(forkserver, "_forkserver", None)
    if server is None or getattr(server, "_preload_modules", wanted) == wanted:
        return
    if getattr(server, "_forkserver_pid", None) is not None and hasattr(server, "_stop"):
        server._stop()
    forkserver.set_forkserver_preload(wanted)


def pool_processes(pool: ProcessPoolExecutor) -> list[BaseProcess]:
    """A process pool's worker processes, as the pool holds them now (none where it let go)."""
    return list((getattr(pool, "_processes", None) or {}).values())


def pool_pids(pool: ProcessPoolExecutor) -> list[int]:
    """The pids of a process pool's workers (none where the attribute is gone)."""
    return [process.pid for process in pool_processes(pool) if process.pid is not None]


def kill_workers(pool: ProcessPoolExecutor, known: Iterable[BaseProcess] = ()) -> None:
    """Kill every worker of a process pool at once: a hung or sleeping task must not keep the lab
    waiting (3.14 has `pool.kill_workers()`; before it the processes are only in `_processes`).
    `known`: the workers as they were once started; a pool that a worker's death broke has
    already let go of the others, which would finish their task (a 2 s request) on their own."""
    for process in dict.fromkeys([*pool_processes(pool), *known]):
        if process.is_alive():
            process.kill()
