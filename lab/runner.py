"""Running demos: `run` (one trial) and `run_trials` (several), after validating everything.

Every parameter is checked before anything starts; a bad one raises a `LabError` subclass whose
message names the bad value and the valid ones. A task that fails, times out or loses its worker
does not raise: the `Result` records it in `error`, so a caller running several models goes on.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Mapping
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from typing import Any

from lab.demos import DEMOS, Demo
from lab.errors import InvalidParameter, Unavailable, UnknownName, in_one_line
from lab.http.clients import load
from lab.http.server import KEEPER, raise_open_files
from lab.measure.memory import MemorySampler, available_bytes
from lab.models import MODELS, Model
from lab.models.base import FAULTS, NETWORK_TASKS, Fault, Measured, Option, Work, now
from lab.params import check_int, check_seconds
from lab.results import Result

SERIAL = "serial"  # the `model` of serial-counter's results: it runs in no model
COMMON = ("timeout", "fault", "timeline")  # parameters every concurrent demo takes
BASE_TIMEOUT_S = 60.0  # the default timeout: this plus ten times the ideal time
SPARE_FILES = 64  # open files a process needs besides its connections (the interpreter, pipes, ...)


@dataclass(frozen=True)
class Plan:
    """A validated request: the demo, the model (None for serial-counter), its options, params."""

    demo: Demo
    model: type[Model] | None
    options: Mapping[str, str]
    params: Mapping[str, Any]
    timeout: float
    fault: Fault | None
    timeline: bool = False


def choose(what: str, name: str, valid: Mapping[str, Any] | tuple[str, ...]) -> str:
    """`name` if it is one of `valid`, or UnknownName listing them."""
    if name not in valid:
        raise UnknownName(what, name, valid)
    return name


def plan(demo_name: str, model_name: str, **given: Any) -> Plan:
    """Validate a request in full, before anything runs."""
    demo = DEMOS.find(demo_name)  # UnknownName, or Unavailable for a broken plug-in
    if model_name != SERIAL:
        MODELS.get_model(model_name)  # UnknownName, or Unavailable for a broken plug-in
    if demo.task is None:
        model = None  # serial-counter runs in the calling thread, whatever the model asked
    elif model_name == SERIAL:
        raise InvalidParameter(f"demo {demo.name!r} runs in a model: {', '.join(MODELS)}")
    else:
        model = MODELS[model_name]
    declared = model.options_for(demo.task, demo.uses) if model else ()
    takes = (*demo.defaults, *(COMMON if model else ()), *(option.name for option in declared))
    for key in given:
        if key not in takes:
            raise InvalidParameter(
                f"parameter {key!r} does not apply to {demo.name}"
                + (f" in model {model.name}" if model else "")
                + f"; it takes: {', '.join(takes)}"
            )
    options = chosen_options(model, declared, given)
    params = validate_params(demo, model, given)
    if demo.memory is not None and model is not None:
        refuse_beyond_memory(demo, model, params)
    if demo.task in NETWORK_TASKS and model is not None and not model.children:
        raise_open_files(params["workers"] + SPARE_FILES)  # one socket per request in flight
    ideal = demo.ideal_s(params) or params.get("sleep", 0.0)
    timeout = given.get("timeout")
    timeout = (
        BASE_TIMEOUT_S + 10 * ideal if timeout is None else check_seconds("timeout", timeout, positive=True)
    )
    fault = given.get("fault")
    if fault is not None:
        choose("fault", fault, FAULTS)
        if fault == "exit" and model is not None and not model.children:
            note = f": {model.exit_note}" if model.exit_note else ""
            raise InvalidParameter(
                f"fault 'exit' kills a worker process; model {model.name!r} has none{note}"
            )
    timeline = given.get("timeline") or False
    if not isinstance(timeline, bool):
        raise InvalidParameter(f"timeline must be True or False, not {timeline!r}")
    return Plan(demo, model, options, params, timeout, fault, timeline)


def refuse_beyond_memory(demo: Demo, model: type[Model], params: Mapping[str, Any]) -> None:
    """InvalidParameter, before anything is allocated, when the run would hold more at its peak
    (`Demo.memory`) than this machine has free."""
    needed, free = demo.memory(params, model) if demo.memory else 0, available_bytes()
    if needed > free:
        shown = ", ".join(f"{key} {value:,}" for key, value in params.items() if isinstance(value, int))
        raise InvalidParameter(
            f"{demo.name} in {model.name} with {shown} would hold about {needed / 1e9:.1f} GB at its peak; "
            f"this machine has {free / 1e9:.1f} GB free: choose a smaller size or fewer tasks"
        )


def chosen_options(
    model: type[Model] | None, declared: tuple[Option, ...], given: Mapping[str, Any]
) -> dict[str, str]:
    """The model's options for this request: each given one checked, the others at their
    defaults; Unavailable when that variant cannot run here."""
    options = {option.name: option.choices[0] for option in declared}  # the defaults, first
    for option in declared:
        if given.get(option.name) is not None:
            options[option.name] = option.check(given[option.name])
    if model and (reason := model.unavailable(options)):
        raise Unavailable(reason)
    return options


def validate_params(demo: Demo, model: type[Model] | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """The demo's parameters: the given ones checked (as the demo declares them), the
    others at their defaults; workers default to one per task, up to the model's limit."""
    p = {key: default if given.get(key) is None else given[key] for key, default in demo.defaults.items()}
    for key, value in p.items():
        if key != "workers" and value is not None:
            p[key] = demo.param(key).check(value)
    if "workers" in p:
        p["workers"] = demo.default_workers(p) if p["workers"] is None else p["workers"]
        p["workers"] = demo.param("workers").check(p["workers"], high=model.max_workers if model else None)
    return p


