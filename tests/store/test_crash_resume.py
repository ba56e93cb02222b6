"""A job killed with SIGKILL at random moments resumes with nothing lost and nothing repeated."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from tests.store.conftest import postgres_spec
from tests.store.crash_check import (
    COUNTER_ITEMS,
    crash_and_resume,
    crash_and_resume_counter,
    reference,
)

KILLS = 20
SEED = 20240601  # each kill's delay comes from Random(SEED + i): failures reproduce


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> tuple[set[str], tuple[list[Any], Any]]:
    return reference(tmp_path_factory.mktemp("reference"))


@pytest.mark.parametrize("kill", range(KILLS))
def test_a_killed_job_resumes_without_lost_or_repeated_activations(
    kill: int, tmp_path: Path, expected: tuple[set[str], tuple[list[Any], Any]]
) -> None:
    audit = crash_and_resume(tmp_path, random.Random(SEED + kill), expected)

    assert audit.lost == []
    assert audit.duplicated == []
    assert audit.completed_run_again == []
    assert not audit.outputs_differ
    assert audit.status == "completed"


@pytest.mark.parametrize("kill", range(KILLS // 2))
def test_a_killed_job_with_async_logic_resumes_exactly_once(
    kill: int, tmp_path: Path, expected: tuple[set[str], tuple[list[Any], Any]]
) -> None:
    audit = crash_and_resume(
        tmp_path, random.Random(SEED + 500 + kill), expected, asynchronous=True
    )

    assert audit.lost == []
    assert audit.duplicated == []
    assert audit.completed_run_again == []
    assert not audit.outputs_differ
    assert audit.status == "completed"


@pytest.mark.parametrize("kill", range(KILLS // 4))
def test_a_killed_job_with_a_remote_routine_resumes_exactly_once(
    kill: int, tmp_path: Path, expected: tuple[set[str], tuple[list[Any], Any]]
) -> None:
    # The driver is killed while a pool process may be running the remote routine: what it
    # returns after that never reaches the file, and the resume runs it again.
    audit = crash_and_resume(tmp_path, random.Random(SEED + 700 + kill), expected, remote=True)

    assert audit.lost == []
    assert audit.duplicated == []
    assert audit.completed_run_again == []
    assert not audit.outputs_differ
    assert audit.status == "completed"


def test_the_reference_run_records_every_activation_once(
    expected: tuple[set[str], tuple[list[Any], Any]],
) -> None:
    keys, (results, sink_state) = expected
    assert len(keys) == 4 * 40 + 1
    assert len(results) == 80
    assert sink_state is not None
    assert len(sink_state["seen"]) == 80


@pytest.mark.parametrize("kill", range(KILLS))
def test_worker_state_updated_by_overlapping_activations_is_exact_after_a_kill(
    kill: int, tmp_path: Path
) -> None:
    audit = crash_and_resume_counter(tmp_path, random.Random(SEED + 1000 + kill))

    assert audit.status == "completed"
    assert sorted(audit.items) == list(range(COUNTER_ITEMS))  # none counted twice or lost
    assert audit.count == COUNTER_ITEMS
    assert sorted(audit.shared_log) == list(range(COUNTER_ITEMS))
    assert audit.shared_keys == COUNTER_ITEMS
    assert audit.stored_equal


@pytest.mark.parametrize("kill", range(5))
def test_worker_state_in_postgres_is_exact_after_a_kill(kill: int, tmp_path: Path) -> None:
    for url in postgres_spec():
        audit = crash_and_resume_counter(tmp_path, random.Random(SEED + 2000 + kill), url)
        assert audit.ok, audit
