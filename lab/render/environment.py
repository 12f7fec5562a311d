"""The environment section: where the numbers come from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lab.render.common import table
from lab.render.network import ceiling_text


def environment_table(
    environment: dict[str, Any],
    skipped: Sequence[dict[str, Any]],
    ceiling: Mapping[str, Any] | None = None,
    noise: str | None = None,
) -> str:
    """Where the numbers come from (and, `noise`, the run's noise floor and how it decides)."""
    env = dict(environment)
    packages = env.pop("packages", {})
    rows = [(k.replace("_", " "), ", ".join(v) if isinstance(v, list) else v) for k, v in env.items()]
    rows.append(("packages", ", ".join(f"{k} {v}" for k, v in packages.items())))
    if ceiling:
        rows.append(("http server ceiling", ceiling_text(ceiling)))
    if noise:
        rows.append(("noise floor and verdicts", noise))
    rows += [(f"skipped: {x['variant']}" + (f" x{x['workers']}" if "workers" in x else ""), x["reason"])
             for x in skipped]  # fmt: skip
    return table(rows, ["", ""])
