"""`lab compare`: rows matched across files of any schema version, medians, ratios, and noise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.cli import main
from lab.results import SCHEMA_VERSION, ResultsFile
from lab.studies import compare

DATA = Path(__file__).parent / "data"
V1, V3 = DATA / "results-v1.json", DATA / "results-v3.json"  # written by the lab of each version
V2 = Path(__file__).parent.parent / "reports" / "lab-report-quick-2026-11-25.json"


def test_the_committed_files_are_of_the_versions_they_claim() -> None:
    assert [json.loads(p.read_text())["version"] for p in (V1, V2, V3)] == [1, 2, 3] and SCHEMA_VERSION == 4
    doc = ResultsFile.load(V3)
    assert doc.races and all(r.cpu_s is not None for r in doc.results if r.model != "serial")


EXACT = [
    ([1, 2, 3], [4, 5, 6], 0.1),
    ([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], 2 / 252),
    ([1, 3, 5], [2, 4, 6], 0.7),
]


@pytest.mark.parametrize(("a", "b", "p"), EXACT)
def test_mann_whitney_exact_p(a: list[float], b: list[float], p: float) -> None:
    assert compare.mann_whitney_p(a, b) == pytest.approx(p)


def test_the_verdict_says_when_there_are_too_few_trials() -> None:
    assert compare.verdict([1.0, 1.1, 1.2], [2.0, 2.1, 2.2]).startswith("too few trials")
    assert compare.verdict([1.0, 1.1, 1.2, 1.3, 1.4], [2.0, 2.1, 2.2, 2.3, 2.4]).startswith("slower (p=0.008")
    assert compare.verdict([2.0, 2.1, 2.2, 2.3, 2.4], [1.0, 1.1, 1.2, 1.3, 1.4]).startswith("faster")
    assert compare.verdict([1.0, 1.2, 1.4, 1.6, 1.8], [1.1, 1.3, 1.5, 1.7, 1.9]).startswith("within noise")


def test_two_reports_of_the_same_scale_and_of_different_versions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(V2), str(V3), str(V1)]) == 0
    out = capsys.readouterr().out
    v2_v3, v2_v1 = out.split("## B: ")[1:]
    rows = [line for line in v2_v3.splitlines() if line.startswith("| pool-map ")]
    assert rows and all(len(line.split("|")) == 9 for line in rows)  # a ratio on every matched row
    assert "| pool-map | asyncio | sleep=0.1, tasks=5, workers=5 |" in " ".join(v2_v3.split())
    assert "Unmatched rows:" in v2_v3 and "only in" in v2_v3  # listed, not dropped
    assert "too few trials (n=3, 3)" in v2_v3
    assert "B / A" in v2_v1  # schema 1 against schema 2: read and matched where they can be


def test_a_run_json_array_compares_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("a", "b"):
        assert (
            main(["run", "pool-map", "--model", "threads", "--sleep", "0.01", "--trials", "5", "--json"]) == 0
        )
        (tmp_path / f"{name}.json").write_text(capsys.readouterr().out)
    out_file = tmp_path / "cmp.md"
    assert main(["compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--out", str(out_file)]) == 0
    text = out_file.read_text()
    assert "| pool-map | threads |" in " ".join(text.split()) and "(p=" in text


@pytest.mark.parametrize("argv", [["compare", str(V1)], ["compare", str(V1), "/nonexistent.json"]])
def test_bad_input_is_one_line_and_status_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err.count("\n") == 1
