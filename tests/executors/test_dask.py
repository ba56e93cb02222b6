"""Routines on a Dask cluster: workers that die, errors that travel, the job the logic sees.

One LocalCluster (2 worker processes, 4 threads and one "GPU" each) serves the module; routines
reach it with ``set_executor("dask://<its address>")``. Its scheduler gives up on a task
after two worker deaths (``allowed-failures`` 1), so that ``KilledWorker`` comes quickly.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from routilux import (
    ErrorHandler,
    ErrorStrategy,
    Flow,
    JobStatus,
    RemoteOptions,
    Routine,
    Runtime,
)
from routilux.core.context import get_current_job, get_current_job_id
from tests.flows import Collect

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

from routilux.executors.dask import DaskExecutor  # noqa: E402  (needs routilux[dask])


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A LocalCluster of 2 worker processes; ``"dask://host:port"`` reaches it."""
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 1}),
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=4,
            resources={"GPU": 1},
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # a free port: never a clash
        ) as local,
    ):
        yield local


def address_of(cluster: Any) -> str:
    return "dask://" + cluster.scheduler_address.removeprefix("tcp://")


def wait_for_both_workers(cluster: Any) -> None:
    """After a test killed workers: the next tests need both back (their nannies restart
    them), e.g. to find a scattered routine on each."""
    cluster.wait_for_workers(2, timeout=120)


class KillsItsWorker(Routine):
    """SIGKILLs the process it runs in: the first time only, or always (``config always``).

    A marker file tells a later run that an earlier one died.
    """

    def __init__(self, marker: Path, always: bool = False) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output", ["n"])
        self.set_config(marker=str(marker), always=always)

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        marker = Path(self.get_config("marker"))
        if self.get_config("always") or not marker.exists():
            marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        self.emit("output", n=input[0]["n"])


def test_a_worker_killed_mid_activation_is_run_again_and_recorded_once(
    cluster: Any, tmp_path: Path
) -> None:
    flow = Flow("dask-killed-once")
    dies = KillsItsWorker(tmp_path / "marker")
    dies.set_executor(address_of(cluster))
    flow.add_routine(dies, "dies")
    flow.add_routine(Collect(), "sink")
    flow.connect("dies", "output", "sink", "input")
    with Runtime(thread_pool_size=2, store=str(tmp_path / "jobs.db")) as runtime:
        state, job = runtime.post(flow, "dies", "input", {"n": 5})
        assert job.wait(120)
        assert job.status is JobStatus.COMPLETED
        assert (tmp_path / "marker").exists()  # a worker did die in it
        assert state.shared_log == [{"n": 5}]
        store = runtime.store
        assert store is not None
        history = store.history(job.job_id)
    # Dask ran it again on the other worker; the driver committed the one result it got.
    assert [(a.routine_id, a.attempts, a.emitted) for a in history] == [
        ("dies", 1, [["output", {"n": 5}]]),
        ("sink", 1, []),
    ]
    wait_for_both_workers(cluster)


def test_killed_worker_reaches_the_error_strategy_with_its_cause(
    cluster: Any, tmp_path: Path
) -> None:
    flow = Flow("dask-killed-always")
    dies = KillsItsWorker(tmp_path / "marker", always=True)
    dies.set_executor(address_of(cluster))
    # Each attempt is a new Dask task, which Dask gives up on after two worker deaths.
    dies.set_error_handler(ErrorHandler(ErrorStrategy.RETRY, max_retries=1, retry_delay=0))
    flow.add_routine(dies, "dies")
    with Runtime(thread_pool_size=2) as runtime:
        _, job = runtime.post(flow, "dies", "input", {"n": 1})
        assert job.wait(180)
    assert job.status is JobStatus.FAILED
    cause = job.error.__cause__ if job.error is not None else None
    assert isinstance(cause, distributed.KilledWorker)
    wait_for_both_workers(cluster)


