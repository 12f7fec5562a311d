"""Results files are decoded by a typed schema: every damaged file is one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lab.cli import main

GOOD = Path(__file__).parent / "data" / "results-v3.json"


def damaged(change: str) -> Any:
    doc = json.loads(GOOD.read_text())
    first = doc["results"][0]
    if change == "trial":
        first["trial"] = "abc"
    elif change == "elapsed":
        first["elapsed_s"] = "x"
    elif change == "missing":
        del first["demo"]
    elif change == "kind":
        doc["results"] = {}
    elif change == "environment":
        doc["environment"] = []
    elif change == "array":
        return []
    elif change == "bad array":
        return [{"demo": 3}]
    return doc


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("trial", "Expected `int`, got `str` - at `$.results[0].trial`"),
        ("elapsed", "Expected `float | null`, got `str` - at `$.results[0].elapsed_s`"),
        ("missing", "missing required field `demo` - at `$.results[0]`"),
        ("kind", "Expected `array`, got `object` - at `$.results`"),
        ("environment", "at `$.environment`"),
        ("array", "lab results"),
        ("bad array", "lab results"),
    ],
)
@pytest.mark.parametrize("command", ["report", "compare"])
def test_a_damaged_file_is_one_line_and_status_2(
    change: str, message: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(damaged(change)))
    argv = ["report", "--from", str(path), "--out", str(tmp_path)] if command == "report" else [
        "compare", str(path), str(GOOD)]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.json" in err, err
    if command == "compare" or "array" not in change:
        assert message in err, err


def test_an_empty_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.json"
    path.write_text("")
    assert main(["compare", str(path), str(GOOD)]) == 2
    assert "is not JSON" in capsys.readouterr().err
