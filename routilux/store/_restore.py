"""Rebuilding a job in a fresh worker from stored rows (shared by resume and fork)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routilux.core.engine import Engine
from routilux.core.errors import ConfigurationError
from routilux.core.flow import Flow
from routilux.core.job import JobContext
from routilux.core.queue import QueuedItem
from routilux.core.state import WorkerState
from routilux.core.worker import Worker
from routilux.store._state import decode_key
from routilux.store.codec import decode
from routilux.store.records import JobRow
from routilux.store.sqlite import SqliteStore

__all__ = [
    "adopt_decoded",
    "adopt_rows",
    "apply_state",
    "decode_rows",
    "flow_for",
    "start_worker",
    "stored_state",
]

StoredState = tuple[dict[str, dict[str, Any]], dict[Any, Any], list[Any]]
"""Routine states, ``shared_data`` and ``shared_log`` of a worker, as stored."""


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


def stored_state(store: SqliteStore, flow_name: str, upto: int | None = None) -> StoredState:
    """The worker state of ``flow_name`` that the store holds (up to state write ``upto``).

    Args:
        store: The store.
        flow_name: The flow whose worker state to rebuild.
        upto: The last state write to include (see ``SqliteStore.state_cut``); None: all.

    Returns:
        ``(routine_states, shared_data, shared_log)``.
    """
    values, log = store.flow_state(flow_name, upto)
    where = f"worker state of flow {flow_name!r}"
    routines: dict[str, dict[str, Any]] = {}
    shared: dict[Any, Any] = {}
    items: list[Any] = []
    for name, (_, text) in sorted(values.items(), key=lambda kv: kv[1][0]):
        kind, key = decode_key(name)
        if kind == "routine":
            if text is not None:
                routines[key] = decode(text, f"{where}, routine {key!r}")
        elif kind == "data":
            if text is not None:
                shared[key] = decode(text, f"{where}, shared_data[{key!r}]")
        elif text is not None:
            items = list(decode(text, f"{where}, shared_log"))
    items.extend(decode(text, f"{where}, shared_log") for text in log)
    return routines, shared, items


def apply_state(state: WorkerState, stored: StoredState) -> None:
    """Put a stored worker state into a worker's state (without recording it again)."""
    routines, shared, log = stored
    state.restore(routine_states=routines, shared_data=shared, shared_log=log)


def start_worker(runtime: Engine, flow: Flow, stored: StoredState, *, paused: bool) -> Worker:
    """A new worker for ``flow`` holding the stored worker state."""
    worker = runtime.start_worker(flow)
    routines, shared, log = stored
    apply_state(
        worker.state,
        ({rid: s for rid, s in routines.items() if rid in worker.nodes}, shared, log),
    )
    if paused:
        worker.pause()
    return worker


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
    adopt_decoded(worker, job, decode_rows(rows), keep_ids=keep_ids)


def adopt_decoded(
    worker: Worker,
    job: JobContext,
    queued: list[tuple[int, str, str, Any]],
    *,
    keep_ids: bool = True,
) -> None:
    """:func:`adopt_rows` for rows already decoded (see :func:`decode_rows`)."""
    worker.adopt(
        job,
        [
            (routine_id, slot, QueuedItem(data, job, uid=item_id if keep_ids else None))
            for item_id, routine_id, slot, data in queued
        ],
    )


def decode_rows(rows: list[tuple[int, str, str, str]]) -> list[tuple[int, str, str, Any]]:
    """Stored queued data, decoded (raises SerializationError on a corrupt row)."""
    return [
        (item_id, routine_id, slot, decode(data, f"data queued in {routine_id}.{slot}"))
        for item_id, routine_id, slot, data in rows
    ]
