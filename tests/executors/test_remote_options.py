"""Opting routines into remote execution (routine, class, flow, runtime default) and the
options that shape it: ``max_inflight`` and ``timeout`` on the process pool."""

from __future__ import annotations

import copy
import json
import os
import pickle
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from routilux import (
    ConfigurationError,
    ErrorHandler,
    ErrorStrategy,
    Flow,
    JobStatus,
    Observer,
    RemoteOptions,
    Routine,
    RoutineFactory,
    Runtime,
    remote,
)
from routilux.core import Engine
from routilux.core.clock import ManualClock
from routilux.executors.processes import ProcessExecutor
from tests.flows import Collect, Relay

# -- routines -------------------------------------------------------------------------------


class Where(Routine):
    """Emits its routine id and the process its logic ran in."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output", ["who", "pid"])

    def logic(self, input: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        self.emit("output", who=self.routine_id, pid=os.getpid())


@remote
class RemoteWhere(Where):
    """Remote in every instance, by its class."""


@remote(RemoteOptions(max_inflight=2, timeout=60))
class TunedWhere(Where):
    """Remote in every instance, with options."""


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    """Wait for something a child process does (a file appearing); fail after 30 s."""
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.002)


class Gated(Routine):
    """Reads a counter from its state, says it started (a file), waits for the test to open
    the gate (another file), then writes the counter + 1."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")

    def logic(self, input: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        point = input[0]
        folder = Path(point["dir"])
        count = worker_state.get_routine_state("gated", {}).get("count", 0)
        (folder / f"started-{point['n']}").touch()
        while not (folder / "gate").exists():
            time.sleep(0.002)
        worker_state.update_routine_state("gated", {"count": count + 1})


class FirstAttemptHangs(Routine):
    """The first attempt (the one that creates the file ``first``) waits for the gate, then
    emits ``late``; any later attempt emits ``prompt`` at once."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output", ["n"])

    def logic(self, input: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        folder = Path(input[0]["dir"])
        try:
            (folder / "first").touch(exist_ok=False)
        except FileExistsError:
            self.emit("output", n="prompt")
            return
        while not (folder / "gate").exists():
            time.sleep(0.002)
        self.emit("output", n="late")


class Seen(Observer):
    """Keeps what logic raised and what it emitted, as the worker saw them."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self.emitted: list[Any] = []

    def error(self, worker: Any, record: Any, exc: BaseException) -> None:
        self.errors.append(exc)

    def event_emitted(self, worker: Any, record: Any, event: str, data: Any) -> None:
        self.emitted.append(data)


class FakeExecutor:
    """A remote executor that only notes what the runtime asks of it."""

    def __init__(self) -> None:
        self.prepared: list[str] = []
        self.closed = False

    def prepare(self, routine: Routine, routine_id: str) -> None:
        self.prepared.append(routine_id)

    def submit(self, scheduler: Any, activation: Any) -> None:
        raise AssertionError("nothing is posted in these tests")

    def close(self, wait: bool = True) -> None:
        self.closed = True


# -- RemoteOptions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "error", "named"),
    [
        ({"executor": "gpu"}, ConfigurationError, "executor"),
        ({"executor": "dask://"}, ConfigurationError, "executor"),
        ({"executor": "threads"}, ConfigurationError, "executor"),
        ({"executor": 3}, TypeError, "executor"),
        ({"max_inflight": 0}, ValueError, "max_inflight"),
        ({"max_inflight": 1.5}, TypeError, "max_inflight"),
        ({"max_inflight": True}, TypeError, "max_inflight"),
        ({"timeout": 0}, ValueError, "timeout"),
        ({"timeout": -1.0}, ValueError, "timeout"),
        ({"timeout": float("inf")}, ValueError, "timeout"),
        ({"timeout": "5"}, TypeError, "timeout"),
        ({"resources": ["GPU"]}, TypeError, "resources"),
        ({"resources": {"GPU": -1}}, ValueError, "resources"),
        ({"resources": {"GPU": "1"}}, TypeError, "resources"),
        ({"resources": {"": 1}}, TypeError, "resources"),
    ],
)
def test_remote_options_refuse_a_bad_field_naming_it(
    fields: dict[str, Any], error: type[Exception], named: str
) -> None:
    with pytest.raises(error, match=named):
        RemoteOptions(**fields)


