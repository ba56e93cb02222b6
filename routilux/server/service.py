"""FlowService: what the HTTP API can do, as plain Python over a runtime, its debug sessions
and its store (no HTTP here: the routes only translate)."""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
from typing import Any

from routilux.core.errors import ConfigurationError
from routilux.core.flow import Flow
from routilux.core.job import JobContext, JobStatus
from routilux.debug.breakpoints import Breakpoint
from routilux.debug.session import DebugSession
from routilux.notebook import EngineUnavailable, render
from routilux.runtime import Runtime
from routilux.server.checks import ApiError, as_api_errors, check_str, json_kind, object_body
from routilux.server.events import EventHub
from routilux.server.overlay import live_overlay
from routilux.server.shapes import describe_breakpoint, describe_job, describe_record

__all__ = ["FlowService"]

POST_KEYS = ("routine", "slot", "data", "metadata", "job_id")
BREAKPOINT_KEYS = ("routine", "slot", "event", "when")
FORK_KEYS = ("step",)
CONTROL_EVENTS = frozenset({"paused", "resumed", "stepped", "breakpoints", "edited", "posted"})


class FlowService:
    """Posting, jobs, the store, breakpoints and pause / step / resume for served flows.

    Args:
        runtime: Runs the flows (with a store when jobs are to be checkpointed).
        flows: The flows served, by their ``flow_id``.
        hub: The event hub attached to ``runtime`` (activity for the live diagram).
        max_jobs_kept: Finished jobs remembered for ``GET /api/jobs`` (the oldest go first).
    """

    def __init__(
        self,
        runtime: Runtime,
        flows: dict[str, Flow],
        hub: EventHub,
        *,
        max_jobs_kept: int = 10_000,
    ) -> None:
        self.runtime = runtime
        self.flows = dict(flows)
        self.hub = hub
        self.max_jobs_kept = max_jobs_kept
        self.started_at = time.time()
        self._jobs: collections.OrderedDict[str, JobContext] = collections.OrderedDict()
        self._sessions: dict[str, DebugSession] = {}
        self._lock = threading.Lock()

    # -- flows ---------------------------------------------------------------------------

    def flow(self, name: str) -> Flow:
        """The served flow ``name``; 404 naming the served ones otherwise."""
        flow = self.flows.get(name)
        if flow is None:
            known = ", ".join(repr(n) for n in sorted(self.flows)) or "none"
            raise ApiError(404, f"unknown flow {name!r} (served: {known})")
        return flow

    def describe_flow(self, name: str) -> dict[str, Any]:
        """Flow ``name``: routines with slots and events, connections, entry slots, workers."""
        flow = self.flow(name)
        return {
            "flow_id": name,
            "routines": [
                {
                    "id": rid,
                    "class": type(routine).__name__,
                    "slots": [slot.name for slot in routine.slots],
                    "events": [event.name for event in routine.events],
                }
                for rid, routine in flow.routines.items()
            ],
            "connections": [
                {"from": f"{c.source_id}.{c.event}", "to": f"{c.target_id}.{c.slot}"}
                for c in flow.connections
            ],
            "entry_slots": [f"{r}.{s}" for r, s in flow.entry_slots()],
            "workers": [w.worker_id for w in self.runtime.workers_of(name)],
        }

    def diagram(self, name: str, live: bool) -> str:
        """The flow as SVG; with ``live``, the run state drawn on top (as the widget does)."""
        flow = self.flow(name)
        overlay = live_overlay(flow, self._view(name), self.hub.activity(name), self._bps(name))
        try:
            return render(flow, "svg", overlay if live else None)
        except EngineUnavailable as error:
            raise ApiError(503, str(error)) from None

    # -- posting and jobs ----------------------------------------------------------------

    def post(self, name: str, body: Any) -> JobContext:
        """Post ``{"routine", "slot", "data", "metadata", "job_id"}`` to flow ``name``."""
        flow = self.flow(name)
        body = object_body(body, POST_KEYS, "a post")
        routine, slot = body.get("routine"), body.get("slot")
        if routine is None and slot is None:
            entries = flow.entry_slots()
            if len(entries) != 1:
                listed = ", ".join(f"{r}.{s}" for r, s in entries) or "none"
                raise ApiError(
                    422,
                    f"flow {name!r} has {len(entries)} entry slots ({listed}): "
                    'name one with "routine" and "slot"',
                )
            routine, slot = entries[0]
        check_str(routine, "routine")
        check_str(slot, "slot")
        metadata = body.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise ApiError(422, f'"metadata" must be an object, got {json_kind(metadata)}')
        job_id = body.get("job_id")
        if job_id is not None:
            check_str(job_id, "job_id")
        with as_api_errors():
            flow.get_routine(routine).get_slot(slot)  # named before anything is queued
            _, job = self.runtime.post(
                flow, routine, slot, body.get("data"), metadata=metadata, job_id=job_id
            )
        self._remember(job)
        return job

    def _remember(self, job: JobContext) -> None:
        with self._lock:
            self._jobs[job.job_id] = job
            while len(self._jobs) > self.max_jobs_kept:
                self._jobs.popitem(last=False)

    def jobs(self, flow: str | None = None, status: str | None = None) -> list[JobContext]:
        """Jobs posted here (the latest ``max_jobs_kept``) and every unfinished one."""
        if flow is not None:
            self.flow(flow)
        statuses = [str(member) for member in JobStatus]
        if status is not None and status not in statuses:
            raise ApiError(422, f"unknown status {status!r} (one of: {', '.join(statuses)})")
        with self._lock:
            known = dict(self._jobs)
        for worker in self.runtime.workers:
            for job in worker.jobs:
                known.setdefault(job.job_id, job)
        return [
            job
            for job in known.values()
            if (flow is None or job.flow_name == flow)
            and (status is None or str(job.status) == status)
        ]

    def job(self, job_id: str) -> JobContext:
        """Job ``job_id``, if posted here or still unfinished (404 otherwise)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            job = next((j for j in self.jobs() if j.job_id == job_id), None)
        if job is None:
            raise ApiError(404, f"unknown job {job_id!r} (not posted here, or long finished)")
        return job

    def cancel(self, job_id: str) -> JobContext:
        """Cancel an unfinished job (409 if it already finished)."""
        job = self.job(job_id)
        if job.status.finished:  # its end may still be on its way to the store
            raise ApiError(409, f"job {job_id} is already {job.status}")
        with as_api_errors():
            self.runtime.cancel(job)
        return job

    # -- the store -------------------------------------------------------------------------

    def _store(self) -> Any:
        store = self.runtime.store
        if store is None:
            raise ApiError(409, "this server has no store: start it with --store FILE")
        return store

    def store_jobs(self, unfinished: bool) -> list[dict[str, Any]]:
        """The store's job rows, oldest first (409 without a store)."""
        with as_api_errors():
            return [dataclasses.asdict(r) for r in self._store().jobs(unfinished=unfinished)]

    def store_job(self, job_id: str) -> dict[str, Any]:
        """A stored job: its row, its history of steps and its data points."""
        store = self._store()
        try:
            row = store.job(job_id)
        except ConfigurationError as error:
            raise ApiError(404, str(error)) from None
        with as_api_errors():
            return {
                "job": dataclasses.asdict(row),
                "history": [dataclasses.asdict(step) for step in store.history(job_id)],
                "items": [dataclasses.asdict(item) for item in store.items(job_id)],
            }

    def fork(self, job_id: str, body: Any) -> JobContext:
        """Start a new job from the state ``job_id`` had after ``{"step": k}``."""
        body = object_body(body, FORK_KEYS, "a fork")
        step = body.get("step")
        if not isinstance(step, int) or isinstance(step, bool) or step < 0:
            raise ApiError(422, f'"step" must be an integer >= 0, got {step!r}')
        store = self._store()
        try:
            store.job(job_id)
        except ConfigurationError as error:
            raise ApiError(404, str(error)) from None
        with as_api_errors():
            job = self.runtime.fork(job_id, step, flows=self.flows)
        self._remember(job)
        return job

    # -- debugging ---------------------------------------------------------------------------

    def session(self, name: str) -> DebugSession:
        """The debug session on flow ``name``'s worker (opened on first use)."""
        flow = self.flow(name)
        with self._lock:
            session = self._sessions.get(name)
            worker = self.runtime.worker_for(flow)
            if session is None or session.worker is not worker:
                session = self.runtime.debug(flow)
                session.add_listener(self._control_listener(name))
                self._sessions[name] = session
            return session

    def _control_listener(self, name: str) -> Any:
        hub = self.hub

        def listener(what: str, session: DebugSession) -> None:
            if what in CONTROL_EVENTS:
                held = session.worker.held
                hub.publish(
                    {
                        "type": what,
                        "flow": name,
                        "worker_id": session.worker.worker_id,
                        "paused": session.is_paused,
                        "held": held[0].routine_id if held else None,
                    }
                )

        return listener

    def _bps(self, name: str) -> list[Breakpoint]:
        with self._lock:
            session = self._sessions.get(name)
        return session.breakpoints if session is not None else []

    def breakpoints(self, name: str) -> list[Breakpoint]:
        """Flow ``name``'s breakpoints (none before its debug session opens)."""
        self.flow(name)
        return self._bps(name)

    def add_breakpoint(self, name: str, body: Any) -> Breakpoint:
        """Add ``{"routine", "slot", "event", "when"}`` as a breakpoint."""
        body = object_body(body, BREAKPOINT_KEYS, "a breakpoint")
        routine = body.get("routine")
        check_str(routine, "routine")
        for key in ("slot", "event"):
            if body.get(key) is not None:
                check_str(body[key], key)
        when = body.get("when", "before")
        session = self.session(name)
        with as_api_errors():
            return session.add_breakpoint(
                routine, slot=body.get("slot"), event=body.get("event"), when=when
            )

    def remove_breakpoint(self, name: str, bp_id: int) -> None:
        """Remove breakpoint ``bp_id`` (404 if the flow has none by that id)."""
        session = self.session(name)
        try:
            session.remove_breakpoint(bp_id)
        except ConfigurationError as error:
            raise ApiError(404, str(error)) from None

    def pause(self, name: str) -> dict[str, Any]:
        """Pause flow ``name``'s worker; returns its view."""
        self.session(name).pause()
        return self.worker_view(name)

    def resume(self, name: str) -> dict[str, Any]:
        """Continue flow ``name``'s worker (parked activations first); returns its view."""
        self.session(name).resume()
        return self.worker_view(name)

    def step(self, name: str) -> dict[str, Any]:
        """Run one activation (pausing first); its view, with ``stepped`` the record or None."""
        session = self.session(name)
        with as_api_errors():
            record = session.step(timeout=10)
        if record is not None:
            self.hub.note_stepped(name, record)
        view = self.worker_view(name)
        view["stepped"] = describe_record(record) if record is not None else None
        return view

    # -- views ------------------------------------------------------------------------------

    def _view(self, name: str) -> Any:
        return self.runtime.worker_for(self.flow(name)).inspect(max_items=20)

    def worker_view(self, name: str) -> dict[str, Any]:
        """Flow ``name``'s worker, read at one instant: held, queues, jobs, counters."""
        view = self._view(name)
        return {
            "worker_id": view.worker_id,
            "flow": view.flow_name,
            "status": str(view.status),
            "paused": view.paused,
            "running": view.running,
            "held": [describe_record(record) for record in view.held],
            "queues": {
                rid: {
                    slot: {"length": q.length, "items": [item.data for item in q.items]}
                    for slot, q in slots.items()
                }
                for rid, slots in view.queues.items()
            },
            "jobs": [describe_job(job) for job in view.jobs],
            "stats": {
                rid: {"activations": s.activations, "failures": s.failures}
                for rid, s in view.stats.items()
            },
            "breakpoints": [describe_breakpoint(bp) for bp in self._bps(name)],
        }

    def workers(self) -> list[dict[str, Any]]:
        """Every worker of the runtime, with its flow and status."""
        return [
            {
                "worker_id": w.worker_id,
                "flow": w.flow_name,
                "status": str(w.state.status),
                "paused": w.is_paused,
            }
            for w in self.runtime.workers
        ]

    def health(self) -> dict[str, Any]:
        """Engine and store checks; ``ok`` is False when one fails."""
        workers = self.runtime.workers
        engine = {
            "ok": True,
            "workers": len(workers),
            "unfinished_jobs": sum(len(w.jobs) for w in workers),
            "uptime_seconds": round(time.time() - self.started_at, 3),
        }
        store_check: dict[str, Any] = {"ok": True, "configured": False}
        store = self.runtime.store
        if store is not None:
            store_check = {"ok": True, "configured": True, "path": str(store.path)}
            started = time.perf_counter()
            try:
                store.job_key("")  # one indexed read: the file opens and answers
            except Exception as error:  # any failure of the store is what health reports
                store_check.update(ok=False, error=f"{type(error).__name__}: {error}")
            store_check["latency_seconds"] = round(time.perf_counter() - started, 6)
        return {"ok": engine["ok"] and store_check["ok"], "engine": engine, "store": store_check}
