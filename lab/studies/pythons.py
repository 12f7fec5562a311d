"""Other Pythons for `lab report --python`: finding them, describing them, and a virtual
environment for each with the lab installed from this same source.

An interpreter is given as a path, a name on PATH (`python3.12`) or a version (`3.13`, looked up
as `python3.13` in pyenv's versions when pyenv is there, then on PATH). Its description says
what matters for the lab's claims: version, implementation, whether the build is free-threaded
(`Py_GIL_DISABLED`) and whether the GIL is on right now (`sys._is_gil_enabled()`, 3.13+).

Each gets a virtual environment in the cache folder (`$LAB_CACHE`, else `~/.cache/lab`), made once
and reused while the dependencies this source's `pyproject.toml` declares are unchanged; the lab
is installed editable, so the code it runs is this checkout's.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lab.errors import InvalidParameter, LabError

PROBE = (
    "import json, platform, sys, sysconfig; "
    "print(json.dumps({'python': platform.python_version(), "
    "'implementation': platform.python_implementation(), "
    "'free_threaded': bool(sysconfig.get_config_var('Py_GIL_DISABLED')), "
    "'gil_enabled': bool(getattr(sys, '_is_gil_enabled', lambda: True)()), 'executable': sys.executable}))"
)
VERSION = re.compile(r"\d+\.\d+t?")  # 3.13, or 3.13t for a free-threaded build


class EnvironmentFailed(LabError):
    """A virtual environment for another Python could not be made or the lab not installed in it."""


def find(spec: str) -> Path:
    """The interpreter `spec` names, or InvalidParameter saying where it was looked for."""
    candidates: list[Path] = []
    if os.sep in spec or Path(spec).is_file():
        candidates.append(Path(spec))
    name = f"python{spec}" if VERSION.fullmatch(spec) else spec
    root = pyenv_root()
    if root and name.startswith("python"):
        version = name.removeprefix("python").rstrip("t")
        for folder in sorted((root / "versions").glob(f"{version}*"), reverse=True):
            if re.fullmatch(re.escape(version) + r"(\.\d+)?t?", folder.name):
                candidates.append(folder / "bin" / name)
    if found := shutil.which(name):
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and runs(candidate):
            return candidate
    have = ", ".join(sorted(p.name for p in (root / "versions").iterdir())) if root else "no pyenv here"
    raise InvalidParameter(
        f"no Python {spec!r} found (a path, a name on PATH like python3.12, or a version like 3.13; "
        f"pyenv has: {have})"
    )


def pyenv_root() -> Path | None:
    """pyenv's root folder, when pyenv is installed."""
    root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    return Path(root) if (Path(root) / "versions").is_dir() else None


