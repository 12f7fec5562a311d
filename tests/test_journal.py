"""A report's journal (`lab.journal`): each trial on disk as it is measured, the report read back
from it, `lab report --resume` measuring only what is missing, and every damage said in one line."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import lab
from lab import journal
from lab.cli import main
from lab.errors import BadResultsFile, InvalidParameter
from lab.reporting import publish
from lab.results import Result, ResultsFile

SMALL = {"demos": ["pool-map"], "models": ["threads", "asyncio"]}  # sleeps: a few seconds in all


@pytest.fixture(scope="module")
def journaled(tmp_path_factory: pytest.TempPathFactory) -> tuple[ResultsFile, list[str]]:
    """A small report with its journal, and the journal's lines (before publishing removes it)."""
    folder = tmp_path_factory.mktemp("journaled")
    doc = lab.report("quick", journal=folder, **SMALL)  # type: ignore[arg-type]
    [path] = folder.glob(f"*{journal.SUFFIX}")
    return doc, path.read_text().splitlines(keepends=True)


def trials_in(doc: ResultsFile) -> int:
    """How many trials a report measured (a main-table trial that is also a sweep's point once)."""
    return (
        len(doc.results)
        + len(doc.timelines)
        + len(doc.noise)
        + len(doc.races)
        + len([r for r in doc.sweeps if r not in doc.results])
    )


def run(argv: list[str]) -> tuple[int, str]:
    """`lab ARGV` in this process: its status and what it wrote on stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(argv)
    return status, err.getvalue()


def test_every_trial_is_journaled_and_the_report_is_read_back_from_the_journal(
    journaled: tuple[ResultsFile, list[str]], tmp_path: Path
) -> None:
    doc, lines = journaled
    header = json.loads(lines[0])
    assert header["journal"] == "lab.journal" and header["lab"] == journal.lab_version()
    assert header["plan"]["demos"] == ["pool-map"] and header["runs"]
    trials = [json.loads(line)["trial"] for line in lines if line.startswith('{"trial"')]
    assert len(trials) == trials_in(doc) > 10
    assert [json.loads(line) for line in lines[-2:]][-1].keys() == {"lock_costs"}  # finished last
    path = tmp_path / f"{doc.run.stem}{journal.SUFFIX}"
    path.write_text("".join(lines))
    again = journal.read(path).doc()
    assert again.to_json() == doc.to_json() and not doc.run.partial
    published = publish(doc, tmp_path)
    assert not path.exists(), "a report published whole removes its journal"
    assert published.json.exists() and published.markdown.exists()


def test_resume_keeps_what_the_journal_holds_and_measures_only_the_rest(
    journaled: tuple[ResultsFile, list[str]], tmp_path: Path
) -> None:
    doc, lines = journaled
    kept = 4
    cut = lines[0] + "".join(lines[1 : 1 + kept]) + lines[1 + kept][:40]  # killed mid-write
    (tmp_path / f"{doc.run.stem}{journal.SUFFIX}").write_text(cut)
    said: list[str] = []
    heard: list[object] = []
    resumed = lab.resume(tmp_path, say=said.append, observe=lambda run, result, s: heard.append(result))
    assert len(said) == 1 and "cut short" in said[0] and "dropped" in said[0]
    # Only the missing trials are measured (the extra rounds for undecided rows, decided again from
    # what is kept, may differ in number from the first run's).
    assert len(heard) == trials_in(resumed) - kept
    before = [json.loads(line)["trial"]["result"] for line in lines[1 : 1 + kept]]
    after = [r.to_dict() for r in [*resumed.results, *resumed.sweeps, *resumed.timelines, *resumed.noise]]
    assert all(r in after for r in before), "every journaled result is in the resumed report"
    assert {r.variant for r in resumed.results} == {r.variant for r in doc.results}

    # Every sweep point again (a main-table run that is also a sweep's point keeps its extra
    # rounds in both, so the sweep's trials may differ in number too), and every timeline.
    def points(sweeps: Sequence[Result]) -> set[tuple[str, str]]:
        return {(r.variant, repr(sorted(r.params.items()))) for r in sweeps}

    assert points(resumed.sweeps) == points(doc.sweeps) and len(resumed.timelines) == len(doc.timelines)
    assert resumed.run.stem == doc.run.stem and not resumed.run.partial


def test_a_journal_for_another_plan_or_version_is_refused_in_one_line(
    journaled: tuple[ResultsFile, list[str]], tmp_path: Path
) -> None:
    _, lines = journaled
    header = json.loads(lines[0])

    def resume_with(changed: dict[str, Any]) -> tuple[int, str]:
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        folder.mkdir()
        (folder / f"x{journal.SUFFIX}").write_text(json.dumps({**header, **changed}) + "\n" + lines[1])
        return run(["report", "--resume", str(folder)])

    cases = {
        "no longer planned": {"runs": [*header["runs"], "pool-map · gone · [] "]},
        "was not planned then": {"runs": header["runs"][1:]},
        "written by lab '0.0.1'": {"lab": "0.0.1"},
        "journal of version 7": {"version": 7},
        "unknown demo 'gone'": {"plan": {**header["plan"], "demos": ["gone"]}},
    }
    for words, changed in cases.items():
        status, err = resume_with(changed)
        assert status == 2 and err.count("\n") == 1 and words in err, (words, err)
    empty = tmp_path / "empty"
    empty.mkdir()
    status, err = run(["report", "--resume", str(empty)])
    assert status == 2 and "no journal" in err and err.count("\n") == 1
    status, err = run(["report", "--resume", str(empty), "--scale", "article", "--warmup"])
    assert status == 2 and "drop --scale, --warmup" in err


def test_a_damaged_line_is_named_and_from_publishes_a_journal_as_partial(
    journaled: tuple[ResultsFile, list[str]], tmp_path: Path
) -> None:
    doc, lines = journaled
    bad = tmp_path / f"bad{journal.SUFFIX}"
    bad.write_text(lines[0] + lines[1] + "{not json\n" + lines[2])
    with pytest.raises(BadResultsFile, match="line 3 is not JSON"):
        journal.read(bad)
    bad.write_text(lines[0] + lines[1].replace('"trial":1', '"trial":"one"', 1))
    with pytest.raises(BadResultsFile, match=r"line 2 is a damaged lab results file.*trial"):
        journal.read(bad)
    cut = tmp_path / f"{doc.run.stem}{journal.SUFFIX}"
    cut.write_text("".join(lines[:6]))
    status, err = run(["report", "--from", str(cut), "--out", str(tmp_path / "out")])
    assert status == 0, err
    published = ResultsFile.load(tmp_path / "out" / f"{doc.run.stem}.json")
    assert published.run.partial and len(published.results) + len(published.sweeps) >= 1
    assert cut.exists(), "--from leaves the journal it read"
    with pytest.raises(InvalidParameter, match="neither a folder nor a journal"):
        journal.find(tmp_path / "nowhere")
