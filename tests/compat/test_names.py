"""Upstream names import from where upstream code imports them; aliases warn."""

from __future__ import annotations

import importlib
import io
import re
import sys
from typing import Any

import pytest

import routilux
import routilux.activation_policies
from routilux import (
    ActivationRecord,
    Flow,
    FlowRegistry,
    Routine,
    Runtime,
    WorkerStatus,
    clear_job_output,
    get_current_job_id,
    get_current_worker_state,
    get_job_output,
    install_routed_stdout,
    uninstall_routed_stdout,
)
from routilux.compat import DEPRECATED, MODULE_PATHS, ExecutionStatus


@pytest.mark.parametrize("module", sorted(MODULE_PATHS))
def test_every_upstream_module_path_gives_its_names(module: str) -> None:
    imported = importlib.import_module(module)
    for name in MODULE_PATHS[module]:
        value = getattr(imported, name)
        if hasattr(routilux, name) and name not in DEPRECATED:
            assert value is getattr(routilux, name), f"{module}.{name} is a second copy"


def test_top_level_policies_are_the_ones_of_activation_policies() -> None:
    for name in MODULE_PATHS["routilux.activation_policies"]:
        assert getattr(routilux, name) is getattr(routilux.activation_policies, name)


@pytest.mark.parametrize("name", sorted(DEPRECATED))
def test_deprecated_names_warn_naming_the_preferred_one(name: str) -> None:
    preferred = DEPRECATED[name][2]
    message = re.escape(f"routilux.{name} is deprecated; use {preferred}")
    with pytest.warns(DeprecationWarning, match=message):
        value = getattr(routilux, name)
    assert value is not None


def test_execution_record_is_the_activation_record() -> None:
    with pytest.warns(DeprecationWarning, match="use ActivationRecord"):
        from routilux import ExecutionRecord
    assert ExecutionRecord is ActivationRecord


def test_get_flow_registry_is_the_process_wide_registry() -> None:
    with pytest.warns(DeprecationWarning, match=r"FlowRegistry.get_instance\(\)"):
        get_flow_registry = routilux.get_flow_registry
    assert get_flow_registry() is FlowRegistry.get_instance()


def test_upstream_statuses_compare_equal_to_ours() -> None:
    assert WorkerStatus.RUNNING == ExecutionStatus.RUNNING
    assert routilux.JobStatus.COMPLETED == ExecutionStatus.COMPLETED


def test_unknown_top_level_names_are_still_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        routilux.Nope  # noqa: B018


class Talker(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")

    def logic(self, inp: list[Any], *, worker_state: Any, **_: Any) -> None:
        assert get_current_worker_state() is worker_state
        print(f"job {get_current_job_id()} says {inp[0]['word']}")


def test_job_output_can_be_read_incrementally_and_cleared() -> None:
    flow = Flow("talk")
    flow.add_routine(Talker(), "talker")
    original = sys.stdout
    sys.stdout = io.StringIO()
    routed = install_routed_stdout()
    try:
        assert isinstance(routed, routilux.RoutedStdout)
        with Runtime(thread_pool_size=1) as runtime:
            runtime.exec(flow)
            _, job = runtime.post(flow, "talker", "inp", {"word": "one"}, job_id="j1")
            assert job.wait(timeout=10)
            assert get_job_output("j1", incremental=True) == "job j1 says one\n"
            assert get_job_output("j1", incremental=True) == ""
        assert get_job_output("j1") == "job j1 says one\n"
        clear_job_output("j1")
        assert get_job_output("j1") == ""
        assert get_current_job_id() is None
    finally:
        uninstall_routed_stdout()
        sys.stdout = original


class Marker(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")
        self.add_event("out")

    def logic(self, inp: list[Any], **_: Any) -> None:
        job = routilux.get_current_job()
        assert job is not None
        job.set_data("seen", job.get_data("seen", 0) + 1)
        if inp[0].get("again"):
            self.emit("out")


def test_job_data_set_in_one_routine_is_read_in_the_next() -> None:
    flow = Flow("marks")
    flow.add_routine(Marker(), "first")
    flow.add_routine(Marker(), "second")
    flow.connect("first", "out", "second", "inp")
    with Runtime(thread_pool_size=1) as runtime:
        _, job = runtime.post(flow, "first", "inp", {"again": True})
        assert job.wait(timeout=10)
    assert job.get_data("seen") == 2
    assert job.get_data("missing", "default") == "default"