def runs(python: Path) -> bool:
    """Whether `python` starts (a pyenv shim of a version not selected does not)."""
    try:
        return (
            subprocess.run(
                [str(python), "-c", "pass"], check=False, capture_output=True, timeout=30
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def describe(python: Path | str) -> dict[str, Any]:
    """Version, implementation, free-threaded build or not, GIL on or not, of the interpreter."""
    done = subprocess.run([str(python), "-c", PROBE], check=False, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise InvalidParameter(f"cannot run {str(python)!r}: {done.stderr.strip().splitlines()[-1:]}")
    return parse(done.stdout)


def parse(text: str) -> dict[str, Any]:
    """The probe's output, with `label`: `3.13.0`, `3.13.0t` for a free-threaded build, and
    ` (GIL on)` when such a build runs with its GIL turned back on."""
    info: dict[str, Any] = json.loads(text)
    label = info["python"] + ("t" if info["free_threaded"] else "")
    if info["free_threaded"] and info["gil_enabled"]:
        label += " (GIL on)"
    if info["implementation"] != "CPython":
        label = f"{info['implementation']} {label}"
    return {**info, "label": label}


def cache_folder() -> Path:
    """Where the environments live."""
    return Path(os.environ.get("LAB_CACHE") or Path.home() / ".cache" / "lab") / "pythons"


def environment(python: Path, source: Path, extras: str) -> Path:
    """The interpreter of a virtual environment made with `python`, with the lab installed from
    `source` (editable, with `extras`): made once, reused while `pyproject.toml` is unchanged.

    One environment per interpreter and extras, whichever checkout asks: a fresh clone, or a
    `pyproject.toml` changed in anything but its dependencies (an entry point), finds them
    installed and only points the editable install at itself (`--no-deps`, 3 s, where installing
    them all takes 50 s)."""
    info = describe(python)
    if tuple(int(x) for x in info["python"].split(".")[:2]) < (3, 11):
        raise InvalidParameter(f"Python {info['python']} ({python}) is too old: the lab needs 3.11 or newer")
    digest = hashlib.sha256(f"{python.resolve()}|{extras}".encode()).hexdigest()[:12]
    folder = cache_folder() / f"{info['implementation'].lower()}-{info['label'].split()[0]}-{digest}"
    pyproject = (source / "pyproject.toml").read_bytes()
    stamp = dependencies_stamp(pyproject)
    marker, pointed = folder / ".lab-installed", folder / ".lab-source"
    venv_python = folder / "bin" / "python"
    here = str(source.resolve())
    # the checkout, and its whole pyproject.toml: an entry point's change needs a new install too
    source_stamp = f"{here}\n{hashlib.sha256(pyproject).hexdigest()}"
    if marker.is_file() and marker.read_text() == stamp and venv_python.is_file():
        if pointed.is_file() and pointed.read_text() == source_stamp:
            return venv_python
        steps = [
            [str(venv_python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e", here]
        ]
    else:
        shutil.rmtree(folder, ignore_errors=True)
        folder.parent.mkdir(parents=True, exist_ok=True)
        steps = [
            [str(python), "-m", "venv", str(folder)],
            # setuptools in the environment itself: re-pointing the install needs no download
            [str(venv_python), "-m", "pip", "install", "-q", "setuptools>=77"],
            # --no-compile: a module is compiled when first imported instead, and most never are
            # (a smoke report across 3.12 and 3.13 from an empty cache: 30 s -> 24 s here)
            [str(venv_python), "-m", "pip", "install", "-q", "--no-compile", "-e", f"{here}[{extras}]"],
        ]
    for step in steps:
        if _STOP.is_set():
            raise EnvironmentFailed(f"making the environment for {python} was stopped")
        with subprocess.Popen(step, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
            with _LOCK:
                _RUNNING.add(child)
                # started after `environments` killed the others (it sets _STOP, then takes the lock)
                if _STOP.is_set():
                    child.kill()
            try:
                _, stderr = child.communicate()
            finally:
                with _LOCK:
                    _RUNNING.discard(child)
        if child.returncode != 0:
            last = (stderr.strip().splitlines() or ["no output"])[-1]
            raise EnvironmentFailed(
                f"making the environment for {python} failed at `{' '.join(step[:4])}`: {last}"
            )
    marker.write_text(stamp)
    pointed.write_text(source_stamp)
    return venv_python


# The installs `environments` has under way, which a failure or Ctrl-C of the caller kills.
_LOCK = threading.Lock()
_RUNNING: set[subprocess.Popen[str]] = set()
_STOP = threading.Event()


def environments(pythons: Sequence[Path], source: Path, extras: str) -> list[Path]:
    """`environment` for each interpreter, all made side by side and before any of them runs a
    report: pip waits on its index and the disk as much as it computes (a report across 3.12 and
    3.13 took 32 s with both made at once, 54 s one after the other, here), and no install then
    runs during a measurement. A
    failure of one, or Ctrl-C, kills the installs still running and raises."""
    _STOP.clear()
    with concurrent.futures.ThreadPoolExecutor(max(1, len(pythons)), thread_name_prefix="lab-env") as pool:
        futures = [pool.submit(environment, python, source, extras) for python in pythons]
        try:
            return [future.result() for future in futures]
        except BaseException:
            _STOP.set()
            with _LOCK:
                for child in _RUNNING:
                    child.kill()
            raise


def dependencies_stamp(pyproject: bytes) -> str:
    """A digest of what a `pyproject.toml` makes pip install: the distribution's name (a renamed
    one would sit beside the old, both pointing the import package somewhere), the Python it
    requires and its dependencies, optional ones included."""
    project = tomllib.loads(pyproject.decode())["project"]
    keys = ("name", "requires-python", "dependencies", "optional-dependencies")
    declared = [project.get(k) for k in keys]
    return hashlib.sha256(json.dumps(declared, sort_keys=True).encode()).hexdigest()


def current() -> dict[str, Any]:
    """This interpreter's description."""
    return describe(sys.executable)
