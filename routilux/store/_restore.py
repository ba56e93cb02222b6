"""Rebuilding a job in a fresh worker from stored rows (shared by resume and fork)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from routilux.core.engine import Engine
from routilux.core.errors import ConfigurationError
from routilux.core.flow import Flow
from routilux.core.job import JobContext
from routilux.core.queue import QueuedItem
from routilux.core.worker import Worker
from routilux.store._json import decode
from routilux.store.records import JobRow

__all__ = ["adopt_rows", "flow_for", "latest_states", "start_worker"]


def flow_for(runtime: Engine, row: JobRow, flows: Mapping[str, Flow] | None) -> Flow:
    """The flow to run ``row``'s job in: from ``flows`` if given there, else the registry."""
    if flows and row.flow_name in flows:
        return flows[row.flow_name]
    if row.flow_name not in runtime.registry:
        raise ConfigurationError(
            f"job {row.job_id} runs flow {row.flow_name!r}, which is not registered; register "
            "it (FlowRegistry) or pass flows={name: flow}"
        )
    return runtime.registry.get_by_name(row.flow_name)


def start_worker(
    runtime: Engine, flow: Flow, states: Mapping[str, tuple[int, str]], *, paused: bool
) -> Worker:
    """A new worker for ``flow`` with the given routine states (``{rid: (_, json)}``)."""
    worker = runtime.start_worker(flow)
    for routine_id, (_, state) in states.items():
        if routine_id in worker.nodes:
            worker.state.set_routine_state(routine_id, decode(state, f"{routine_id} state"))
    if paused:
        worker.pause()
    return worker


def latest_states(
    per_job: Iterable[Mapping[str, tuple[int, str]]],
) -> dict[str, tuple[int, str]]:
    """Merge ``{routine_id: (act_id, state)}`` of several jobs: the latest act_id wins.

    >>> latest_states([{"a": (3, "x"), "b": (0, "y")}, {"a": (7, "z")}])
    {'a': (7, 'z'), 'b': (0, 'y')}
    """
    merged: dict[str, tuple[int, str]] = {}
    for states in per_job:
        for routine_id, (act_id, state) in states.items():
            if routine_id not in merged or act_id > merged[routine_id][0]:
                merged[routine_id] = (act_id, state)
    return merged


def adopt_rows(
    worker: Worker,
    job: JobContext,
    rows: list[tuple[int, str, str, str]],
    *,
    keep_ids: bool,
) -> None:
    """Hand ``job`` to ``worker`` with the stored queued data ``rows`` waiting in its slots.

    With ``keep_ids`` the items keep their stored ids as ``uid`` (resume: the store knows
    them); without, they get new ones and are recorded as the job's own data (fork).
    """
    queued = [
        (
            routine_id,
            slot,
            QueuedItem(
                decode(data, f"data queued in {routine_id}.{slot}"),
                job,
                uid=item_id if keep_ids else None,
            ),
        )
        for item_id, routine_id, slot, data in rows
    ]
    worker.adopt(job, queued)