def run(demo: str, model: str, **params: Any) -> Result:
    """Run one trial of `demo` in `model` and return its `Result`.

    Parameters (each optional, defaults per demo, see `lab.list_demos()`): those the demo takes
    (`Demo.defaults`, declared in `lab.params.PARAMS` or the demo's own `Demo.params`),
    `timeout`, `fault`, `timeline` (record who ran each task, when:
    `Result.timeline`), and the model's own options (`Model.options`, e.g. `loop` for asyncio,
    `start_method` for processes). Raises a `LabError` subclass for a bad parameter or an
    unavailable variant; a task's own failure is recorded in `Result.error`.
    """
    return execute(plan(demo, model, **params), trial=1, warmup=False)


def run_trials(
    demo: str, model: str, trials: int = 1, *, warmup: bool = False, **params: Any
) -> list[Result]:
    """Run `trials` trials of `demo` in `model` (after one uncounted warm-up trial if `warmup`)."""
    trials = check_int("trials", trials, 1)
    request = plan(demo, model, **params)
    with KEEPER.keep():  # http-get's trials share one server
        if warmup:
            execute(request, trial=0, warmup=True)
        return [execute(request, trial=i, warmup=warmup) for i in range(1, trials + 1)]


def execute(request: Plan, trial: int, warmup: bool) -> Result:
    """Run a validated request once and record what happened."""
    demo, params = request.demo, request.params
    timing = {
        "clock": "time.perf_counter",
        "gc": gc.isenabled(),
        "warmup": warmup,
        "recorded": request.timeline,
    }
    memory: dict[str, Any] = {}
    measured, error = measure(request, memory)
    expected = demo.expected(params)
    observed = demo.observed(measured) if measured else None
    metrics = demo.metrics(params, measured) if measured else None
    if metrics and metrics.get("failures") and error is None:
        kinds = ", ".join(f"{what} x{n}" for what, n in metrics["failures"].items())
        error = f"{sum(metrics['failures'].values())} of {expected} requests failed: {kinds}"
    return Result(
        demo=demo.name,
        model=request.model.name if request.model else SERIAL,
        options=request.options,
        params={**params, "timeout": request.timeout, "fault": request.fault} if request.model else params,
        elapsed_s=measured.elapsed_s if measured else None,
        startup_s=measured.startup_s if measured else None,
        ideal_s=demo.ideal_s(params),
        expected=expected,
        observed=observed,
        correct=None if expected is None or observed is None else observed == expected,
        outputs_ok=demo.outputs_ok(params, measured) if measured else None,
        error=error,
        trial=trial,
        timing=timing,
        memory=memory or None,
        metrics=metrics,
        timeline=timeline_records(measured) if measured and measured.spans is not None else None,
        cpu_s=measured.cpu_s if measured else None,
    )


