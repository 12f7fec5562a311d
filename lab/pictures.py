"""What every picture shares: matplotlib as an optional dependency, atomic files, one per demo."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lab.results import Result

PLOT_HINT = "matplotlib is not installed (pip install 'lab[plot]')"
Draw = Callable[[Sequence[Any], Path, str], "str | None"]  # draws records; None, or why not


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (no screen needed), or None when not installed."""
    if importlib.util.find_spec("matplotlib") is None:
        return None
    import matplotlib  # noqa: PLC0415  (optional dependency)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


def save(plt: Any, fig: Any, path: Path) -> None:
    """Lay a finished figure out, write it as a PNG (no software stamp: the same records give the
    same bytes), and free it."""
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def draw_atomically(draw: Draw, results: Sequence[Any], path: Path, title: str) -> str | None:
    """`draw` into a temporary file, then renamed over `path`; None, or why nothing was drawn."""
    partial = path.with_name(f".{path.name}.tmp.png")
    try:
        why = draw(results, partial, title)
        if why is None:
            partial.replace(path)
        return why
    finally:
        partial.unlink(missing_ok=True)


def per_demo(
    out: Path, name: str, results: Sequence[Result], draw: Draw, title: Callable[[list[Result]], str]
) -> dict[str, dict[str, str]]:
    """One picture per demo in `results`, as `out/<name>-<demo>.png`: {demo: {"file": ...} or
    {"skipped": why}}, which the report keeps and links (`markdown`)."""
    drawn: dict[str, dict[str, str]] = {}
    for demo in dict.fromkeys(r.demo for r in results):
        group = [r for r in results if r.demo == demo]
        file = f"{name}-{demo}.png"
        why = draw_atomically(draw, group, out / file, title(group))
        drawn[demo] = {"skipped": why} if why else {"file": file}
    return drawn


def markdown(demo: str, drawn: dict[str, dict[str, str]], alt: str, noun: str) -> str:
    """The report's link to a demo's picture (`![<demo> <alt>](file)`), or why there is none."""
    picture = drawn.get(demo, {})
    if "file" in picture:
        return f"![{demo} {alt}]({picture['file']})"
    return f"_{noun} skipped: {picture.get('skipped', 'not drawn')}._"
