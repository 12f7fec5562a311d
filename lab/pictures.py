"""What every picture shares: matplotlib as an optional dependency, atomic files, one per demo."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.measure.environment import usable_cores
from lab.results import Result
from lab.signals import die_with_parent

PLOT_HINT = "matplotlib is not installed (pip install 'concurrency-lab[plot]')"
Draw = Callable[[Sequence[Any], Path, str], "str | None"]  # draws records; None, or why not


def pyplot_missing() -> bool:
    """Whether matplotlib is not installed (without importing it)."""
    return importlib.util.find_spec("matplotlib") is None


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (no screen needed), or None when not installed."""
    if pyplot_missing():
        return None
    import matplotlib  # noqa: PLC0415  (optional dependency)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


def save(plt: Any, fig: Any, path: Path) -> None:
    """Lay a finished figure out, write it as a PNG (no software stamp: the same records give the
    same bytes), and free it."""
    if fig.get_layout_engine() is None:  # a figure laid out as it was made (constrained) keeps it
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


@dataclass(frozen=True)
class Picture:
    """One picture to draw: `draw(results, path, title)`, into `path` atomically."""

    draw: Draw
    results: Sequence[Any]
    path: Path
    title: str

    def __call__(self) -> str | None:
        """Draw it: None, or why it was not drawn."""
        return draw_atomically(self.draw, self.results, self.path, self.title)


def draw_all(pictures: Sequence[Picture]) -> list[str | None]:
    """Draw every picture: None, or why it was not drawn, for each in order.

    A picture is a second or so of matplotlib in one thread, so with several of them and a core
    to spare they are drawn in child processes, one per usable core: a report's nine pictures
    take about half as long on two cores. The pool is left (its children joined) before this
    returns, whatever happened."""
    workers = min(len(pictures), usable_cores())
    if workers < 2 or pyplot_missing():
        return [picture() for picture in pictures]
    with ProcessPoolExecutor(workers, initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
        return list(pool.map(Picture.__call__, pictures))


def per_demo(
    out: Path, sets: Sequence[tuple[str, Sequence[Result], Draw, Callable[[list[Result]], str]]]
) -> list[dict[str, dict[str, str]]]:
    """For each set (name, results, draw, title), one picture per demo in its results, as
    `out/<name>-<demo>.png`: {demo: {"file": ...} or {"skipped": why}}, which the report keeps and
    links (`markdown`). Every set's pictures are drawn together (`draw_all`)."""
    planned: list[tuple[int, str, Picture]] = []
    for index, (name, results, draw, title) in enumerate(sets):
        for demo in dict.fromkeys(r.demo for r in results):
            group = [r for r in results if r.demo == demo]
            planned.append((index, demo, Picture(draw, group, out / f"{name}-{demo}.png", title(group))))
    drawn: list[dict[str, dict[str, str]]] = [{} for _ in sets]
    whys = draw_all([picture for _, _, picture in planned])
    for (index, demo, picture), why in zip(planned, whys, strict=True):
        drawn[index][demo] = {"skipped": why} if why else {"file": picture.path.name}
    return drawn


def markdown(demo: str, drawn: dict[str, dict[str, str]], alt: str, noun: str) -> str:
    """The report's link to a demo's picture (`![<demo> <alt>](file)`), or why there is none."""
    picture = drawn.get(demo, {})
    if "file" in picture:
        return f"![{demo} {alt}]({picture['file']})"
    return f"_{noun} skipped: {picture.get('skipped', 'not drawn')}._"
