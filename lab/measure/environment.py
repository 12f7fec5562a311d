"""What machine and interpreter the numbers came from, collected one topic per function (as pyperf does)."""

from __future__ import annotations

import datetime
import importlib.metadata
import multiprocessing
import os
import platform
import shlex
import sys
from pathlib import Path
from typing import Any

# The lab under its import name, read from its distribution's (PyPI's `lab` is another project).
PACKAGES = {"lab": "concurrency-lab", **{p: p for p in ("anyio", "uvloop", "tabulate", "rich", "matplotlib")}}


def python_metadata() -> dict[str, Any]:
    """Version, implementation, build and whether the GIL is on (free-threaded builds turn it off)."""
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)  # 3.13+
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "build": " ".join(platform.python_build()) + f", {platform.python_compiler()}",
        "gil_enabled": True if is_gil_enabled is None else bool(is_gil_enabled()),
        # Off (PYTHONDONTWRITEBYTECODE), every new process compiles the lab's modules from source
        # again: here, 0.1 s more to spawn 5 workers (0.51 s against 0.41 s with bytecode cached).
        "bytecode_written": not sys.dont_write_bytecode,
    }


def cpu_model() -> str:
    """The CPU's model name, from /proc/cpuinfo where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cpu_metadata() -> dict[str, Any]:
    """The CPU model, the logical CPUs, and how many of them this process may use."""
    return {"cpu_model": cpu_model(), "cpu_count": os.cpu_count(), "cpus_usable": usable_cores()}


def system_metadata() -> dict[str, Any]:
    """The operating system and the concurrency machinery it offers."""
    return {
        "os": platform.platform(),
        "start_methods": multiprocessing.get_all_start_methods(),
        "default_start_method": multiprocessing.get_all_start_methods()[0],
        "event_loops": event_loops(),
    }


def event_loops() -> list[str]:
    """The event loops the asyncio model can run on here."""
    loops = ["asyncio"]
    try:
        loops.append(f"uvloop {importlib.metadata.version('uvloop')}")
    except importlib.metadata.PackageNotFoundError:
        loops.append("uvloop: not installed")
    return loops


def package_versions() -> dict[str, str]:
    """Versions of lab and of its dependencies ('not installed' where missing)."""
    versions = {}
    for name, distribution in PACKAGES.items():
        try:
            versions[name] = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def collect(argv: list[str] | None = None) -> dict[str, Any]:
    """Everything above, plus the date and the exact command line."""
    return {
        **python_metadata(),
        **cpu_metadata(),
        **system_metadata(),
        "packages": package_versions(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "command": shlex.join(["lab", *(sys.argv[1:] if argv is None else argv)]),
    }
