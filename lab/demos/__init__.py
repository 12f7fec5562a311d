"""The demos: what a demo is (`base`), and one module per built-in demo, each registered under
the entry point group `lab.demos` in the lab's own `pyproject.toml`, exactly as a third party's
would be (`lab.plugins`):

    [project.entry-points."lab.demos"]
    pool-map = "lab.demos.pool_map:DEMO"

`DEMOS` maps each name to its `Demo`, in rank order; a plug-in that fails to load is in `BROKEN`
with one line saying why. The built-ins: `pool_map`, `serial_counter`, `racy_counter`,
`locked_counter` (the article's four), `cpu_bound`, `http_get`, `mixed`, `pipeline` and `transfer`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lab.demos.base import AnswerRow, AtScale, Demo, Races, Role, Section, work_in_words
from lab.params import PARAMS, Param
from lab.plugins import Registry

GROUP = "lab.demos"


def not_a_demo(found: Any) -> str | None:
    """Why a loaded object is not a demo (None: it is one)."""
    if not isinstance(found, Demo):
        return f"is not a lab.demos.Demo: {found!r}"
    return found.undeclared()


DEMOS: Registry[Demo] = Registry(GROUP, "demo", not_a_demo, lambda demo: demo.rank)
BROKEN = DEMOS.broken


def describe(demo: str, params: Mapping[str, Any]) -> str:
    """What one run of `demo` did, in its own words (`Demo.in_words`; a demo not installed
    here, read from a file: the built-in kinds' words)."""
    return (DEMOS[demo].in_words if demo in DEMOS else work_in_words)(params)


def having(role: Role) -> list[str]:
    """The demos that declare `role` (`Demo.roles`), in rank order: what a view of it reads."""
    return [name for name, demo in DEMOS.items() if role in demo.roles]


def parameters() -> dict[str, Param]:
    """Every parameter a demo takes: the shared ones (`lab.params.PARAMS`), then each demo's own
    (`Demo.params`), in rank order; where two demos declare one name, the first's declaration is
    the command line's flag (each demo still checks its value by its own)."""
    found = dict(PARAMS)
    for demo in DEMOS.values():
        for param in demo.params:
            found.setdefault(param.name, param)
    return found


__all__ = [
    "BROKEN",
    "DEMOS",
    "AnswerRow",
    "AtScale",
    "Demo",
    "Races",
    "Role",
    "Section",
    "describe",
    "having",
    "parameters",
]
