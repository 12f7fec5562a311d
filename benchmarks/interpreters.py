"""What a subinterpreter costs, against a thread and a process: start-up and memory per worker,
measured by the lab's own runs, and the cost of passing data into an interpreter.

Needs Python 3.12+ with the interpreters model available (3.14, or the `interpreters` extra):

    python3.13 -m venv .venv313 && .venv313/bin/pip install -q -e '.[test]'
    .venv313/bin/python benchmarks/interpreters.py --out reports/interpreters-costs.md

Start-up: `pool-map` with `sleep 0` and a worker per task, the model's `startup_s` over the
workers (pool or loop start and shutdown). Memory: `pool-map` with 0.5 s waits, the lab's memory
per worker (peak PSS over the baseline; `lab.measure.memory`). Passing data: one item put on a
cross-interpreter queue and taken off in the other interpreter, per call, for data the queue
shares as it is (`bytes`) and data it must pickle (a `list` of the same number of bytes as ints).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from tabulate import tabulate

import lab
from lab.models import MODELS as MODELS_BY_NAME
from lab.models.interpreters import module
from lab.results import write_atomically

# Interpreters last: on 3.13 each closed interpreter leaves a few MB behind (see docs/models.md), which
# would make the processes measured after them fork a larger process.
MODELS = ("threads", "processes", "interpreters")


def startup_per_worker(model: str, workers: int, trials: int) -> float:
    """Median start-up seconds per worker (pool start and shutdown, over the workers)."""
    runs = lab.run_trials("pool-map", model, trials, tasks=workers, workers=workers, sleep=0.0)
    return statistics.median((r.startup_s or 0.0) / workers for r in runs)


def memory_per_worker(model: str, workers: int) -> float | None:
    """Bytes per waiting worker (the median of three runs)."""
    values = []
    for _ in range(3):
        r = lab.run("pool-map", model, tasks=workers, workers=workers, sleep=0.5)
        if r.memory and r.memory.get("per_worker_bytes") is not None:
            values.append(float(r.memory["per_worker_bytes"]))
    return statistics.median(values) if values else None


def passing(size: int, rounds: int = 200) -> dict[str, float]:
    """Microseconds per item put on a queue here and taken off in another interpreter."""
    interpreters = module()
    assert interpreters is not None
    other = interpreters.create()
    inbox = interpreters.create_queue()
    other.exec("try:\n    import _interpreters, _interpqueues\nexcept ImportError:\n"
               "    import interpreters_backport.interpreters.queues")  # fmt: skip
    other.prepare_main(inbox=inbox)
    out = {}
    for label, item in (("bytes (shared as is)", bytes(size)), ("list of ints (pickled)", list(range(size)))):
        times = []
        for _ in range(rounds):
            begin = time.perf_counter()
            inbox.put(item)
            other.exec("inbox.get_nowait()")
            times.append(time.perf_counter() - begin)
        out[label] = statistics.median(times) * 1e6
    other.close()
    return out


def main() -> int:
    """Measure, print a markdown page, and write it to --out if given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if why := MODELS_BY_NAME["interpreters"].unavailable({}):
        print(why, file=sys.stderr)
        return 2
    rows = []
    for model in MODELS:
        startup = [f"{startup_per_worker(model, n, args.trials) * 1e3:.1f}" for n in (1, 16)]
        memory = [f"{(memory_per_worker(model, n) or 0) / 1e6:.2f}" for n in (16, 64)]
        rows.append([model, *startup, *memory])
    costs = []
    for size in (1_000, 100_000):
        for label, us in passing(size).items():
            costs.append([f"{size:,}", label, f"{us:.1f}"])
    headers = ["model", "start-up ms per worker, 1 worker", "16 workers",
               "memory MB per waiting worker, 16 workers", "64 workers"]  # fmt: skip
    parts = [
        "# What a subinterpreter costs",
        f"Made by `python benchmarks/interpreters.py` with Python {sys.version.split()[0]} on "
        f"{time.strftime('%Y-%m-%d')}; start-up: medians of {args.trials} runs; memory: medians of 3.",
        tabulate(rows, headers, tablefmt="github", disable_numparse=True),
        "Passing one item into another interpreter (put on a queue here, taken off there), median us:",
        tabulate(costs, ["items or bytes", "what", "us per item"], tablefmt="github", disable_numparse=True),
    ]
    text = "\n\n".join(parts) + "\n"
    print(text)
    if args.out:
        write_atomically(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
