"""The README and docs/: every relative link resolves, and the README stays a short read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    targets = [t for t in LINK.findall(page.read_text()) if not re.match(r"[a-z]+://", t)]
    missing = [t for t in targets if not (page.parent / t.split("#")[0]).exists()]
    assert not missing, missing


def test_every_docs_page_is_linked_from_the_readme_and_the_index() -> None:
    readme, index = (ROOT / "README.md").read_text(), (ROOT / "docs" / "README.md").read_text()
    for page in PAGES[1:]:
        if page.name != "README.md":
            assert f"docs/{page.name}" in readme and f"({page.name})" in index, page.name


def test_the_readme_answer_is_its_committed_report_s_first_section() -> None:
    # Written once: the README's table is `the_answer` of the report it names, not a copy by hand.
    from lab.render import the_answer  # noqa: PLC0415
    from lab.results import ResultsFile  # noqa: PLC0415

    readme = (ROOT / "README.md").read_text()
    [stem] = re.findall(r"committed \[quick report\]\(reports/([\w-]+)\.md\)", readme)
    doc = ResultsFile.load(ROOT / "reports" / f"{stem}.json")
    assert the_answer(doc, f"reports/{stem}.md") in readme
    assert the_answer(doc) in (ROOT / "reports" / f"{stem}.md").read_text()


def test_ci_runs_the_readme_s_test_commands_and_stops_at_any_failing_step() -> None:
    readme, ci = (ROOT / "README.md").read_text(), (ROOT / ".ci" / "run").read_text()
    block = readme.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line and not line.startswith("#")]
    second, third = commands[1], commands[2]
    assert f"{second} || exit" in ci  # exactly README's command 2: a lint failure ends CI too
    assert f"{third} || exit" in ci


def test_the_smallest_demo_in_the_docs_is_the_test_plug_in_whole() -> None:
    page = (ROOT / "docs" / "plugins.md").read_text()
    source = (ROOT / "tests" / "plugin" / "labsmall.py").read_text()
    assert f"```python\n{source}```" in page