def test_remote_options_are_immutable_and_survive_pickles_and_copies() -> None:
    given = {"GPU": 1}
    options = RemoteOptions(
        executor="dask://sched:8786", max_inflight=2, timeout=3, resources=given
    )
    given["GPU"] = 5  # the options keep their own copy
    assert options.resources == {"GPU": 1}
    assert options.timeout == 3.0
    with pytest.raises(AttributeError):
        options.timeout = 4  # type: ignore[misc]
    with pytest.raises(TypeError):
        options.resources["GPU"] = 2  # type: ignore[index]
    assert pickle.loads(pickle.dumps(options)) == options
    assert copy.deepcopy(options) == options
    assert hash(options) == hash(RemoteOptions("dask://sched:8786", 2, 3, {"GPU": 1}))
    assert repr(RemoteOptions(timeout=1)) == "RemoteOptions(timeout=1.0)"


# -- opting in --------------------------------------------------------------------------------


def test_set_remote_takes_true_false_none_or_options() -> None:
    routine = Relay()
    assert routine.remote is None
    routine.set_remote(True)
    assert routine.remote == RemoteOptions()
    assert routine.executor is None  # the runtime's
    options = RemoteOptions(executor="processes", timeout=2)
    routine.set_remote(options)
    assert routine.remote is options
    assert routine.executor == "processes"
    routine.set_remote(False)
    assert routine.remote is None
    routine.set_remote(None)
    assert routine.remote is None


@pytest.mark.parametrize("value", ["processes", 1, {"timeout": 2}])
def test_set_remote_refuses_anything_else_naming_the_parameter(value: object) -> None:
    with pytest.raises(TypeError, match="remote must be True, False, None or a RemoteOptions"):
        Relay().set_remote(value)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="remote must be"):
        Flow("f").set_remote(value)  # type: ignore[arg-type]


def test_set_executor_is_shorthand_for_set_remote() -> None:
    flow = Flow("shorthand")
    flow.set_remote(RemoteOptions(executor="dask"))
    routine = Relay()
    flow.add_routine(routine, "r")
    routine.set_executor("processes")
    assert routine.remote == RemoteOptions(executor="processes")
    routine.set_executor("threads")  # local, whatever the flow says
    assert routine.remote is None
    assert routine.executor is None
    routine.set_executor(None)  # no choice of its own: the flow's
    assert routine.executor == "dask"


def test_a_routine_choice_beats_its_class_which_beats_its_flow() -> None:
    flow = Flow("precedence")
    flow.set_remote(RemoteOptions(timeout=9))
    plain, by_class, tuned, own, local = Where(), RemoteWhere(), TunedWhere(), Where(), Where()
    own.set_remote(RemoteOptions(max_inflight=1))
    local.set_remote(False)
    for routine_id, routine in [
        ("plain", plain),
        ("by_class", by_class),
        ("tuned", tuned),
        ("own", own),
        ("local", local),
    ]:
        flow.add_routine(routine, routine_id)
    assert plain.remote == RemoteOptions(timeout=9)
    assert by_class.remote == RemoteOptions()
    assert tuned.remote == RemoteOptions(max_inflight=2, timeout=60)
    assert own.remote == RemoteOptions(max_inflight=1)
    assert local.remote is None
    flow.set_remote(False)
    assert plain.remote is None
    assert by_class.remote == RemoteOptions()


def test_the_remote_decorator_takes_only_routine_classes_and_options() -> None:
    with pytest.raises(TypeError, match="Routine subclasses"):
        remote(dict)
    with pytest.raises(TypeError, match="RemoteOptions"):
        remote("processes")  # type: ignore[call-overload]
    assert remote()(type("Plain", (Where,), {}))().remote == RemoteOptions()


def test_remote_choices_round_trip_through_a_flow_spec() -> None:
    factory = RoutineFactory()
    factory.register(Where)
    factory.register(RemoteWhere)
    flow = Flow("as-data")
    flow.set_remote(RemoteOptions(timeout=5))
    tuned, local = Where(), Where()
    tuned.set_remote(RemoteOptions(executor="dask", max_inflight=1, resources={"GPU": 1}))
    local.set_remote(False)
    flow.add_routine(tuned, "tuned")
    flow.add_routine(local, "local")
    flow.add_routine(Where(), "plain")
    flow.add_routine(RemoteWhere(), "by_class")
    spec = json.loads(json.dumps(flow.to_dict(factory)))
    assert spec["remote"] == {"timeout": 5.0}
    assert spec["routines"]["tuned"]["remote"] == {
        "executor": "dask",
        "max_inflight": 1,
        "resources": {"GPU": 1},
    }
    assert spec["routines"]["local"]["remote"] is False
    assert "remote" not in spec["routines"]["plain"]  # the flow's
    assert "remote" not in spec["routines"]["by_class"]  # its class's
    again = Flow.from_dict(spec, factory)
    assert {rid: r.remote for rid, r in again.routines.items()} == {
        rid: r.remote for rid, r in flow.routines.items()
    }
    assert again.to_dict(factory) == spec


