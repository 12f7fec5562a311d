"""transfer: a payload handed to every task, as an argument or shared once, in every model; every
shared_memory block unlinked, whatever ends the run; a payload too large refused before it is built."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest

import lab
from lab.cli import main
from lab.demos import DEMOS
from lab.demos.transfer import all_seen, expected, payload, peak_bytes
from lab.errors import InvalidParameter
from lab.measure.stats import Ratio
from lab.models import MODELS
from lab.models.base import Measured
from lab.render.answer import answers
from lab.render.transfer import Speedup, pays_from
from lab.results import ResultsFile
from tests.conftest import Variant
from tests.test_hardening import assert_all_gone, descendants, start_lab

SHM = Path("/dev/shm")  # where Linux keeps POSIX shared memory: a block left behind shows here


def blocks() -> set[str]:
    """The shared_memory blocks that exist now (Python names its own `psm_...`)."""
    return {p.name for p in SHM.glob("psm_*")} if SHM.is_dir() else set()


@pytest.mark.parametrize("via", ["argument", "shared"])
def test_every_task_sees_the_whole_payload_in_every_model(each_unlocked: Variant, via: str) -> None:
    before = blocks()
    r = each_unlocked.run("transfer", tasks=3, size="300kB", rounds=5, via=via)
    assert r.error is None
    assert r.outputs_ok, "a task saw another payload than the caller built"
    assert r.params["size"] == 300_000 and r.params["workers"] == 3
    assert r.metrics is not None and r.metrics["handed_bytes"] == 900_000
    assert r.metrics["megabytes_per_s"] == pytest.approx(0.9 / r.elapsed_s, rel=0.01)
    assert blocks() == before


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_a_shared_block_is_read_under_every_start_method_and_then_unlinked(
    method: str, capfd: pytest.CaptureFixture[str]
) -> None:
    before = blocks()
    r = lab.run("transfer", "processes", start_method=method, tasks=2, size="2MB", rounds=0, via="shared")
    assert r.error is None and r.outputs_ok
    assert blocks() == before
    assert "leaked shared_memory" not in capfd.readouterr().err


@pytest.mark.parametrize("fault", ["raise", "exit", "hang"])
def test_a_failed_run_leaves_no_shared_block(fault: str, capfd: pytest.CaptureFixture[str]) -> None:
    before = blocks()
    r = lab.run("transfer", "processes", tasks=2, size="1MB", via="shared", fault=fault, timeout=3)
    assert r.error is not None and not r.outputs_ok
    assert blocks() == before
    assert "leaked shared_memory" not in capfd.readouterr().err


def test_ctrl_c_leaves_no_shared_block_and_no_worker() -> None:
    before = blocks()
    # Minutes of work on a shared 20 MB payload: stopped in the middle.
    lab_process = start_lab("run", "transfer", "--model", "processes", "--via", "shared", "--size", "20MB",
                            "--rounds", "20000", "--tasks", "2")  # fmt: skip
    children = descendants(lab_process.pid, workers=2)
    time.sleep(1.0)
    os.killpg(lab_process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
    _, err = lab_process.communicate(timeout=15)
    assert lab_process.returncode == 130 and "Traceback" not in err and "leaked" not in err
    assert_all_gone(children)
    assert blocks() == before


def test_what_a_task_returns_is_checked() -> None:
    demo, params = DEMOS["transfer"], {"tasks": 2, "size": 10_000, "rounds": 3, "via": "argument"}
    right = expected(10_000, 3)
    assert right[0] == 10_000 and payload(10_000)[:3] == b"\x00\x01\x02"

    def judged(outputs: list[object]) -> bool:
        return all_seen(demo, params, Measured(outputs=outputs, counter=None, elapsed_s=1.0, startup_s=0.0))

    assert judged([right, right])
    assert not judged([right])  # a task missing
    assert not judged([right, (10_000, right[1] ^ 1, right[2])])  # another payload's bytes
    assert not judged([right, (9_999, right[1], right[2])])  # a payload cut short
    assert not judged([right, (10_000, right[1], right[2] + 1)])  # its work not done


def test_the_work_grows_with_the_rounds_and_the_size() -> None:
    # Within one run: 1 round per KiB against 200, on the same payload (no absolute limit). About
    # 65x here; the best of three runs each, since the light one is under a millisecond and one
    # stall of a noisy host (12 ms in one CI run) would otherwise decide the ratio.
    def best(rounds: int) -> float:
        runs = [lab.run("transfer", "threads", tasks=1, size="2MB", rounds=rounds) for _ in range(3)]
        return min(run.elapsed_s or 0.0 for run in runs)

    light = best(1)
    assert light > 0 and best(200) > 5 * light


def test_a_payload_larger_than_the_memory_is_refused_before_it_is_built(
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    with pytest.raises(InvalidParameter, match=r"would hold about .* GB at its peak; this machine has"):
        lab.run("transfer", "threads", size="1TiB")
    assert main(["run", "transfer", "--model", "processes", "--size", "200GB", "--tasks", "8"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "processes" in err and "200,000,000,000" in err
    assert time.monotonic() - started < 5  # nothing of 200 GB was built
    # A copy per task in flight where workers have heaps of their own; one payload where they share.
    params = {"tasks": 4, "size": 10**9, "via": "argument"}
    assert peak_bytes(params, MODELS["threads"]) == 10**9
    assert peak_bytes(params, MODELS["processes"]) == 9 * 10**9
    assert peak_bytes({**params, "via": "shared"}, MODELS["processes"]) == 2 * 10**9


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--size", "10XB"], "size must be a byte count like 100000, 1MB or 10MiB"),
        (["--via", "pipe"], "via"),
        (["--rounds", "-1"], "rounds must be"),
    ],
)
def test_bad_values_are_one_line_and_status_2(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "transfer", "--model", "threads", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and said in err


def test_the_report_has_the_section_and_the_answer_row_and_re_renders_exactly(tmp_path: Path) -> None:
    argv = ["report", "--scale", "smoke", "--out", str(tmp_path / "made"), "--quiet", "--demos", "transfer",
            "--models", "threads", "processes"]  # fmt: skip
    assert main(argv) == 0
    [js] = (tmp_path / "made").glob("*.json")
    doc = ResultsFile.load(js)
    [row] = [a for a in answers(doc) if a.demo == "transfer"]
    assert row.job.startswith("CPU work on big data (transfer: 4 tasks x 100,000 bytes (argument or shared)")
    for shown in ("threads (argument)", "threads (shared)", "processes+fork+mp (argument)", "(shared)"):
        assert shown in row.measured
    # each one to use is a model and how it got the data, said once: `threads (shared)`
    assert all(
        re.fullmatch(r"(threads|processes) \((argument|shared)\)", u) for u in row.use.split(" or ")
    ), row.use
    assert (
        "moving alone" in row.measured
        and "speedup over 1 worker (as arguments) from: threads " in row.measured
    )
    [md] = (tmp_path / "made").glob("*.md")
    text = md.read_text()
    assert "## 4. Big data handed to workers (transfer)" in text and "memory added at peak" in text
    # The ladder: both sizes, each on one worker and on all; each via at rounds 0 at the top size.
    ladder = [
        r
        for r in doc.results
        if r.demo == "transfer" and r.params["rounds"] and r.params["via"] == "argument"
    ]
    shapes = {(r.params["size"], r.params["workers"]) for r in ladder}
    assert shapes == {(10_000, 1), (10_000, 4), (100_000, 1), (100_000, 4)}
    assert {r.params["via"] for r in doc.results if r.demo == "transfer" and not r.params["rounds"]} == {
        "argument",
        "shared",
    }
    assert main(["report", "--from", str(js), "--out", str(tmp_path / "again"), "--quiet"]) == 0
    assert (tmp_path / "again" / md.name).read_text() == text


def test_the_size_from_which_a_speedup_shows() -> None:
    def ratio(low: float, high: float) -> Ratio:
        return Ratio(n=3, mean=(low + high) / 2, median=(low + high) / 2, low=low, high=high)

    found: list[Speedup] = [
        ("processes", 10_000, [], [], ratio(0.3, 1.2)),
        ("processes", 1_000_000, [], [], ratio(1.2, 1.4)),
        ("processes", 10_000_000, [], [], ratio(1.3, 1.5)),
        ("threads", 10_000, [], [], ratio(0.9, 1.1)),
        ("threads", 1_000_000, [], [], ratio(1.2, 1.3)),  # shown here, not above: not "from" here
        ("threads", 10_000_000, [], [], ratio(0.9, 1.1)),
    ]
    assert pays_from(found, "processes") == "1.0 MB"
    assert pays_from(found, "threads") == "never"
    assert pays_from(found, "dask") == "-"
