"""History: retention by count and by age."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from routilux import ConfigurationError, Runtime
from routilux.core.activation import ActivationRecord
from routilux.core.job import JobContext
from routilux.core.worker import Node
from routilux.debug import History
from tests.flows import chain


@pytest.fixture(scope="module")
def node() -> Iterator[Node]:
    """Routine r0 as a worker runs it, for records made by hand."""
    with Runtime(thread_pool_size=1) as runtime:
        state = runtime.exec(chain("history-records", 1))
        yield runtime.get_worker(state.worker_id).nodes["r0"]


def record(node: Node, seq: int, started_at: float) -> ActivationRecord:
    """A finished-looking record."""
    rec = ActivationRecord(seq, node, JobContext("history-records", "w"), {}, [], None)
    rec.started_at = started_at
    return rec


def test_history_keeps_the_newest_records_up_to_max_size(node: Node) -> None:
    history = History(max_size=3)
    for i in range(5):
        history.append(record(node, i, float(i)))
    assert [r.seq for r in history.records()] == [2, 3, 4]


def test_history_drops_records_older_than_the_ttl(node: Node) -> None:
    now: list[float] = [100.0]
    history = History(max_size=10, ttl_seconds=5, clock=lambda: now[0])
    for t in (90.0, 96.0, 99.0):
        history.append(record(node, int(t), t))
    assert [r.seq for r in history.records()] == [96, 99]
    now[0] = 103.5  # horizon 98.5: 96 expires, 99 stays
    assert [r.seq for r in history.records()] == [99]


@pytest.mark.parametrize("kwargs", [{"max_size": 0}, {"ttl_seconds": 0}])
def test_history_rejects_nonsense_limits(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        History(**kwargs)


def test_session_history_respects_its_retention(runtime: Any) -> None:
    flow = chain("hist", 2)
    session = runtime.debug(flow, max_history_size=4)
    for i in range(5):
        runtime.post(flow, "r0", "input", {"n": i})
    assert runtime.wait_until_all_jobs_finished(5)
    assert len(session.history) == 4
    assert [r.seq for r in session.history] == sorted(r.seq for r in session.history)