def test_bad_remote_fields_in_a_spec_are_listed_with_their_place() -> None:
    factory = RoutineFactory()
    factory.register(Where)
    spec = {
        "remote": "yes",
        "routines": {
            "a": {"class": "Where", "remote": {"max_inflight": 0}},
            "b": {"class": "Where", "remote": {"timeot": 1}},
        },
    }
    with pytest.raises(ConfigurationError) as caught:
        Flow.from_dict(spec, factory)
    message = str(caught.value)
    assert "remote: must be true, false or a mapping of RemoteOptions fields" in message
    assert "routines.a.remote: max_inflight must be >= 1, got 0" in message
    assert "routines.b.remote: unknown field 'timeot'; did you mean 'timeout'?" in message


# -- the runtime's default --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("executor", "error"), [("gpu", ConfigurationError), (3, TypeError), (object(), TypeError)]
)
def test_the_runtime_refuses_an_unknown_executor_when_it_is_made(
    executor: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match="executor must be"):
        Runtime(executor=executor)  # type: ignore[arg-type]


def test_the_engine_alone_refuses_an_executor_kind_it_cannot_make() -> None:
    with pytest.raises(ConfigurationError, match=r"routilux\.Runtime"):
        Engine(executor="processes")


def remote_flow(name: str) -> Flow:
    flow = Flow(name)
    flow.add_routine(Relay(), "local")
    flow.add_routine(RemoteWhere(), "by_class")
    named = Where()
    named.set_remote(RemoteOptions(executor="processes"))
    flow.add_routine(named, "named")
    own = Where()
    own.set_remote(True)
    flow.add_routine(own, "own")
    return flow


def test_remote_routines_that_name_no_executor_are_refused_without_a_default() -> None:
    flow = remote_flow("no-default")
    with Runtime(thread_pool_size=2) as runtime:
        for start in (runtime.exec, runtime.start_worker):
            with pytest.raises(ConfigurationError, match="no executor: 'by_class', 'own';"):
                start(flow)
        with pytest.raises(ConfigurationError, match="'by_class', 'own'"):
            runtime.post(flow, "local", "input", {"n": 1})
        assert runtime.workers == []


def test_a_default_executor_object_takes_routines_that_name_none_and_closes_with_the_runtime() -> (
    None
):
    fake = FakeExecutor()
    flow = remote_flow("default-object")
    with Runtime(thread_pool_size=2, executor=fake) as runtime:
        runtime.exec(flow)
        assert fake.prepared == ["by_class", "own"]  # "named" went to the process pool
        assert not fake.closed
    assert fake.closed


def test_resources_are_refused_at_exec_on_the_process_pool() -> None:
    flow = Flow("resources")
    where = Where()
    where.set_remote(RemoteOptions(resources={"GPU": 1}))
    flow.add_routine(where, "where")
    match = r"'where' asks for resources \{'GPU': 1\}"
    with (
        Runtime(thread_pool_size=2, executor="processes") as runtime,
        pytest.raises(ConfigurationError, match=match),
    ):
        runtime.exec(flow)


# -- on the process pool ----------------------------------------------------------------------


def test_every_way_of_opting_in_runs_the_logic_in_a_process() -> None:
    flow = Flow("opt-in")
    own, by_flow, local = Where(), Where(), Where()
    own.set_remote(True)
    local.set_remote(False)
    for routine_id, routine in [
        ("own", own),
        ("by_class", RemoteWhere()),
        ("by_flow", by_flow),
        ("local", local),
    ]:
        flow.add_routine(routine, routine_id)
    sink = Collect()
    sink.set_remote(False)
    flow.add_routine(sink, "sink")
    for routine_id in ("own", "by_class", "by_flow", "local"):
        flow.connect(routine_id, "output", "sink", "input")
    flow.set_remote(True)
    with Runtime(thread_pool_size=2, executor="processes") as runtime:
        state = runtime.exec(flow)
        jobs = [
            runtime.post(flow, rid, "input", {})[1]
            for rid in ("own", "by_class", "by_flow", "local")
        ]
        for job in jobs:
            assert job.wait(30)
            assert job.status is JobStatus.COMPLETED
    elsewhere = {point["who"]: point["pid"] != os.getpid() for point in state.shared_log}
    assert elsewhere == {"own": True, "by_class": True, "by_flow": True, "local": False}


