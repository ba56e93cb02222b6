"""DebugSession: breakpoints, pause / step / continue and inspection of one running flow."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from routilux.core.activation import ActivationRecord
from routilux.core.engine import Engine
from routilux.core.errors import ConfigurationError, StateError
from routilux.core.flow import Flow
from routilux.core.hooks import HOLD, Observer
from routilux.core.job import JobContext
from routilux.core.queue import QueuedItem
from routilux.core.worker import Worker
from routilux.debug.breakpoints import Breakpoint, matching
from routilux.debug.history import History
from routilux.debug.snapshot import Snapshot

__all__ = ["DebugSession"]

Listener = Callable[[str, "DebugSession"], None]

PARK_WAIT = 2.0
"""Seconds ``step(stop_at_next=True)`` waits for the next activation to be parked."""


class DebugSession(Observer):
    """Debug the worker that runs ``flow_name`` on ``runtime`` (started if none runs yet).

    Everything here works from plain Python; the notebook widget only drives it.

    Args:
        runtime: The runtime the flow runs on.
        flow_name: A registered flow name, or the Flow itself.
        worker_id: Debug this worker rather than the flow's newest one.
        max_history_size: Activation records kept in :attr:`history`.
        history_ttl_seconds: Drop records older than this (None keeps them by count only).

    Example::

        session = runtime.debug("pipeline")
        session.add_breakpoint("processor")
        runtime.post("pipeline", "source", "trigger", {"data": 1})
        snap = session.wait_until_paused(timeout=5)   # parked before "processor"
        record = session.step()                        # runs exactly that activation
        session.resume()
    """

    def __init__(
        self,
        runtime: Engine,
        flow_name: str | Flow,
        *,
        worker_id: str | None = None,
        max_history_size: int = 1000,
        history_ttl_seconds: float | None = None,
    ) -> None:
        self.runtime = runtime
        self.worker: Worker = runtime.worker_for(flow_name, worker_id)
        self.flow_name = self.worker.flow_name
        self.history_store = History(max_history_size, history_ttl_seconds)
        self.condition_errors: list[tuple[Breakpoint, BaseException]] = []
        self.listener_errors: list[BaseException] = []
        # The breakpoint that made the current pause (None once resumed).
        self.last_hit: Breakpoint | None = None
        self._breakpoints: list[Breakpoint] = []
        self._listeners: list[Listener] = []
        # Guards every rewrite of _breakpoints and the ownership records below; readers
        # iterate the current list, which is replaced, never changed in place.
        self._lock = threading.Lock()
        # What this session did to the shared worker, so detach() undoes only that: the
        # activations its breakpoints parked (by record seq) and whether it paused it.
        self._holds: set[int] = set()
        self._paused_it = False
        # Set by step(stop_at_next=True): park whatever activation the worker picks next.
        self._stop_next = False
        self._attached = False
        self.attach()

    def __repr__(self) -> str:
        state = "paused" if self.is_paused else "running"
        return f"<DebugSession {self.worker.worker_id} {state}, {len(self._breakpoints)} bps>"

    def __enter__(self) -> DebugSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.detach()

    def attach(self) -> None:
        """Start observing the worker (done on creation)."""
        if not self._attached:
            self.worker.add_observer(self)
            self._attached = True

    def detach(self) -> None:
        """Stop observing, forget this session's breakpoints and release its own pause.

        Several sessions may debug one worker. Detaching one resumes the worker only when
        this session paused it (a breakpoint hit, :meth:`pause` or :meth:`step`) and no
        activation another session parked is waiting; otherwise the worker stays paused
        for that session, and this session's parked activations run when it continues.
        """
        if self._attached:
            self.worker.remove_observer(self)
            self._attached = False
        with self._lock:
            self._breakpoints = []
            self._stop_next = False
            mine, self._holds = self._holds, set()
            paused_it, self._paused_it = self._paused_it, False
        held_by_others = [r for r in self.worker.held if r.seq not in mine]
        if paused_it and not held_by_others:
            self.worker.resume()

    # -- breakpoints ---------------------------------------------------------------------

    def add_breakpoint(
        self,
        routine_id: str,
        *,
        slot: str | None = None,
        event: str | None = None,
        when: str = "before",
        condition: Callable[..., Any] | None = None,
    ) -> Breakpoint:
        """Pause before (or ``when="after"``) ``routine_id`` runs, when its ``slot`` receives
        data, or when it emits ``event``.

        ``condition`` gets the data point (slot and event breakpoints) or the inputs per slot
        as a dict (routine breakpoints), plus the WorkerState if it takes two arguments. A
        condition that raises is recorded in :attr:`condition_errors` and does not match.
        """
        routine = self.worker.flow.get_routine(routine_id)
        if slot is not None and event is not None:
            raise ConfigurationError("a breakpoint takes a slot or an event, not both")
        if slot is not None:
            routine.get_slot(slot)
            kind = "slot"
        elif event is not None:
            routine.get_event(event)
            kind = "event"
        elif when in ("before", "after"):
            kind = when
        else:
            raise ConfigurationError(f"when must be 'before' or 'after', got {when!r}")
        bp = Breakpoint(routine_id, kind, slot, event, condition)  # type: ignore[arg-type]
        with self._lock:
            if not self._attached:
                raise StateError("this debug session is detached; attach() it first")
            self._breakpoints = [*self._breakpoints, bp]
        self._breakpoints_changed()
        return bp

    def remove_breakpoint(self, bp: Breakpoint | int) -> None:
        """Remove a breakpoint (or its id)."""
        with self._lock:
            kept = [b for b in self._breakpoints if b is not bp and b.id != bp]
            if len(kept) == len(self._breakpoints):
                raise ConfigurationError(f"no breakpoint {bp} in this session")
            self._breakpoints = kept
        self._breakpoints_changed()

    def clear_breakpoints(self) -> None:
        with self._lock:
            self._breakpoints = []
        self._breakpoints_changed()

    def _breakpoints_changed(self) -> None:
        # Only the hooks some breakpoint needs stay on: a session without breakpoints
        # leaves the worker its fast paths and only records history.
        self.worker.refresh_hooks()
        self._notify("breakpoints")

    def record_sink(self) -> Callable[[ActivationRecord], None]:
        return self.history_store.append  # every finished activation goes to the history

    def wants(self, hook: str) -> bool:
        kinds = {bp.kind for bp in self._breakpoints}
        if hook == "activation_starting":
            return "before" in kinds or self._stop_next
        if hook == "activation_finished":
            # The history fills through record_sink; the hook is for "after" breakpoints.
            # Listeners hear of pauses, steps and edits, not of every activation: a view
            # that follows a running flow polls (Worker.inspect) at its own pace.
            return "after" in kinds
        if hook == "slot_received":
            return "slot" in kinds
        if hook == "event_emitted":
            return "event" in kinds
        return True

    @property
    def breakpoints(self) -> list[Breakpoint]:
        return list(self._breakpoints)

    # -- control -------------------------------------------------------------------------

    @property
    def is_paused(self) -> bool:
        return self.worker.is_paused

    def pause(self) -> None:
        """Dispatch nothing new; activations already running finish."""
        self._paused_it = True
        self.worker.pause()
        self._notify("paused")

    def resume(self) -> None:
        """Continue: parked activations run first, then everything queued."""
        with self._lock:
            self._holds.clear()
            self._paused_it = False
            self._stop_next = False
            self.last_hit = None  # the pause it explained is over
        self.worker.resume()
        self._notify("resumed")

    def step(
        self, timeout: float | None = 10.0, *, stop_at_next: bool = False, local: bool = False
    ) -> ActivationRecord | None:
        """Run exactly one activation and stay paused; returns its record (None if idle).

        Pauses first if the session is running. Steps are deterministic: the same flow and
        inputs stepped twice run the same routines with the same inputs in the same order.

        Args:
            timeout: Seconds to wait for running activations to finish before stepping.
            stop_at_next: Afterwards, let the worker pick the next activation and park it
                (as a breakpoint would), so :attr:`pending` shows what the next step runs
                and with which inputs; the step returns once it is parked. When nothing
                is queued the worker stays paused. When queued data is not ready yet (a
                join waiting for its other slot), the step returns after
                :data:`PARK_WAIT` seconds and the next activation to become ready is
                parked when it does.
            local: A remote routine (``set_remote``) runs its logic in this process, with
                the same inputs and state, instead of on its executor: ``breakpoint()`` and
                ``%debug`` then work on it.
        """
        if not self.worker.is_paused:
            self._paused_it = True
            self.worker.pause()
        record = self.worker.step(timeout, local=local)
        if record is not None:
            with self._lock:
                self._holds.discard(record.seq)
        if stop_at_next and not self.worker.held and self.worker.inspect(0).queued_count:
            self._stop_next = True
            self.worker.refresh_hooks()
            self.worker.resume()
            # Parked at once when something is ready: the wait ends on that, not on time.
            self.worker.wait_until_quiet(PARK_WAIT)
        self._notify("stepped")
        return record

    def wait_until_paused(self, timeout: float | None = None) -> Snapshot:
        """Block until the worker is paused with nothing running, then snapshot it.

        Raises:
            StateError: if it did not pause within ``timeout`` seconds.
        """
        if not self.worker.wait_until_quiet(timeout):
            raise StateError(f"worker {self.worker.worker_id} did not pause within {timeout}s")
        return self.snapshot()

    def run_to(self, routine_id: str, timeout: float | None = None) -> Snapshot | None:
        """Continue until ``routine_id`` is about to run (a one-shot breakpoint).

        With ``timeout`` None it returns at once (None) and the pause happens later; with a
        timeout it waits and returns the snapshot.
        """
        bp = self.add_breakpoint(routine_id)
        bp.once = True
        self.resume()
        return None if timeout is None else self.wait_until_paused(timeout)

    def post(
        self,
        routine_id: str,
        slot: str,
        data: Any = None,
        *,
        metadata: dict[str, Any] | None = None,
        job_id: str | None = None,
        block: bool | None = None,
        timeout: float | None = None,
    ) -> JobContext:
        """Post to the debugged worker (held until resumed or stepped, if paused); the
        keywords are those of :meth:`Runtime.post <routilux.Runtime.post>`."""
        job = self.worker.post(
            routine_id,
            slot,
            data,
            metadata=metadata,
            job_id=job_id,
            block=block,
            timeout=timeout,
        )
        self._notify("posted")
        return job

    # -- inspection and editing ----------------------------------------------------------

    def snapshot(self, max_items: int | None = None, max_jobs: int | None = None) -> Snapshot:
        """Copy the worker's state now, consistent (read at one instant under its lock).

        Args:
            max_items: Copy at most this many queued data points per slot (the oldest);
                :attr:`Snapshot.queue_lengths` still counts all of them. None copies all.
                The worker waits while the copy is taken, so a view that refreshes while
                the flow runs (the widget) keeps this small.
            max_jobs: Copy at most this many unfinished jobs (the oldest);
                :attr:`Snapshot.unfinished` still counts all of them. None copies all.
        """
        view = self.worker.inspect(max_items, max_jobs)
        return Snapshot.from_view(view, self.worker.state, self.history_store.recent(20))

    @property
    def history(self) -> list[ActivationRecord]:
        """Finished activations, oldest first, under the session's retention policy."""
        return self.history_store.records()

    @property
    def pending(self) -> ActivationRecord | None:
        """The activation parked by a breakpoint, about to run."""
        held = self.worker.held
        return held[0] if held else None

    def update_worker_state(self, **shared_data: Any) -> None:
        """Set keys of the WorkerState's ``shared_data``."""
        with self.worker.state.lock:
            self.worker.state.shared_data.update(shared_data)
        self._notify("edited")

    def update_routine_state(self, routine_id: str, updates: dict[str, Any]) -> None:
        """Merge ``updates`` into a routine's state in the WorkerState."""
        self.worker.flow.get_routine(routine_id)
        self.worker.state.update_routine_state(routine_id, updates)
        self._notify("edited")

    def update_job_metadata(self, job: JobContext | str, updates: dict[str, Any]) -> None:
        """Merge ``updates`` into an unfinished job's metadata."""
        job_id = job.job_id if isinstance(job, JobContext) else job
        for live in self.worker.jobs:
            if live.job_id == job_id:
                live.metadata.update(updates)
                self._notify("edited")
                return
        raise ConfigurationError(f"no unfinished job {job_id!r} on {self.worker.worker_id}")

    def inject(self, routine_id: str, slot: str, data: Any, job: JobContext | None = None) -> None:
        """Queue ``data`` in a slot (for ``job``, or a new job)."""
        self.worker.inject(routine_id, slot, data, job)
        self._notify("edited")

    def drop(self, routine_id: str, slot: str, index: int) -> Any:
        """Remove the data point at ``index`` (0 = oldest) from a slot's queue; returns it."""
        data = self.worker.drop(routine_id, slot, index)
        self._notify("edited")
        return data

    # -- listeners (the widget) ------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(what, session)`` after each pause, step, resume, post, edit and
        breakpoint change (``what`` names it); runs in worker threads too, so keep it quick.
        """
        self._listeners = [*self._listeners, listener]

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling ``listener``."""
        self._listeners = [fn for fn in self._listeners if fn is not listener]

    def _notify(self, what: str) -> None:
        for listener in self._listeners:
            try:
                listener(what, self)
            except BaseException as exc:  # a display bug must never break a run or a step
                self.listener_errors.append(exc)

    # -- observer hooks (worker threads) ---------------------------------------------------

    def _fire(self, kinds: tuple[str, ...], routine_id: str, name: str | None, data: Any) -> bool:
        """Whether any enabled breakpoint of these kinds at this place fires for ``data``."""
        hits = matching(
            self._breakpoints,
            kinds,
            routine_id,
            name,
            data,
            self.worker.state,
            self.condition_errors,
        )
        for bp in hits:
            bp.hits += 1
            self.last_hit = bp
        if any(bp.once for bp in hits):
            with self._lock:  # add_breakpoint() may be rewriting the list right now
                self._breakpoints = [b for b in self._breakpoints if not (b.once and b in hits)]
        return bool(hits)

    def _hold(self, record: ActivationRecord | None = None) -> str:
        with self._lock:
            self._paused_it = True
            if record is not None:
                self._holds.add(record.seq)
        # Hooks that hold run under the worker's lock: tell listeners from another thread,
        # since a listener may well take a snapshot (which needs that lock). Holds come at
        # human pace, so a short-lived thread each is cheap.
        if self._listeners:
            threading.Thread(
                target=self._notify, args=("paused",), name="routilux-debug-notify", daemon=True
            ).start()
        return HOLD

    def activation_starting(self, worker: Worker, record: ActivationRecord) -> Any:
        if self._stop_next:
            # The step that asked for it is over: this is what the next step runs.
            self._stop_next = False
            self.last_hit = None
            return self._hold(record)
        if self._breakpoints and self._fire(("before",), record.routine_id, None, record.inputs):
            return self._hold(record)
        return None

    def activation_finished(self, worker: Worker, record: ActivationRecord) -> None:
        if self._breakpoints and self._fire(("after",), record.routine_id, None, record.inputs):
            self._paused_it = True
            worker.pause()
            self._notify("paused")

    def slot_received(self, worker: Worker, routine_id: str, slot: str, item: QueuedItem) -> Any:
        if self._breakpoints and self._fire(("slot",), routine_id, slot, item.data):
            return self._hold()
        return None

    def event_emitted(
        self, worker: Worker, record: ActivationRecord | None, event: str, data: Any
    ) -> Any:
        if (
            record is not None
            and self._breakpoints
            and self._fire(("event",), record.routine_id, event, data)
        ):
            return self._hold()
        return None