def measure(request: Plan, memory: dict[str, Any]) -> tuple[Measured | None, str | None]:
    """Run the request's work in its model; a failure becomes a one-line error, not an exception.

    `memory` receives the run's memory record (`lab.measure.memory`); the HTTP server, when the lab
    starts one, is not the model's and is left out of it.
    """
    params, workers = request.params, int(request.params.get("workers", 1))
    with KEEPER.keep() as keeper:
        url, server_pid = params.get("server"), None
        if request.demo.task in NETWORK_TASKS:
            load(request.options["client"])  # an import is not memory per worker: load it first
        if request.demo.needs_server(params) and url is None:
            server = keeper.get()
            url, server_pid = server.url, server.pid
        children = request.model is not None and request.model.children
        with MemorySampler(exclude=[server_pid] if server_pid else [], children=children) as sampler:
            measured, error = run_model(request, url)
        memory.update(sampler.summary(workers))
    return measured, error


def run_model(request: Plan, url: str | None) -> tuple[Measured | None, str | None]:
    """The model's run, its failures turned into one line."""
    if request.model is None:
        return count_serially(request.params["increments"], request.params["sleep"]), None
    params = request.params
    work = request.demo.work(params, request.timeout, request.fault, params.get("chunksize"), url,
                             asynchronous=request.model.asynchronous)  # fmt: skip
    return run_work(request.model, request.options, replace(work, record=request.timeline))


def run_work(
    model: type[Model], options: Mapping[str, str], work: Work
) -> tuple[Measured | None, str | None]:
    """`model(**options).run(work)`, its failures turned into one line (a demo's or `lab bench`'s)."""
    try:
        return model(**options).run(work), None
    except TimeoutError as exc:
        said = str(exc)  # a model may say more (dask: where the hung task still runs)
        return None, said if said.startswith(
            "timed out"
        ) else f"timed out after {work.timeout:g} s (see --timeout)"
    except BrokenProcessPool as exc:
        return None, f"a worker process died ({exc})"
    except Exception as exc:  # the task's own failure: recorded, not raised
        return None, in_one_line(exc)  # one line, whatever the library wrote, with its first cause


def count_serially(increments: int, sleep: float) -> Measured:
    """serial-counter: the article's plain loop, in the calling thread, timed like the others."""
    time.sleep(sleep)
    begin = now()
    counter = 0
    for _ in range(increments):
        counter += 1
    return Measured([], counter, now() - begin, 0.0)


def timeline_records(measured: Measured) -> tuple[dict[str, Any], ...]:
    """A recorded run's spans as `Result.timeline` records (`lab.studies.timelines` describes
    them), lanes numbered, times since begin."""
    assert measured.spans is not None
    lanes: dict[str, int] = {}
    # Workers without a slot (threads, processes, or the thread or process asyncio handed work
    # to) get the lanes after the slots, if any.
    after = 1 + max((s[1] for s in measured.spans if s[1] is not None), default=-1)
    out = []
    for worker, slot, item, start, end, cpu in sorted(measured.spans, key=lambda s: s[3]):
        lane = after + lanes.setdefault(worker, len(lanes)) if slot is None else slot
        out.append({
            "lane": lane, "worker": worker, "item": item,
            "start_s": round(start - measured.begin, 7), "end_s": round(end - measured.begin, 7),
            "cpu_s": None if cpu is None else round(cpu, 7),
        })  # fmt: skip
    return tuple(out)