@pytest.mark.parametrize(
    ("max_inflight", "started_before_the_gate", "count"),
    [(None, 2, 1), (1, 1, 2)],
    ids=["no-limit-loses-an-update", "max_inflight=1-is-exact"],
)
def test_concurrent_read_modify_writes_of_state_lose_updates_unless_max_inflight_is_one(
    tmp_path: Path, max_inflight: int | None, started_before_the_gate: int, count: int
) -> None:
    flow = Flow(f"gated-{max_inflight}")
    gated = Gated()
    gated.set_remote(RemoteOptions(max_inflight=max_inflight))
    flow.add_routine(gated, "gated")
    with Runtime(thread_pool_size=2, executor=ProcessExecutor(max_workers=2)) as runtime:
        state = runtime.exec(flow)
        jobs = [
            runtime.post(flow, "gated", "input", {"n": n, "dir": str(tmp_path)})[1]
            for n in range(2)
        ]
        try:
            # Without a limit both activations are in the pool, with the same snapshot of
            # the state, before either may finish; with max_inflight=1 the second is sent
            # only once the first one's write is in.
            _wait_until(
                lambda: len(list(tmp_path.glob("started-*"))) >= started_before_the_gate,
                f"{started_before_the_gate} activation(s) to start",
            )
        finally:
            (tmp_path / "gate").touch()
        for job in jobs:
            assert job.wait(30)
            assert job.status is JobStatus.COMPLETED
        assert state.get_routine_state("gated") == {"count": count}


def test_a_timed_out_attempt_fails_with_timeout_error_and_retry_runs_it_its_late_result_dropped(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    executor = ProcessExecutor(max_workers=2)
    flow = Flow("timeout")
    hangs = FirstAttemptHangs()
    hangs.set_remote(RemoteOptions(timeout=5))
    hangs.set_error_handler(ErrorHandler(ErrorStrategy.RETRY, max_retries=1, retry_delay=0))
    flow.add_routine(hangs, "hangs")
    flow.add_routine(Collect(), "sink")
    flow.connect("hangs", "output", "sink", "input")
    seen = Seen()
    runtime = Runtime(thread_pool_size=2, clock=clock, executor=executor)
    try:
        runtime.add_observer(seen)
        state, job = runtime.post(flow, "hangs", "input", {"dir": str(tmp_path)})
        _wait_until((tmp_path / "first").exists, "the first attempt to start")
        clock.advance(5)  # the first attempt's time is up: the retry runs at once
        assert job.wait(30)
        assert job.status is JobStatus.COMPLETED
        assert [point["n"] for point in state.shared_log] == ["prompt"]
        assert [type(error) for error in seen.errors] == [TimeoutError]
        assert "routine 'hangs' did not return within its timeout of 5 s" in str(seen.errors[0])
    finally:
        (tmp_path / "gate").touch()
        # The first attempt returns now; closing the pool waits for its result to be handled.
        executor.close(wait=True)
    assert seen.emitted == [{"n": "prompt"}]
    runtime.shutdown()


def test_a_timed_out_attempt_under_stop_fails_its_job_with_the_timeout_error(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    executor = ProcessExecutor(max_workers=1)
    flow = Flow("timeout-stop")
    hangs = FirstAttemptHangs()
    hangs.set_remote(RemoteOptions(timeout=0.5))
    flow.add_routine(hangs, "hangs")
    runtime = Runtime(thread_pool_size=2, clock=clock, executor=executor)
    try:
        _, job = runtime.post(flow, "hangs", "input", {"dir": str(tmp_path)})
        _wait_until((tmp_path / "first").exists, "the attempt to start")
        clock.advance(0.5)
        assert job.wait(30)
        assert job.status is JobStatus.FAILED
        assert isinstance(job.error.__cause__, TimeoutError)
        assert "timeout of 0.5 s (attempt 1)" in str(job.error.__cause__)
    finally:
        (tmp_path / "gate").touch()
        runtime.shutdown()
