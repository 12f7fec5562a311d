"""A model and a demo from another package: registered by entry points, they show up in every
command and every report section, with no change to the lab; broken plug-ins are one line each.

The package lives in `tests/plugin/` (a module and its distribution's `.dist-info`, as pip would
install it); putting that folder on the path is all it takes to install it. Each command runs
in a fresh `python -m lab` process, as a user's would, so that the registry is read anew.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

PLUGIN = Path(__file__).parent / "plugin"
NAME = "mythreads"


def lab(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m lab ARGV` with the plug-in package installed (on the path)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PLUGIN), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "lab", *argv], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300, check=False)  # fmt: skip


def rows(done: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert done.returncode == 0, done.stderr
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def test_listed_with_the_broken_ones_named() -> None:
    done = lab("list")
    assert done.returncode == 0 and NAME in done.stdout
    assert "missing" in done.stdout and "labplug_not_installed" in done.stdout  # why it is unavailable
    assert "wrong" in done.stdout and "not a lab.models.Model subclass" in done.stdout
    assert "words" in done.stdout.split("\n\n")[0] and "digits" in done.stdout.split("\n\n")[0]  # demos
    assert (
        "missing-demo" in done.stdout
        and "wrong-demo" in done.stdout
        and "is not a lab.demos.Demo" in done.stdout
    )


# The library, in one fresh process, runs every demo in the plug-in (a process per demo would
# start Python and read the registry five times over: 5 s of the suite for nothing more).
EVERY_DEMO = """
import json, lab
print(json.dumps(lab.list_models()))  # the registry `--models all` runs from
for demo in ("pool-map", "racy-counter", "locked-counter", "cpu-bound", "http-get"):
    short = {"sleep": 0.1} if demo == "pool-map" else {}  # its default is the article's 5 s wait
    r = lab.run(demo, "mythreads", timeout=60, **short)
    print(json.dumps([demo, r.model, r.error, r.outputs_ok, r.correct]))
doc = lab.run_models("digits")  # the smallest demo (labsmall.py), in every model that runs here
print(json.dumps([[r.model, r.error, r.outputs_ok] for r in doc.results]))
doc = lab.run_models("tally")  # the models' own lock, shared integer and sleep (labkit.py)
print(json.dumps([[r.model, r.error, r.outputs_ok, r.correct] for r in doc.results]))
"""


def test_every_demo_runs_in_the_library_and_models_all_includes_it() -> None:
    env = {**os.environ, "PYTHONPATH": str(PLUGIN)}
    done = subprocess.run([sys.executable, "-c", EVERY_DEMO], capture_output=True, text=True, env=env,
                          timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    every, *ran, digits, tally = [json.loads(line) for line in done.stdout.splitlines()]
    assert NAME in every and "asyncio" in every
    assert {"asyncio", "threads", "processes", NAME} <= {model for model, _, _ in digits}
    assert all(error is None and ok for _, error, ok in digits), digits
    # Every model's kit: its lock kept each read-sleep-write whole, so that no update was lost.
    assert {"asyncio", "threads", "processes", NAME} <= {model for model, *_ in tally}
    assert all(error is None and ok and correct for _, error, ok, correct in tally), tally
    assert [r[0] for r in ran] == ["pool-map", "racy-counter", "locked-counter", "cpu-bound", "http-get"]
    for demo, model, error, outputs_ok, correct in ran:
        assert model == NAME and error is None and outputs_ok, demo
        if demo == "locked-counter":
            assert correct is True


def test_a_broken_plug_in_asked_for_is_one_line_and_status_2() -> None:
    for name, why in (("missing", "failed to import"), ("wrong", "not a lab.models.Model subclass")):
        done = lab("run", "pool-map", "--models", name)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert f"model plug-in {name!r}" in done.stderr and why in done.stderr
    for name, why in (("missing-demo", "failed to import"), ("wrong-demo", "is not a lab.demos.Demo")):
        done = lab("run", name, "--models", "threads")
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert f"demo plug-in {name!r}" in done.stderr and why in done.stderr
    # A parameter a plug-in declares (labkit's `adds`) is a flag, checked by its declaration.
    done = lab("run", "tally", "--models", "threads", "--adds", "-3")
    assert done.returncode == 2 and done.stderr == "lab: error: adds must be from 0 to 10000, not -3\n", (
        done.stderr
    )
    done = lab("run", "tally", "--models", "threads", "--adds", "3", "--json")
    assert rows(done)[0]["params"]["adds"] == 3 and rows(done)[0]["correct"] is True


def test_every_study_and_report_section_lists_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = lab("report", "--scale", "smoke", "--models", NAME, "threads", "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    [md] = out.glob("lab-report-*.md")
    text = md.read_text()
    # The article's and Real Python's section sets their published figures beside the model each
    # approach is (`Model.approach`); every other section that lists threads lists the plug-in.
    sections = [s for s in text.split("\n## ")[1:] if "Against the article" not in s.splitlines()[0]]
    listing = [s for s in sections if "| threads" in s or "threads " in s]
    assert listing, "no section lists the models"
    for section in listing:  # wherever threads are listed, the plug-in is too
        assert NAME in section, section[:300]
    doc = json.loads(next(out.glob("lab-report-*.json")).read_text())
    for part in ("results", "sweeps", "timelines", "races"):
        assert NAME in {r["model"] for r in doc[part]}, part
    # The plug-in's demo names no scale: it ran at its defaults, in every model, judged by itself.
    words = [r for r in doc["results"] if r["demo"] == "words"]
    assert {r["model"] for r in words} == {NAME, "threads"} and all(r["outputs_ok"] for r in words)
    assert "| echoing words (words: 3 x sleep(0.01), 3 workers)" in text  # its row of the answer
    assert "| digit sums (digits: 8 workers)" in text
    digits = [r for r in doc["results"] if r["demo"] == "digits"]
    assert {r["model"] for r in digits} == {NAME, "threads"} and all(r["outputs_ok"] for r in digits)
    assert "threading.Lock" in doc["run"]["lock_costs"]
    assert "#9467bd" not in text  # colours are for charts: the timeline chart is drawn
    assert any(p.name.endswith(".png") for p in out.iterdir())


def test_sweep_races_timeline_bench_and_compare(tmp_path: Path) -> None:
    # The smallest demo's sweep and timeline, in the plug-in's model: two plug-ins together.
    done = lab(
        "sweep", "digits", "--models", NAME, "--workers", "1,2", "--trials", "1", "--out", str(tmp_path)
    )
    assert done.returncode == 0 and NAME in done.stdout, done.stderr
    raced = rows(lab("races", "--models", NAME, "--increments", "10", "--trials", "3", "--json"))
    assert {r["variant"] for r in raced} == {NAME} and all(r["lost_trials"] == 3 for r in raced)
    done = lab("timeline", "digits", "--models", NAME, "--out", str(tmp_path))
    assert done.returncode == 0 and "trace.json" in done.stdout, done.stderr
    root = Path(__file__).parent.parent
    benched = rows(lab("bench", "examples.jobs:arithmetic", "--range", "2", "--workers", "1",
                       "--models", NAME, "--trials", "1", "--json", cwd=root))  # fmt: skip
    assert {r["model"] for r in benched} == {"serial", NAME}
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for path in (a, b):
        path.write_text(lab("run", "pool-map", "--models", NAME, "--sleep", "0.01", "--trials", "2",
                            "--json").stdout)  # fmt: skip
    done = lab("compare", str(a), str(b))
    assert done.returncode == 0 and NAME in done.stdout, done.stderr