class Raises(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        look_up(input[0]["n"])


def look_up(n: int) -> None:
    raise KeyError(f"no entry {n}")


def test_a_remote_exception_keeps_its_type_and_its_traceback_names_the_user_s_file(
    cluster: Any,
) -> None:
    class Local(Raises):
        """Defined in a function: cloudpickle ships it by value, code and all."""

    for routine in (Raises(), Local()):
        flow = Flow(f"dask-raises-{type(routine).__name__}")
        routine.set_executor(address_of(cluster))
        flow.add_routine(routine, "raises")
        with Runtime(thread_pool_size=2) as runtime:
            _, job = runtime.post(flow, "raises", "input", {"n": 3})
            assert job.wait(60)
        cause = job.error.__cause__ if job.error is not None else None
        assert isinstance(cause, KeyError)
        remote_traceback = "\n".join(getattr(cause, "__notes__", []))
        assert f'File "{__file__}"' in remote_traceback
        assert "in look_up" in remote_traceback
        assert "<dynamic-code>" not in remote_traceback


class ReportsItsJob(Routine):
    """Emits what get_current_job() says, and leaves a note in the job's data."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output", ["job_id", "same_id", "user"])

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        job = get_current_job()
        assert job is not None
        job.set_data("seen_by", input[0]["where"])
        self.emit(
            "output",
            job_id=job.job_id,
            same_id=get_current_job_id() == job.job_id,
            user=job.get_data("user"),
        )


@pytest.mark.parametrize("where", ["processes", "dask"])
def test_remote_logic_sees_its_job_and_its_data(where: str, request: pytest.FixtureRequest) -> None:
    if where == "processes":
        executor = "processes"
    else:
        executor = address_of(request.getfixturevalue("cluster"))
    flow = Flow(f"job-in-{where}")
    reports = ReportsItsJob()
    reports.set_executor(executor)
    flow.add_routine(reports, "reports")
    flow.add_routine(Collect(), "sink")
    flow.connect("reports", "output", "sink", "input")
    with Runtime(thread_pool_size=2) as runtime:
        state, job = runtime.post(
            flow, "reports", "input", {"where": where}, metadata={"user": "ada"}
        )
        assert job.wait(60)
        assert job.status is JobStatus.COMPLETED
    assert state.shared_log == [{"job_id": job.job_id, "same_id": True, "user": "ada"}]
    # What the logic stored with set_data was replayed into the driver's job.
    assert job.get_data("seen_by") == where
    assert get_current_job() is None


class Big(Routine):
    """Carries a large table: pickled, it is well above the scatter threshold."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output", ["n"])
        self.table = bytes(range(256)) * 2048  # 512 KiB

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        self.emit("output", n=self.table[input[0]["n"]])


def test_a_large_routine_is_put_on_every_worker_once_and_again_when_it_changes(
    cluster: Any,
) -> None:
    flow = Flow("dask-big")
    big = Big()
    big.set_executor(address_of(cluster))
    flow.add_routine(big, "big")
    flow.add_routine(Collect(), "sink")
    flow.connect("big", "output", "sink", "input")
    with (
        distributed.Client(cluster, set_as_default=False) as client,
        Runtime(thread_pool_size=2) as runtime,
    ):
        state = runtime.exec(flow)
        jobs = [runtime.post(flow, "big", "input", {"n": n})[1] for n in range(6)]
        for job in jobs:
            assert job.wait(60)
            assert job.status is JobStatus.COMPLETED
        assert sorted(point["n"] for point in state.shared_log) == list(range(6))
        # Besides the activations' tasks (named for the routine), one piece of data is on
        # the cluster, on both workers: the routine, scattered once.
        held = {
            key: workers
            for key, workers in client.who_has().items()
            if not str(key).startswith("big-")
        }
        assert len(held) == 1
        [workers] = held.values()
        assert len(workers) == 2
        # Changed and started again: the new routine is scattered, and used.
        big.table = bytes(reversed(range(256))) * 2048
        state = runtime.exec(flow)
        _, job = runtime.post(flow, "big", "input", {"n": 0})
        assert job.wait(60)
        assert state.shared_log == [{"n": 255}]
        scattered = [key for key in client.who_has() if not str(key).startswith("big-")]
        assert len(scattered) == 2


class Meets(Routine):
    """Waits until ``config count`` activations have all started (files in a folder)."""

    def __init__(self, folder: Path, count: int) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output", ["n"])
        self.set_config(folder=str(folder), count=count)

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        folder = Path(self.get_config("folder"))
        n = input[0]["n"]
        (folder / str(n)).touch()
        deadline = time.monotonic() + 60
        while len(list(folder.iterdir())) < self.get_config("count"):
            if time.monotonic() > deadline:
                raise TimeoutError("the other activations never started alongside this one")
            time.sleep(0.01)
        print(f"met {n}")
        self.emit("output", n=n)


