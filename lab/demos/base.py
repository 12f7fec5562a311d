"""What a demo is (`Demo`), its sizes at each report scale (`AtScale`), and the helpers demos share.

A demo says which parameters it takes (with their defaults; the parameters themselves are
declared in `lab.params`), turns them into the `Work` a model runs, and judges what came back:
the ideal time, the expected counter (for http-get: the requests sent, against the responses
verified), whether outputs are right, and its metrics; and, for each report scale, the sizes it
runs at there; and which of the report's views read its records (`answers`, `section`, `roles`,
`timeline_caption`), each view a rule over records in `lab.render`. What differs per demo is a
field of the demo, never an `if` on its name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from lab.http.clients import Target
from lab.models.base import NETWORK_TASKS, Measured, Model, TaskName, Work
from lab.params import PARAMS, Param

Params = Mapping[str, Any]
Chooses = Callable[[type[Model]], bool]  # which models join a study


def no_ideal(params: Params) -> float | None:
    """A demo whose time has no ideal to compare with."""
    return None


def no_count(params: Params) -> int | None:
    """A demo with no counter to check."""
    return None


def counter_observed(measured: Measured) -> int | None:
    """What the shared counter ended at."""
    return measured.counter


def no_metrics(params: Params, measured: Measured) -> dict[str, Any] | None:
    """A demo with no figures of its own."""
    return None


def no_data(params: Params) -> bytes | None:
    """A demo with no payload shared by every task (its items carry what they need)."""
    return None


def work_in_words(params: Params) -> str:
    """What one run of the built-in kinds of work did, in words: `8 tasks x sleep(0.05)`,
    `4 tasks x 500000 rounds`, or `100 requests x latency 0.005 s, 100 bytes`."""
    if "requests" in params:
        return f"{params['requests']} requests x latency {params['latency']:g} s, {params['size']} bytes"
    work = f"{params['rounds']} rounds" if "rounds" in params else f"sleep({params.get('sleep', 0):g})"
    return f"{params.get('tasks', '?')} tasks x {work}"


def one_per_task(params: Params) -> int:
    """Workers by default: one per task."""
    return max(1, int(params["tasks"]))


def every(model: type[Model]) -> bool:
    """Every model."""
    return True


def cheap(model: type[Model]) -> bool:
    """The models cheap enough for every study (no cluster to start per run)."""
    return model.cheap


def cheap_and_sync(model: type[Model]) -> bool:
    """Cheap models that run plain functions: where computing shows the GIL (or its absence)."""
    return model.cheap and not model.asynchronous


# The rules that decide a row of the answer table (`lab.render.answer.RULES`, which orders the
# rows): "fastest at most workers" (each variant's time at the most workers it ran: a few waits
# at once), "requests in flight" (the same, at the most in flight two models reached, the sweep's
# rows too), "computing" (the times at the most workers, with speedups over one worker and cores
# busy), "shared state" (lost updates without a lock and with one: the racy counter's row reads
# the locked counter's too), "waiting and computing" (the time, then the caller's heartbeat),
# "passing messages" (the variants at the first row's exact parameters, each with its msg/s),
# "big data" (at the largest payload with work, each variant with each `via`, and its moving alone).
AnswerRule = Literal["fastest at most workers", "requests in flight", "computing", "shared state",
                     "waiting and computing", "passing messages", "big data",
                     "stopping on time"]  # fmt: skip

# What else of the report reads a demo's records (each a rule in `lab.render`):
# "speed" (a finding: the fastest at the most workers, and each speedup), "waiting workers" (its
# workers wait: memory and start-up per worker, a cluster's cost per task, the interpreters' cost
# per task), "racy counter" and "locked counter" (lost updates, in findings and across Pythons;
# `lab races` races the first racy one), "computing" (the GIL's finding, the interpreters'
# speedups), "article" (the article's own figures beside it: its pool map with "waiting workers",
# its counters with "racy counter" and "locked counter"), "real python" (Real Python's 160 pages).
Role = Literal["speed", "waiting workers", "racy counter", "locked counter", "computing", "article",
               "real python"]  # fmt: skip


@dataclass(frozen=True)
class AnswerRow:
    """A row of the answer table: the rule that decides it, the job in words, and for a demo with
    several kinds of work the one it judges (`kernel`: cpu-bound's "hashlib" is the job
    `cpu-bound (hashlib)`)."""

    rule: AnswerRule
    what: str
    kernel: str | None = None


@dataclass(frozen=True)
class Section:
    """A report section of the demo's own, after the race statistics (in demo rank order): which
    of `lab.render`'s section bodies it is (`kind`) and its title (the demo's name follows it)."""

    kind: Literal["network", "heartbeat", "sizes", "messages", "stops"]
    title: str


@dataclass(frozen=True)
class Races:
    """Race statistics (`lab.studies.races`): the demo over many trials, at which sizes, yield
    points and models."""

    increments: tuple[int, ...]
    trials: int
    models: Chooses
    yield_points: tuple[str, ...] = ("sleep0",)
    all_variants: bool = False  # every variant (loops, start methods), or each model's default
    workers: int = 5


@dataclass(frozen=True)
class AtScale:
    """A demo's sizes at one report scale (`lab.studies.scales`). Which models join a study is a
    rule over what models declare (`Model.cheap`, `.asynchronous`), never a list of names, so that
    a plug-in model joins the studies its kind joins.

    `rows`: one parameter set per row of the main tables (the demo's defaults: one row of `{}`);
    `sweep`: the parameters and worker counts of its worker sweep, and `sweep_models` which models
    it runs; `timelines`: parameter sets of one recorded trial each, in `timeline_models`;
    `races`: race statistics; `noise`: the A/A pair's run (`lab.studies.suite.noise_runs`), its
    parameters and which models; `costly`: what a costly model (`Model.cheap` False: a cluster
    per run) runs instead of each row here (smaller sizes), or why it does not run it here."""

    rows: Sequence[Params] = ({},)
    sweep: tuple[Params, tuple[int, ...]] | None = None
    sweep_models: Chooses = every
    timelines: Sequence[Params] = ()
    timeline_models: Chooses = cheap
    races: Races | None = None
    noise: tuple[Params, Chooses] | None = None
    costly: Params | str = field(default_factory=dict)


def in_a_thread(function: Callable[[Any], Any]) -> Callable[[Any], Awaitable[Any]]:
    """A function as a coroutine function that runs it in a thread (a demo with no coroutine twin)."""

    async def twin(item: Any) -> Any:
        return await asyncio.to_thread(function, item)

    return twin


@dataclass(frozen=True)
class Demo:
    """One demo: its name, what it teaches, its parameters and how to build and judge its work.

    `defaults`: every parameter it takes, with its default; each is declared in `params` (its own)
    or in `lab.params.PARAMS` (those several demos share), which `param` looks up in that order.
        `ideal`: the time a perfect pool would take; `expected` and `observed`: the counter's right
        and final values (None: the demo counts nothing); `metrics`: its own figures; `outputs_ok`:
        whether every output came back right, in input order; `scales`: its sizes at each report
        scale (a scale it does not name runs it at its defaults); `rank`: where it stands in lists
        and reports (the built-ins: 10 to 70)."""

    name: str
    description: str
    defaults: Mapping[str, Any]
    task: TaskName | None  # None: runs in the calling thread, in no model (serial-counter)
    items: Callable[[Params], tuple[Any, ...]] = field(repr=False)
    locked: bool = False
    ideal: Callable[[Params], float | None] = field(default=no_ideal, repr=False)
    expected: Callable[[Params], int | None] = field(default=no_count, repr=False)
    observed_by: Callable[[Measured], int | None] = field(default=counter_observed, repr=False)
    metrics: Callable[[Params, Measured], dict[str, Any] | None] = field(default=no_metrics, repr=False)
    outputs_right: Callable[[Demo, Params, Measured], bool] | None = field(default=None, repr=False)
    heartbeat: bool = False  # measure the caller's responsiveness while the work runs
    # Its own figures that `lab run` prints beside the time: (metric key, label, unit), the unit
    # "ms" (a value in seconds), "%" (a share) or "" (a number).
    headline: tuple[tuple[str, str, str], ...] = ()
    scales: Mapping[str, AtScale] = field(default_factory=dict, repr=False)
    rank: int = 100
    # A worker sweep's point at `workers` workers (the sweep's own parameters, `workers` set).
    sweep_point: Callable[[Params, int], dict[str, Any]] = field(default=lambda p, w: {**p, "workers": w},
                                                                 repr=False)  # fmt: skip
    computes: bool = False  # its work is CPU work: a sweep's speedup chart marks the cores here
    ceiling: bool = False  # its requests/s are compared with the server's ceiling (`lab.studies.ceiling`)
    answers: tuple[AnswerRow, ...] = ()  # its rows of the answer table (none by default)
    section: Section | None = None  # a section of its own (the time and counter tables show every demo)
    roles: frozenset[Role] = frozenset()  # the other views that read its records
    timeline_caption: str = ""  # the words under its timeline pictures
    # What each item is, by its index, for the timeline's bars (None: the bars say their CPU share alone).
    item_names: Callable[[Params], Sequence[str]] | None = None
    # Work of its own (task "call", as `lab bench` runs a function): `function` applied to each
    # item in every model, and for the models that run coroutines (asyncio) its coroutine twin;
    # without a twin they run `function` in a thread (`asyncio.to_thread`).
    function: Callable[..., Any] | None = field(default=None, repr=False)
    async_function: Callable[..., Awaitable[Any]] | None = field(default=None, repr=False)
    params: tuple[Param, ...] = ()  # its own parameters, beside the shared ones (`lab.params.PARAMS`)
    # Its `function` takes the model's own primitives as well, `function(item, kit)`: the run's
    # queue, lock, shared integer and sleep (`lab.models.base.Kit`; asyncio's `AsyncKit`, which
    # `async_function` takes: a demo with a kit gives one).
    kit: bool = False
    # Its work passes messages on the kit's queue (a model's choice of queue, `Option.needs`, applies).
    queued: bool = False
    # How many workers it runs on when `workers` is not given.
    default_workers: Callable[[Params], int] = field(default=one_per_task, repr=False)
    # What one run did, in words (a sweep's heading and chart title).
    in_words: Callable[[Params], str] = field(default=work_in_words, repr=False)
    # The run's one payload, built by the caller and placed once where every worker reads it
    # (`Kit.data`, each model by its own means; a demo with `data` takes a kit).
    data: Callable[[Params], bytes | None] = field(default=no_data, repr=False)
    # The bytes a run of these parameters holds at its peak in a model (None: too few to check):
    # more than the machine has free is refused before anything is allocated (`lab.runner.plan`).
    memory: Callable[[Params, type[Model]], int] | None = field(default=None, repr=False)
    # The parameter that says when its work must stop (`Work.deadline`: each model stops it by its
    # own means, `Workers.halt`, and its options named by `Option.needs` "stop" choose how); None:
    # its work runs to its end.
    deadline: str | None = None
    # Whether a run of these parameters sends requests to the lab's HTTP server (a network task's
    # always does): the runner starts one, and its URL is the `server` parameter `items` sees.
    served: Callable[[Params], bool] = field(default=lambda p: False, repr=False)

    def param(self, name: str) -> Param:
        """The declaration of its parameter `name`: its own, else the shared one (KeyError: neither)."""
        own = {param.name: param for param in self.params}
        return own[name] if name in own else PARAMS[name]

    def undeclared(self) -> str | None:
        """Why its parameters are not well declared (a default with no declaration, or an own
        parameter that takes a shared one's name), or None."""
        own = {param.name: param for param in self.params}
        # A shared parameter redeclared with its kind, for this demo's own bounds and help (transfer's
        # `size`: a payload in memory, not the server's response), is this demo's; another kind clashes.
        if clash := sorted(
            name for name in own.keys() & PARAMS.keys() if own[name].kind != PARAMS[name].kind
        ):
            return (
                f"declares its own {', '.join(clash)}, a parameter lab.params.PARAMS declares as another kind"
            )
        if missing := [key for key in self.defaults if key not in own and key not in PARAMS]:
            return f"takes {', '.join(missing)} but declares none of them (Demo.params)"
        if self.data is not no_data and not self.kit:
            return "gives a payload (Demo.data) but takes no kit (Demo.kit), through which a task reads it"
        if self.kit and (self.function is None or self.async_function is None):
            return (
                "takes a kit (Demo.kit) but lacks a function or its coroutine twin (asyncio's kit is awaited)"
            )
        return None

    def at(self, scale: str) -> AtScale:
        """Its sizes at the scale called `scale` (its defaults where it names none there)."""
        return self.scales.get(scale, AtScale())

    def headline_of(self, metrics: Mapping[str, Any] | None) -> str:
        """The `headline` figures of one result's metrics, e.g. `beat worst 155.3 ms · blocked 88%`."""
        shown = []
        for key, label, unit in self.headline:
            value = (metrics or {}).get(key)
            if isinstance(value, int | float):
                number = (
                    f"{value * 1000:.1f} ms"
                    if unit == "ms"
                    else f"{value:.0%}"
                    if unit == "%"
                    else f"{value:g}"
                )
                shown.append(f"{label} {number}")
        return " · ".join(shown)

    def uses(self, primitive: str) -> bool:
        """Whether its work uses the kit's `primitive` ("lock", "queue", "stop": it has a
        deadline): where a model's option
        that changes it (`Option.needs`) applies."""
        return {"lock": self.locked, "queue": self.queued, "stop": self.deadline is not None}.get(
            primitive, False
        )

    def needs_server(self, params: Params) -> bool:
        """Whether a run of these parameters needs the lab's HTTP server (`served`)."""
        return self.task in NETWORK_TASKS or self.served(params)

    @property
    def counts(self) -> bool:
        """Whether the demo's result is a count to check (observed against expected)."""
        return self.expected is not no_count

    def work(
        self,
        params: Params,
        timeout: float,
        fault: Any,
        chunksize: int | None,
        url: str | None = None,
        *,
        asynchronous: bool = False,
    ) -> Work:
        """The work a model runs for these (validated, complete) parameters; `url`: the server's;
        `asynchronous`: the model runs coroutine functions (`Model.asynchronous`)."""
        assert self.task is not None
        target = (
            Target(url, params["latency"], params["size"]) if url and self.task in NETWORK_TASKS else None
        )
        # A demo of its own work that the server serves (`served`) finds the server's URL in its items.
        items, function = self.items({**params, "server": url} if url else params), None
        if self.function is not None:  # `call` takes (index, item) pairs, as `lab bench` hands them
            items, function = tuple(enumerate(items)), self.function
            if asynchronous:
                function = self.async_function or in_a_thread(self.function)
        return Work(
            task=self.task,
            items=items,
            function=function,
            workers=params["workers"],
            sleep=params.get("sleep", 0.0),
            locked=self.locked,
            timeout=timeout,
            chunksize=chunksize,
            fault=fault,
            target=target,
            yield_point=params.get("yield_point", "sleep0"),
            heartbeat=self.heartbeat,
            kit=self.kit,
            data=self.data(params),
            deadline=None if self.deadline is None else float(params[self.deadline]),
        )

    def ideal_s(self, params: Params) -> float | None:
        """The time a perfect pool would take (None where there is no such ideal)."""
        return self.ideal(params)

    def observed(self, measured: Measured) -> int | None:
        """What the counter ended at (http-get: the responses verified)."""
        return self.observed_by(measured) if self.counts else None

    def outputs_ok(self, params: Params, measured: Measured) -> bool:
        """Whether every task's output came back, in input order (a demo with a `function` of its
        own: each the function's value for its item, computed here, after the clock)."""
        if self.outputs_right is not None:
            return self.outputs_right(self, params, measured)
        if self.function is not None:
            return list(measured.outputs) == [self.function(item) for item in self.items(params)]
        return len(measured.outputs) == len(self.items(params))
