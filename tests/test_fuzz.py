"""Every reader of a results file or journal (`lab report --from`, `lab report --resume`,
`lab compare`) either works or says what is wrong in one line with exit status 2, whatever the
damage: the file cut at any byte, bytes flipped, a byte that is not UTF-8, a field of another
type (None, a string, huge numbers, NaN, a list, an object), a field missing or added, another
schema version. Hypothesis draws the damage;
`LAB_FUZZ_EXAMPLES` sets how many inputs a run tries (the suite's default is bounded for its 5
minutes)."""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.cli import main

ROOT = Path(__file__).resolve().parent.parent
# The newest committed quick report (every section) and an older schema version's, the smaller.
NEWEST = sorted((ROOT / "reports").glob("lab-report-quick-2026-12-*.json"))[-1]
SOURCES = [NEWEST, ROOT / "reports" / "lab-report-quick-2026-11-25.json"]
EXAMPLES = int(os.environ.get("LAB_FUZZ_EXAMPLES", "30"))
WEIRD = st.one_of(st.none(), st.booleans(), st.text(max_size=3), st.integers(-(10**30), 10**30),
                  st.floats(allow_nan=True, allow_infinity=True), st.just([]), st.just({}),
                  st.just([1, "x"]), st.just({"a": None}))  # fmt: skip