def test_remote_activations_in_flight_are_not_bounded_by_the_runtime_s_threads(
    cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flow = Flow("dask-meets")
    meets = Meets(tmp_path, count=6)
    meets.set_executor(address_of(cluster))
    flow.add_routine(meets, "meets")
    flow.add_routine(Collect(), "sink")
    flow.connect("meets", "output", "sink", "input")
    # One runtime thread: it hands each activation over and moves on, so all six run at
    # once on the cluster's eight threads (and their emits, made side by side in one
    # worker's threads, stay apart, as does what they print).
    with Runtime(thread_pool_size=1) as runtime:
        state = runtime.exec(flow)
        jobs = [runtime.post(flow, "meets", "input", {"n": n})[1] for n in range(6)]
        for job in jobs:
            assert job.wait(90)
        assert [job.status for job in jobs] == [JobStatus.COMPLETED] * 6
    assert sorted(point["n"] for point in state.shared_log) == list(range(6))
    assert sorted(capsys.readouterr().out.splitlines()) == [f"met {n}" for n in range(6)]


class AsksForItsResources(Routine):
    """Emits the worker resources its own Dask task was given."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output", ["resources"])

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        worker = distributed.get_worker()
        task = worker.state.tasks[worker.get_current_task()]
        self.emit("output", resources=dict(task.resource_restrictions or {}))


def test_resources_in_a_routine_s_options_are_asked_of_dask(cluster: Any) -> None:
    flow = Flow("dask-resources")
    asks = AsksForItsResources()
    asks.set_remote(RemoteOptions(executor=address_of(cluster), resources={"GPU": 1}))
    flow.add_routine(asks, "asks")
    flow.add_routine(Collect(), "sink")
    flow.connect("asks", "output", "sink", "input")
    with Runtime(thread_pool_size=2) as runtime:
        state, job = runtime.post(flow, "asks", "input", {})
        assert job.wait(60)
        assert job.status is JobStatus.COMPLETED
    assert state.shared_log == [{"resources": {"GPU": 1}}]


class Repeats(Routine):
    """Emits ``text`` repeated ``times`` times: a small result, or a large one."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output", ["text"])

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        self.emit("output", text=input[0]["text"] * input[0]["times"])


def repeat_flow(name: str, options: RemoteOptions | bool) -> Flow:
    flow = Flow(name)
    repeats = Repeats()
    repeats.set_remote(options)
    flow.add_routine(repeats, "repeats")
    flow.add_routine(Collect(), "sink")
    flow.connect("repeats", "output", "sink", "input")
    return flow


def run_small_and_large(runtime: Runtime, flow: Flow) -> list[int]:
    """Lengths of the texts of two jobs: one result pushed back, one gathered (too large)."""
    state = runtime.exec(flow)
    jobs = [
        runtime.post(flow, "repeats", "input", {"text": "ab", "times": times})[1]
        for times in (3, 100_000)
    ]
    for job in jobs:
        assert job.wait(60)
        assert job.status is JobStatus.COMPLETED, job.error
    return sorted(len(point["text"]) for point in state.shared_log)


def test_small_and_large_results_come_back_from_a_cluster_at_an_address(cluster: Any) -> None:
    flow = repeat_flow("dask-sizes", RemoteOptions(executor=address_of(cluster)))
    with Runtime(thread_pool_size=2) as runtime:
        assert run_small_and_large(runtime, flow) == [6, 200_000]


def test_a_runtime_given_a_dask_executor_runs_remote_routines_on_its_local_cluster() -> None:
    flow = repeat_flow("dask-default", True)
    executor = DaskExecutor(n_workers=1, threads_per_worker=2)
    with Runtime(thread_pool_size=2, executor=executor) as runtime:
        assert run_small_and_large(runtime, flow) == [6, 200_000]


@pytest.mark.parametrize(
    ("settings", "error", "match"),
    [
        ({"n_workers": 0}, ValueError, r"n_workers=\.\.\.\) must be >= 1, got 0"),
        ({"threads_per_worker": "4"}, TypeError, r"threads_per_worker=\.\.\.\) must be an int"),
        ({"n_workers": True}, TypeError, "must be an int, got bool"),
        (
            {"address": "sched:8786", "n_workers": 2},
            ValueError,
            "with an address the cluster is yours to size",
        ),
        ({"scatter_above": 1.5}, TypeError, "scatter_above"),
    ],
)
def test_dask_executor_settings_are_checked(
    settings: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        DaskExecutor(**settings)
    with pytest.raises(TypeError, match="workers"):
        DaskExecutor(workers=2)  # type: ignore[call-arg]


class EmitsALock(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output", ["lock"])

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        self.emit("output", lock=threading.Lock())


def test_data_that_cannot_travel_fails_the_job_naming_the_routine_never_hangs(
    cluster: Any,
) -> None:
    flow = Flow("dask-unpicklable")
    emits = EmitsALock()
    emits.set_executor(address_of(cluster))
    flow.add_routine(emits, "emits")
    flow.add_routine(Collect(), "sink")
    flow.connect("emits", "output", "sink", "input")
    with Runtime(thread_pool_size=2) as runtime:
        # Going out: an input that cannot be pickled fails in the driver, before Dask.
        _, going = runtime.post(flow, "emits", "input", {"lock": threading.Lock()})
        # Coming back: the logic emitted something that cannot be pickled.
        state, coming = runtime.post(flow, "emits", "input", {})
        assert going.wait(60)
        assert coming.wait(60)
    for job in (going, coming):
        assert job.status is JobStatus.FAILED
        assert "'emits'" in str(job.error)
        assert "pickle" in str(job.error.__cause__ if job.error is not None else None)
    assert state.shared_log == []