def fields(node: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into `node`, the first three items of each list (rows are alike)."""
    items = node.items() if isinstance(node, dict) else enumerate(node[:3]) if isinstance(node, list) else ()
    for k, v in items:
        yield (*at, k)
        yield from fields(v, (*at, k))


# A journal of a report killed part way (`lab report --demos pool-map --models threads asyncio`,
# cut after 20 trials): what `--resume` and `--from` read.
JOURNAL = ROOT / "tests" / "data" / "lab-report-quick-killed.journal.jsonl"
ORIGINALS = {path: path.read_bytes() for path in SOURCES}
PATHS = {path: list(fields(json.loads(text))) for path, text in ORIGINALS.items()}


@st.composite
def damaged(draw: st.DrawFn) -> tuple[Path, bytes]:
    """A committed results file with one kind of damage."""
    source = draw(st.sampled_from(SOURCES))
    text = ORIGINALS[source]
    kind = draw(st.sampled_from(["cut", "flip", "not utf-8", "retype", "drop", "extra", "version"]))
    if kind == "cut":
        return source, text[: draw(st.integers(0, len(text) - 1))]
    if kind in ("flip", "not utf-8"):
        changed = bytearray(text)
        for _ in range(draw(st.integers(1, 5))):
            changed[draw(st.integers(0, len(text) - 1))] = (
                0xFF if kind == "not utf-8" else draw(st.integers(0, 255))
            )
        return source, bytes(changed)
    doc = json.loads(text)
    if kind == "version":
        doc["version"] = draw(WEIRD)
        return source, json.dumps(doc).encode()
    path = draw(st.sampled_from(PATHS[source]))
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    if kind == "retype":
        parent[path[-1]] = draw(WEIRD)
    elif kind == "drop" and isinstance(parent, dict):
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[draw(st.text(min_size=1, max_size=8))] = draw(WEIRD)
    return source, json.dumps(doc).encode()


def run(argv: list[str]) -> tuple[int, str]:
    """`lab ARGV` in this process: its status and what it wrote on stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(argv)
    return status, err.getvalue()


# The charts are drawn by matplotlib from the same records the markdown renders; skipping them
# keeps each input to a tenth of a second (a chart's bad value is caught the same way: test below).
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(damaged())
def test_every_reader_works_or_says_why_in_one_line(tmp_path_factory: Any, case: tuple[Path, bytes]) -> None:
    source, data = case
    folder = tmp_path_factory.mktemp("fuzz")
    bad = folder / "damaged.json"
    bad.write_bytes(data)
    with mock.patch("lab.reporting.pictures.per_demo", return_value=({}, {}, {}, {})):
        for argv in (["report", "--from", str(bad), "--out", str(folder / "out")],
                     ["compare", str(source), str(bad)], ["compare", str(bad), str(source)]):  # fmt: skip
            status, err = run(argv)  # a traceback fails the test here, as the exception it is
            assert status in (0, 2), (argv, status, err)
            assert status == 0 or (err.count("\n") == 1 and err.startswith("lab: error: ")), err


def test_a_chart_that_cannot_be_drawn_is_one_line_too(tmp_path: Path) -> None:
    doc = json.loads(ORIGINALS[SOURCES[0]])
    recorded = next(r for r in doc["timelines"] if r.get("timeline"))
    recorded["timeline"][0]["item"] = None  # a timeline's records are typed loosely: drawn, it fails
    bad = tmp_path / "damaged.json"
    bad.write_text(json.dumps(doc))
    status, err = run(["report", "--from", str(bad), "--out", str(tmp_path / "out")])
    assert status == 2 and err.count("\n") == 1 and "damaged lab results file" in err, err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.md"))


JOURNAL_TEXT = JOURNAL.read_bytes()
JOURNAL_LINES = [json.loads(line) for line in JOURNAL_TEXT.splitlines()]
JOURNAL_PATHS = list(fields(JOURNAL_LINES))


@st.composite
def damaged_journal(draw: st.DrawFn) -> bytes:
    """The committed journal with one kind of damage (a field's path starts with its line)."""
    text = JOURNAL_TEXT
    kind = draw(st.sampled_from(["cut", "flip", "not utf-8", "retype", "drop", "extra", "version"]))
    if kind == "cut":
        return text[: draw(st.integers(0, len(text) - 1))]
    if kind in ("flip", "not utf-8"):
        changed = bytearray(text)
        for _ in range(draw(st.integers(1, 5))):
            changed[draw(st.integers(0, len(text) - 1))] = (
                0xFF if kind == "not utf-8" else draw(st.integers(0, 255))
            )
        return bytes(changed)
    lines = json.loads(json.dumps(JOURNAL_LINES))
    if kind == "version":
        lines[0][draw(st.sampled_from(["version", "lab", "journal"]))] = draw(WEIRD)
    else:
        path = draw(st.sampled_from(JOURNAL_PATHS))
        parent = lines
        for step in path[:-1]:
            parent = parent[step]
        if kind == "retype":
            parent[path[-1]] = draw(WEIRD)
        elif kind == "drop":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(WEIRD)
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def measured_nothing(runs: Any, run: Any, environment: Any, **kw: Any) -> Any:
    """`lab.reporting.measured` for `--resume` here: the journal's own results, nothing run."""
    return kw["resumed"].doc()


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(damaged_journal())
def test_every_reader_of_a_journal_works_or_says_why_in_one_line(tmp_path_factory: Any, data: bytes) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    bad = folder / f"damaged{JOURNAL.name[JOURNAL.name.index('.') :]}"
    bad.write_bytes(data)
    with mock.patch("lab.reporting.pictures.per_demo", return_value=({}, {}, {}, {})), \
            mock.patch("lab.reporting.measured", side_effect=measured_nothing):  # fmt: skip
        for argv in (["report", "--from", str(bad), "--out", str(folder / "out")],
                     ["compare", str(SOURCES[0]), str(bad)], ["report", "--resume", str(bad)]):  # fmt: skip
            status, err = run(argv)  # a traceback fails the test here, as the exception it is
            # `--resume` measures (here: takes the journal's results as measured), and a report whose
            # runs include a failed one ends with 1, written, as `lab report` does.
            assert status in ((0, 1, 2) if argv[1] == "--resume" else (0, 2)), (argv, status, err)
            lines = [line for line in err.splitlines() if "was cut short" not in line]  # said, then kept
            assert status != 2 or (len(lines) == 1 and lines[0].startswith("lab: error: ")), err
