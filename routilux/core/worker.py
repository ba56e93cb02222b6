"""Worker: one running instance of a flow, with its own queues, jobs and scheduler.

The hot path lives here: data is queued in a slot, the target routine becomes a
*candidate*, a drainer thread pops candidates, asks the routine's policy whether to run,
runs the logic, and the logic's emits queue more data. A drainer keeps going until no
candidate is left, so a chain of small routines runs in one thread without a hand-off per
activation. More drainers (up to the runtime's ``thread_pool_size``) start only when work
waits and the busy ones have finished nothing for a while: their logic blocks.

Everything that decides (policies, job accounting, pause state) happens under one lock
per worker; logic runs outside it. Posts into a running worker skip the lock: they go into
an inbox that whoever takes the lock next empties first.

Regular installs compile this module with mypyc (see setup.py); keep it fully typed.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from routilux.core._context import current_activation
from routilux.core._names import unknown
from routilux.core.activation import ActivationRecord
from routilux.core.error_handler import ErrorHandler, ErrorStrategy
from routilux.core.errors import (
    ConfigurationError,
    SlotHandlerError,
    SlotQueueFullError,
    StateError,
)
from routilux.core.hooks import HOLD, Observer, overridden_hooks
from routilux.core.job import JobContext, JobStatus
from routilux.core.policies import Decision, as_decision, is_all_slots_ready, is_immediate
from routilux.core.queue import QueuedItem, SlotQueue
from routilux.core.state import WorkerState, WorkerStatus

if TYPE_CHECKING:
    from routilux.core.flow import Flow
    from routilux.core.routine import Routine
    from routilux.core.runtime import Runtime

__all__ = ["Worker", "emit_in_context"]

_DEFAULT_HANDLER = ErrorHandler(ErrorStrategy.STOP)
_log = logging.getLogger("routilux")
# Wall-clock time = this + perf_counter(): one clock read per activation instead of two.
_WALL_OFFSET = time.time() - time.perf_counter()
# How long busy drainers may go without finishing an activation, while work waits, before
# another thread joins them: a little over the interpreter's GIL switch interval. A drainer
# can be kept from running that long by any other Python thread (a loop posting into the
# flow, say); only a longer stall means its logic is blocked (I/O, sleep, a lock).
SPAWN_CHECK_MARGIN = 0.001


def spawn_check_delay() -> float:
    return sys.getswitchinterval() + SPAWN_CHECK_MARGIN


# The built-in policies a worker decides inline (Node.fast_policy).
IMMEDIATE_ONE_SLOT = "immediate_one_slot"
ALL_SLOTS_READY = "all_slots_ready"
# Enum members read once: a module constant is cheaper than an attribute of the enum class.
_PENDING = JobStatus.PENDING
_RUNNING = JobStatus.RUNNING
_PAUSED = WorkerStatus.PAUSED
_BUSY = WorkerStatus.RUNNING


class Node:
    """A routine as one worker runs it: its queues, policy, logic and routing table."""

    __slots__ = (
        "error_handler",
        "fast_policy",
        "logic",
        "policy",
        "queue_list",
        "queues",
        "routes",
        "routine",
        "routine_id",
        "single_routes",
        "slot_names",
        "stub",
        "worker",
    )

    def __init__(self, worker: Worker, routine_id: str, routine: Routine, flow: Flow) -> None:
        self.worker = worker
        self.routine_id = routine_id
        self.routine = routine
        self.policy = routine.activation_policy
        logic = routine.resolve_logic()  # the calling convention, decided once
        self.stub = logic is None  # a stub never activates: its data waits in its slots
        self.logic: Callable[..., Any] = logic or _no_logic
        self.slot_names = tuple(slot.name for slot in routine.slots)
        self.queues = {
            slot.name: SlotQueue(routine_id, slot.name, slot.max_queue_length)
            for slot in routine.slots
        }
        self.queue_list = tuple(self.queues.values())
        self.error_handler = routine.error_handler or flow.error_handler or _DEFAULT_HANDLER
        # The built-in policies that workers decide inline, without calling them.
        self.fast_policy: str | None
        if is_immediate(self.policy) and len(self.queue_list) == 1:
            self.fast_policy = IMMEDIATE_ONE_SLOT
        elif is_all_slots_ready(self.policy) and self.queue_list:
            self.fast_policy = ALL_SLOTS_READY
        else:
            self.fast_policy = None
        # event name -> [(target node, target queue)], filled in once all nodes exist.
        self.routes: dict[str, list[tuple[Node, SlotQueue]]] = {}
        # The events wired to exactly one slot (most of them), for the fast path of route().
        self.single_routes: dict[str, tuple[Node, SlotQueue]] = {}


class Worker:
    """Runs one flow. Create it through :meth:`Runtime.exec` or :meth:`Runtime.post`."""

    def __init__(self, runtime: Runtime, flow: Flow, flow_name: str, worker_id: str) -> None:
        self.runtime = runtime
        self.flow = flow
        self.flow_name = flow_name
        self.worker_id = worker_id
        self.state = WorkerState(worker_id, flow_name)
        self.state._worker = self  # type: ignore[attr-defined]  # lets emit(worker_state=) route
        self.nodes: dict[str, Node] = {
            rid: Node(self, rid, routine, flow) for rid, routine in flow.routines.items()
        }
        for c in flow.connections:
            target = self.nodes[c.target_id]
            self.nodes[c.source_id].routes.setdefault(c.event, []).append(
                (target, target.queues[c.slot])
            )
        for node in self.nodes.values():
            node.single_routes = {e: ts[0] for e, ts in node.routes.items() if len(ts) == 1}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._candidates: deque[tuple[Node, JobContext]] = deque()
        # Posts handed over without the lock (see post()); whoever takes the lock next moves
        # them into their slots before looking at queues, candidates or jobs.
        self._inbox: deque[tuple[Node, SlotQueue, QueuedItem, JobContext]] = deque()
        self._held: deque[ActivationRecord] = deque()
        self._jobs: dict[str, JobContext] = {}
        self._seq = itertools.count(1)
        self._drainers = 0
        self._running = 0
        self._max_drainers = runtime.thread_pool_size
        self._paused = False
        self._stopped = False
        self._quiet_waiters = 0  # threads in wait_until_quiet: notify only when there are any
        self._progress = 0  # activations finished: tells a stuck drainer from a busy one
        self._spawn_check_armed = False
        self._observers: list[Observer] = []
        self._refresh_hooks()

    def __repr__(self) -> str:
        return f"<Worker {self.worker_id} flow={self.flow_name!r}>"

    # -- observers -----------------------------------------------------------------------

    def add_observer(self, observer: Observer) -> None:
        """Call ``observer``'s hooks for everything this worker does from now on."""
        with self._lock:
            self._observers.append(observer)
            self._refresh_hooks()

    def remove_observer(self, observer: Observer) -> None:
        with self._lock:
            if observer in self._observers:
                self._observers.remove(observer)
            self._refresh_hooks()

    def refresh_hooks(self) -> None:
        """Ask the observers again which hooks they want (see :meth:`Observer.wants`)."""
        with self._lock:
            self._refresh_hooks()

    def _refresh_hooks(self) -> None:
        self._take_posts_locked()  # posted before the change: handled as before it
        observers = [*self.runtime._observers, *self._observers]
        self._on_job_started = overridden_hooks(observers, "job_started")
        self._on_job_finished = overridden_hooks(observers, "job_finished")
        self._on_slot_received = overridden_hooks(observers, "slot_received")
        self._on_slot_dropped = overridden_hooks(observers, "slot_dropped")
        self._on_starting = overridden_hooks(observers, "activation_starting")
        self._on_finished = overridden_hooks(observers, "activation_finished")
        self._sinks = [sink for obs in observers if (sink := obs.record_sink()) is not None]
        # Records are timed only for someone who will see them.
        self._timed = bool(self._on_finished or self._sinks)
        self._on_emitted = overridden_hooks(observers, "event_emitted")
        self._on_error = overridden_hooks(observers, "error")
        self._routes_observed = bool(self._on_slot_received or self._on_emitted)
        # ActivationRecord.produced is kept only for observers that read it (a store does).
        self._keeps_produced = any(obs.needs_produced for obs in observers)
        # Observers of posts (a store records them before post() returns) need the lock.
        self._quick_posts = not (self._on_job_started or self._on_slot_received)

    # -- putting data in -----------------------------------------------------------------

    def post(
        self,
        routine_id: str,
        slot: str,
        data: Any = None,
        *,
        metadata: dict[str, Any] | None = None,
        job_id: str | None = None,
    ) -> JobContext:
        """Queue ``data`` in ``routine_id``'s ``slot`` as a new job and return the job."""
        node = self._node(routine_id)
        queue = node.queues.get(slot)
        if queue is None:
            raise ConfigurationError(unknown("slot", slot, node.queues, f"routine {routine_id!r}"))
        payload = dict(data) if isinstance(data, dict) else ({} if data is None else data)
        job = JobContext(self.flow_name, self.worker_id, job_id=job_id, metadata=metadata)
        item = QueuedItem(payload, job)
        # Counted before it is queued, so a drainer that finishes it at once never takes the
        # runtime's count of unfinished jobs below what wait_until_all_jobs_finished sees.
        self.runtime._job_opened()
        if (
            self._quick_posts
            and queue.max_length is None
            and not self._stopped  # a stopped worker refuses posts (below)
            and self._drainers
            and (self._spawn_check_armed or self._drainers >= self._max_drainers)
        ):
            # A drainer is running and nothing needs deciding now: hand the post over
            # without the lock. A thread posting in a loop would otherwise contend with the
            # drainer for the lock on every post, and each time one of them blocks while the
            # other waits for the GIL, both stall.
            job.inflight = 1
            self._inbox.append((node, queue, item, job))
            if self._drainers and not self._stopped:
                return job  # the drainer takes it (and checks the inbox before leaving)
            # The drainer was leaving, or the worker stopped as we posted (the job is then
            # cancelled with the others): settle it here.
            with self._lock:
                self._take_posts_locked()
                spawn = self._wants_drainer_locked(None)
            if spawn:
                self._spawn()
            return job
        refused: Exception | None = None
        spawn = False
        with self._lock:
            self._take_posts_locked()  # earlier posts of this thread go first
            if self._stopped:
                refused = StateError(f"worker {self.worker_id} is stopped; it takes no more posts")
            elif not queue.has_room():
                refused = SlotQueueFullError(
                    f"slot {routine_id}.{slot} is full ({queue.max_length} queued); "
                    "the post was not accepted"
                )
            else:
                self._jobs[job.job_id] = job
                self.state._status = _PAUSED if self._paused else _BUSY
                for hook in self._on_job_started:
                    hook(self, job)
                self._enqueue_locked(node, queue, item, job)
                job.inflight = 1
                if not self._drainers or not (
                    self._spawn_check_armed or self._drainers >= self._max_drainers
                ):
                    spawn = self._wants_drainer_locked(None)
        if refused is not None:
            self.runtime._job_closed()
            raise refused
        if spawn:
            self._spawn()
        return job

    def route(
        self, activation: ActivationRecord | None, node: Node, event: str, data: dict[str, Any]
    ) -> None:
        """Deliver ``data`` emitted by ``node``'s ``event`` to every connected slot."""
        single = node.single_routes.get(event)
        if single is not None and activation is not None and not self._routes_observed:
            # The hot path: one target, from inside logic, nobody watching slots or events.
            target, queue = single
            owner = activation.job
            item = QueuedItem(data, owner)
            activation.add_emitted(event, data)
            with self._lock:
                if owner._stopped:
                    return  # the job failed or was cancelled: its data goes nowhere
                if queue.max_length is not None and len(queue._items) >= queue.max_length:
                    raise self._full(queue, node, event)
                queue._items.append(item)
                self._candidates.append((target, owner))
                if self._keeps_produced:
                    activation.add_produced(target.routine_id, queue.name, item)
                owner.inflight += 1
                # The usual answer, found without a call: a running drainer (the emitting
                # one) takes the candidate, or a spawn check is already watching.
                if self._drainers and (
                    self._spawn_check_armed or self._drainers >= self._max_drainers
                ):
                    return
                spawn = self._wants_drainer_locked(activation)
            if spawn:
                self._spawn()
            return
        targets = node.routes.get(event)
        if targets is None:
            node.routine.get_event(event)  # raises for an unknown event
            targets = []
        if activation is not None:
            activation.add_emitted(event, data)
        job = activation.job if activation is not None else None
        if not targets and not self._on_emitted:
            return
        with self._lock:
            if job is None:
                job = self._open_job_locked()
            if job._stopped:
                return
            for _, queue in targets:
                if queue.max_length is not None and not queue.has_room():
                    raise self._full(queue, node, event)
            candidates = self._candidates
            watched = self._on_slot_received
            keep = activation if activation is not None and self._keeps_produced else None
            first = True
            for target, queue in targets:
                # Each target gets its own dict, so one routine cannot change another's input.
                item = QueuedItem(data if first else dict(data), job)
                first = False
                if watched:
                    self._enqueue_locked(target, queue, item, job)
                else:
                    queue._items.append(item)
                    candidates.append((target, job))
                if keep is not None:
                    keep.add_produced(target.routine_id, queue.name, item)
            job.inflight += len(targets)
            if job.inflight == 0:
                self._finish_job_locked(job)  # an external emit that reached no slot
            for hook in self._on_emitted:
                if hook(self, activation, event, data) == HOLD:
                    self._pause_locked()
            spawn = self._wants_drainer_locked(activation) if targets else False
        if spawn:
            self._spawn()

    @staticmethod
    def _full(queue: SlotQueue, node: Node, event: str) -> SlotQueueFullError:
        return SlotQueueFullError(
            f"slot {queue.routine_id}.{queue.name} is full ({queue.max_length} queued); "
            f"{node.routine_id}.{event} was delivered to no slot"
        )

    def _take_posts_locked(self) -> None:
        """Move the posts handed over without the lock into their slots."""
        inbox = self._inbox
        if not inbox:
            return
        while inbox:
            node, queue, item, job = inbox.popleft()
            self._jobs[job.job_id] = job
            if self._stopped:
                # Posted while the worker stopped: cancelled like the jobs it had.
                self._stop_job_locked(job, None)
                self._finish_job_locked(job)
                continue
            queue._items.append(item)
            self._candidates.append((node, job))
        if not self._stopped:
            self.state._status = _PAUSED if self._paused else _BUSY

    def _enqueue_locked(
        self, node: Node, queue: SlotQueue, item: QueuedItem, job: JobContext
    ) -> None:
        queue.append(item)
        self._candidates.append((node, job))
        for hook in self._on_slot_received:
            if hook(self, node.routine_id, queue.name, item) == HOLD:
                self._pause_locked()

    def _open_job_locked(self) -> JobContext:
        """A job for data put in from outside any activation (``emit(worker_state=...)``)."""
        job = JobContext(self.flow_name, self.worker_id)
        self._jobs[job.job_id] = job
        self.runtime._job_opened()
        for hook in self._on_job_started:
            hook(self, job)
        return job

    # -- scheduling ----------------------------------------------------------------------

    def _backlog_locked(self) -> int:
        """Candidates and held activations that no idle drainer is about to take."""
        return len(self._candidates) + len(self._held) - (self._drainers - self._running)

    def _wants_drainer_locked(self, emitting: ActivationRecord | None) -> bool:
        """Whether to start a drainer now (the caller then calls :meth:`_spawn`).

        The first drainer starts at once. Further ones start only if the busy drainers make
        no progress for a moment: under the GIL, threads racing over small activations are
        slower than one thread running them all, while slow or blocking logic still gets
        up to ``thread_pool_size`` threads.
        """
        if self._paused or self._stopped or self._drainers >= self._max_drainers:
            return False
        backlog = self._backlog_locked()
        if emitting is not None and self._drainers:
            backlog -= 1  # the emitting drainer takes one itself when its logic returns
        if backlog <= 0:
            return False
        if self._drainers == 0:
            self._drainers = 1
            return True
        if not self._spawn_check_armed:
            self._arm_spawn_check_locked()
        return False

    def _arm_spawn_check_locked(self) -> None:
        self._spawn_check_armed = True
        progress = self._progress
        self.runtime._timers.call_later(spawn_check_delay(), lambda: self._spawn_check(progress))

    def _spawn_check(self, progress: int) -> None:
        """Start one more drainer if work waits and no activation finished since ``progress``."""
        spawn = False
        with self._lock:
            self._take_posts_locked()
            self._spawn_check_armed = False
            if self._paused or self._stopped or self._drainers >= self._max_drainers:
                return
            if self._backlog_locked() <= 0:
                return
            if self._progress == progress:
                self._drainers += 1
                spawn = True
            self._arm_spawn_check_locked()  # keep watching while work waits
        if spawn:
            self._spawn()

    def _spawn(self) -> None:
        try:
            self.runtime._executor.submit(self._drain)
        except RuntimeError:  # the executor was shut down under us
            with self._lock:
                self._drainers -= 1

    def _drain(self) -> None:
        """A drainer: run activations until there is nothing to do (or the worker pauses).

        This is :meth:`_execute` and :meth:`_book_locked` written out for the common case
        (the first attempt succeeds), since it runs once per activation. The drainer counts
        as running from its first activation until it exits: booking one activation and
        taking the next happen under one lock acquisition, so the count would only go down
        and up again.
        """
        lock = self._lock
        state = self.state
        set_current = current_activation.set
        clock = time.perf_counter
        finished: ActivationRecord | None = None
        # The context points at the running activation (for emit, print, get_current_job);
        # it is set per activation and restored once, when the drainer leaves.
        outer = set_current(None)
        try:
            while True:
                with lock:
                    if finished is None:
                        self._running += 1
                    else:
                        self._progress += 1
                        job = finished.job
                        if finished.error is not None:
                            self._apply_error_strategy_locked(finished, job)
                        job.inflight -= 1
                        if job.inflight == 0:
                            self._finish_job_locked(job)
                    activation = self._next_locked(allow_hold=True)
                    if activation is None:
                        self._running -= 1
                        self._drainers -= 1
                        if self._quiet_waiters and self._running == 0:
                            self._changed.notify_all()
                if activation is None:
                    # A post may have gone into the inbox after _next_locked emptied it,
                    # seeing this drainer still counted: look once more now that it is not.
                    if self._inbox and self._rejoin():
                        finished = None
                        continue
                    return
                set_current(activation)
                activation.attempts = 1
                # Only observers see a drained activation's record: time it only for them.
                timed = self._timed
                start = clock() if timed else 0.0
                inputs = activation.inputs
                try:
                    if len(inputs) == 1:
                        # One slot, as most routines have: a plain call, no argument tuple.
                        for only in inputs.values():
                            activation.node.logic(only, activation.policy_message, state)
                    else:
                        activation.node.logic(*inputs.values(), activation.policy_message, state)
                except Exception as exc:
                    self._after_failure(activation, exc, start or clock())
                else:
                    if timed:
                        activation.started_at = _WALL_OFFSET + start
                        activation.duration = clock() - start
                for sink in self._sinks:
                    sink(activation)
                if self._on_finished or self._on_job_finished:
                    set_current(None)  # observers run outside the activation
                    for hook in self._on_finished:
                        _call_quietly(hook, self, activation)
                finished = activation
        finally:
            current_activation.reset(outer)

    def _rejoin(self) -> bool:
        """Whether a leaving drainer should stay for posts that came in as it left."""
        with self._lock:
            self._take_posts_locked()
            if self._drainers or not self._candidates:
                return False  # a new drainer has started, or there is nothing to run
            if self._paused or self._stopped:
                return False
            self._drainers = 1
            return True

    def _next_locked(self, allow_hold: bool) -> ActivationRecord | None:
        """The next activation to run, deciding policies for waiting candidates as needed."""
        if self._inbox:
            self._take_posts_locked()
        if self._stopped or (self._paused and allow_hold):
            return None
        if self._held:
            return self._held.popleft()
        candidates = self._candidates
        while candidates:
            node, job = candidates.popleft()
            hold = False
            if job._stopped or node.stub:
                activation = None
            elif node.fast_policy is IMMEDIATE_ONE_SLOT:
                # The hottest decision, made inline: one data point from the only slot.
                items = node.queue_list[0]._items
                if items:
                    item = items.popleft()
                    owner = item.job
                    if owner is None or owner._stopped:
                        owner = job
                    activation = ActivationRecord(
                        next(self._seq), node, owner, {node.slot_names[0]: [item.data]}, [item]
                    )
                    owner.inflight += 1
                    if owner.status is _PENDING:
                        owner.status = _RUNNING
                else:
                    activation = None
            else:
                activation, hold = self._decide_locked(node, job)
            job.inflight -= 1
            if activation is None:
                if job.inflight == 0:
                    self._finish_job_locked(job)
                continue
            if job is not activation.job and job.inflight == 0:
                self._finish_job_locked(job)
            if self._on_starting:
                for hook in self._on_starting:
                    if hook(self, activation) == HOLD:
                        hold = True
            if hold and allow_hold:
                # Parked with its inputs; the next step() or resume() runs it first.
                activation.released = True
                self._held.append(activation)
                self._pause_locked()
                return None
            return activation
        return None

    def _decide_locked(self, node: Node, job: JobContext) -> tuple[ActivationRecord | None, bool]:
        """Ask ``node``'s policy; build the activation if it says run (and whether to hold it)."""
        if node.fast_policy is ALL_SLOTS_READY:
            # Decided inline, as the policy would: one data point from every slot.
            for queue in node.queue_list:
                if not queue._items:
                    return None, False
            consumed = [queue._items.popleft() for queue in node.queue_list]
            inputs = {
                name: [item.data] for name, item in zip(node.slot_names, consumed, strict=True)
            }
            owner = consumed[0].job
            if owner is None or owner._stopped:
                owner = job
            activation = ActivationRecord(next(self._seq), node, owner, inputs, consumed)
            owner.inflight += 1
            if owner.status is _PENDING:
                owner.status = _RUNNING
            return activation, False
        queues = node.queues
        try:
            decision = node.policy(queues, self.state)
            if type(decision) is not Decision:
                decision = as_decision(decision, repr(node.policy))
        except Exception as exc:
            for queue in node.queue_list:
                queue.restore_consumed()
            self._fail_policy_locked(node, job, exc)
            return None, False
        if not decision.activate:
            for queue in node.queue_list:
                queue.restore_consumed()
            if decision.retry_after is not None:
                job.inflight += 1
                self.runtime._timers.call_later(
                    decision.retry_after, lambda: self._recheck(node, job)
                )
            return None, False
        if len(node.queue_list) == 1:
            consumed = node.queue_list[0].take_consumed()
        else:
            consumed = [item for queue in node.queue_list for item in queue.take_consumed()]
        data_slice = decision.data_slice or {}
        # In slot order, every slot present: logic gets the lists positionally from it.
        inputs = {name: data_slice.get(name) or [] for name in node.slot_names}
        owner = consumed[0].job if consumed and consumed[0].job is not None else job
        if owner._stopped:
            owner = job
        activation = ActivationRecord(
            next(self._seq), node, owner, inputs, consumed, decision.message
        )
        owner.inflight += 1
        if owner.status is _PENDING:
            owner.status = _RUNNING
        return activation, decision.hold

    def _recheck(self, node: Node, job: JobContext) -> None:
        """A policy asked to be asked again (``retry_after``): make the routine a candidate."""
        with self._lock:
            if self._stopped:
                return
            self._candidates.append((node, job))  # the timer's inflight count carries over
            spawn = self._wants_drainer_locked(None)
        if spawn:
            self._spawn()

    # -- running -------------------------------------------------------------------------

    def _execute(self, activation: ActivationRecord) -> None:
        """Run the logic (retrying as the error handler says) and report to observers."""
        token = current_activation.set(activation)
        activation.attempts = 1
        start = time.perf_counter()
        activation.started_at = _WALL_OFFSET + start
        try:
            activation.node.logic(
                *activation.inputs.values(), activation.policy_message, self.state
            )
        except Exception as exc:
            self._after_failure(activation, exc, start)
        else:
            activation.duration = time.perf_counter() - start
        finally:
            current_activation.reset(token)
        for sink in self._sinks:
            sink(activation)
        if self._on_finished:
            for hook in self._on_finished:
                _call_quietly(hook, self, activation)

    def _after_failure(self, activation: ActivationRecord, exc: Exception, start: float) -> None:
        """Record a failed attempt and run the further attempts the error handler allows."""
        handler = activation.node.error_handler
        if activation.started_at is None:
            activation.started_at = _WALL_OFFSET + start
        while True:
            activation.duration = time.perf_counter() - start
            activation.error = exc
            for hook in self._on_error:
                _call_quietly(hook, self, activation, exc)
            if not handler.should_retry(exc, activation.attempts):
                return
            delay = handler.delay_before(activation.attempts + 1)
            if delay:
                time.sleep(delay)
            activation.attempts += 1
            start = time.perf_counter()
            activation.started_at = _WALL_OFFSET + start
            try:
                activation.node.logic(
                    *activation.inputs.values(), activation.policy_message, self.state
                )
            except Exception as again:
                exc = again
                continue
            activation.duration = time.perf_counter() - start
            activation.error = None
            return

    def _account_locked(self, activation: ActivationRecord) -> None:
        """Book an activation run outside a drainer (by :meth:`step`)."""
        self._running -= 1
        self._book_locked(activation)
        if self._quiet_waiters and self._running == 0:
            self._changed.notify_all()

    def _book_locked(self, activation: ActivationRecord) -> None:
        """Book a finished activation: error strategy, job completion."""
        self._progress += 1
        job = activation.job
        assert job is not None
        if activation.error is not None:
            self._apply_error_strategy_locked(activation, job)
        job.inflight -= 1
        if job.inflight == 0:
            self._finish_job_locked(job)

    def _apply_error_strategy_locked(self, activation: ActivationRecord, job: JobContext) -> None:
        strategy = activation.node.error_handler.strategy
        error = SlotHandlerError(
            f"routine {activation.routine_id!r} raised {activation.error!r}"
            + (f" after {activation.attempts} attempts" if activation.attempts > 1 else "")
        )
        error.__cause__ = activation.error
        if strategy is ErrorStrategy.SKIP:
            return
        job.errors.append(error)
        if strategy is ErrorStrategy.CONTINUE:
            return
        self._stop_job_locked(job, error)

    def _fail_policy_locked(self, node: Node, job: JobContext, exc: Exception) -> None:
        error = ConfigurationError(
            f"activation policy {node.policy!r} of routine {node.routine_id!r} raised {exc!r}"
        )
        error.__cause__ = exc
        job.errors.append(error)
        self._stop_job_locked(job, error)

    def _stop_job_locked(self, job: JobContext, error: BaseException | None) -> None:
        """Mark ``job`` as stopped and drop its queued data; it finishes when nothing runs."""
        if job._stopped:
            return
        job._stopped = True
        if error is not None and job.error is None:
            job.error = error
        for node in self.nodes.values():
            for queue in node.queue_list:
                queue.remove_job(job)

    def _finish_job_locked(self, job: JobContext) -> None:
        if job.status.finished:
            return
        if job.error is not None:
            status = JobStatus.FAILED
            self.state.jobs_failed += 1
        elif job._stopped:
            status = JobStatus.CANCELLED
        else:
            status = JobStatus.COMPLETED
            self.state.jobs_completed += 1
        job._finish(status)
        self._jobs.pop(job.job_id, None)
        if not self._jobs and not self._paused and not self._stopped:
            self.state._status = WorkerStatus.IDLE
        for hook in self._on_job_finished:
            _call_quietly(hook, self, job)
        self.runtime._job_closed()

    # -- control (used by the debugger) ----------------------------------------------------

    @property
    def is_paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        """Dispatch nothing new; activations already running finish."""
        with self._lock:
            self._take_posts_locked()
            self._pause_locked()

    def _pause_locked(self) -> None:
        if not self._stopped:
            self._paused = True
            self.state._status = WorkerStatus.PAUSED
            self._changed.notify_all()

    def resume(self) -> None:
        """Dispatch again, held activations first."""
        with self._lock:
            if self._stopped:
                return
            self._paused = False
            self.state._status = WorkerStatus.RUNNING if self._jobs else WorkerStatus.IDLE
            spawn = self._wants_drainer_locked(None)
            self._changed.notify_all()
        if spawn:
            self._spawn()

    def wait_until_quiet(self, timeout: float | None = None) -> bool:
        """Wait until the worker is paused and no activation is running."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            self._quiet_waiters += 1
            try:
                while not (self._paused and self._running == 0):
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._changed.wait(remaining)
                return True
            finally:
                self._quiet_waiters -= 1

    def step(self, timeout: float | None = None) -> ActivationRecord | None:
        """Run exactly one activation in the calling thread; the worker stays paused.

        Returns the finished record, or None when nothing is ready to run.
        """
        with self._lock:
            if not self._paused:
                raise StateError("step() needs a paused worker: pause() it first")
        if not self.wait_until_quiet(timeout):
            raise StateError(f"an activation did not finish within {timeout}s; cannot step")
        with self._lock:
            activation = self._next_locked(allow_hold=False)
            if activation is None:
                return None
            activation.released = True
            self._running += 1
        self._execute(activation)
        with self._lock:
            self._account_locked(activation)
            spawn = self._wants_drainer_locked(None)  # resumed while we stepped
        if spawn:
            self._spawn()
        return activation

    def stop(self) -> None:
        """Cancel every unfinished job, drop all queued data and accept nothing more."""
        with self._lock:
            self._take_posts_locked()
            self._candidates.clear()
            self._held.clear()
            self._stopped = True
            self._paused = False
            for job in list(self._jobs.values()):
                self._stop_job_locked(job, None)
                self._finish_job_locked(job)
            self.state._status = WorkerStatus.STOPPED
            self._changed.notify_all()

    def cancel_job(self, job: JobContext) -> None:
        """Drop ``job``'s queued data; it ends as cancelled once nothing of it runs."""
        with self._lock:
            self._take_posts_locked()
            self._stop_job_locked(job, None)
            self._candidates = deque((n, j) for n, j in self._candidates if j is not job)
            self._held = deque(a for a in self._held if a.job is not job)
            # Ends now; an activation of it still running finishes without effect on others.
            self._finish_job_locked(job)

    # -- inspection ----------------------------------------------------------------------

    @property
    def jobs(self) -> list[JobContext]:
        """The unfinished jobs."""
        with self._lock:
            self._take_posts_locked()
            return list(self._jobs.values())

    @property
    def held(self) -> list[ActivationRecord]:
        """Activations parked by a breakpoint, next to run first."""
        with self._lock:
            return list(self._held)

    def queue(self, routine_id: str, slot: str) -> SlotQueue:
        node = self._node(routine_id)
        try:
            return node.queues[slot]
        except KeyError:
            raise ConfigurationError(
                unknown("slot", slot, node.queues, f"routine {routine_id!r}")
            ) from None

    def queued(self) -> dict[str, dict[str, list[Any]]]:
        """``{routine_id: {slot: [data, ...]}}`` for every slot, oldest first."""
        with self._lock:
            self._take_posts_locked()
            return {
                rid: {name: q.peek() for name, q in node.queues.items()}
                for rid, node in self.nodes.items()
            }

    def node_for(self, routine: Routine) -> Node:
        for node in self.nodes.values():
            if node.routine is routine:
                return node
        raise ConfigurationError(f"{routine!r} is not part of flow {self.flow_name!r}")

    def _node(self, routine_id: str) -> Node:
        node = self.nodes.get(routine_id)
        if node is None:
            raise ConfigurationError(
                unknown("routine", routine_id, self.nodes, f"flow {self.flow_name!r}")
            )
        return node

    @property
    def lock(self) -> threading.Lock:
        """The worker's lock. To read or edit queues and jobs, use :meth:`locked`."""
        return self._lock

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the worker's lock with every post in its slot: for debuggers that read or
        edit queues, jobs and states while the worker runs or pauses."""
        with self._lock:
            self._take_posts_locked()
            yield

    def inject(self, routine_id: str, slot: str, data: Any, job: JobContext | None = None) -> None:
        """Queue ``data`` in a slot as if it had been routed there (for a job, or a new one)."""
        queue = self.queue(routine_id, slot)
        node = self.nodes[routine_id]
        with self._lock:
            self._take_posts_locked()
            if job is None:
                job = self._open_job_locked()
            self._enqueue_locked(node, queue, QueuedItem(data, job), job)
            job.inflight += 1
            spawn = self._wants_drainer_locked(None)
        if spawn:
            self._spawn()

    def adopt(self, job: JobContext, queued: list[tuple[str, str, QueuedItem]]) -> None:
        """Take over ``job`` with data already waiting in slots (resuming or forking a job).

        Each ``(routine_id, slot, item)`` is queued as if it had just arrived; the items keep
        their ``uid`` so a store can match them with what it recorded.
        """
        resolved = [(self._node(rid), self.queue(rid, slot), item) for rid, slot, item in queued]
        with self._lock:
            self._take_posts_locked()
            if self._stopped:
                raise StateError(f"worker {self.worker_id} is stopped")
            job.worker_id = self.worker_id
            self._jobs[job.job_id] = job
            self.runtime._job_opened()
            self.state._status = WorkerStatus.PAUSED if self._paused else WorkerStatus.RUNNING
            for hook in self._on_job_started:
                hook(self, job)
            for node, queue, item in resolved:
                item.job = job
                self._enqueue_locked(node, queue, item, job)
            job.inflight += len(resolved)
            if job.inflight == 0:
                self._finish_job_locked(job)
            spawn = self._wants_drainer_locked(None)
        if spawn:
            self._spawn()

    def drop(self, routine_id: str, slot: str, index: int) -> Any:
        """Remove the data point at ``index`` (0 is the oldest) from a slot; return its data."""
        queue = self.queue(routine_id, slot)
        with self._lock:
            self._take_posts_locked()
            try:
                item = queue.remove_at(index)
            except IndexError:
                raise ConfigurationError(
                    f"slot {routine_id}.{slot} has {len(queue)} queued items; no index {index}"
                ) from None
            for hook in self._on_slot_dropped:
                _call_quietly(hook, self, routine_id, slot, item)
        return item.data


def emit_in_context(routine: object, event: str, data: dict[str, Any]) -> bool:
    """Route an emit that ``routine`` makes from inside its own running logic.

    Returns False when the emit does not come from there; ``Routine.emit`` then finds the
    worker another way. It lives here, compiled with the worker, because it runs once per
    emit.
    """
    activation = current_activation.get()
    if activation is None:
        return False
    node = activation.node
    if node.routine is not routine:
        return False
    node.worker.route(activation, node, event, data)
    return True


def _no_logic(*args: Any) -> None:
    """A stub node's logic: never called, since a stub never activates."""


def _call_quietly(hook: Callable[..., Any], *args: Any) -> None:
    """Run an observer hook; an observer's bug must never take a worker thread down."""
    try:
        hook(*args)
    except Exception:
        _log.exception("observer hook %r raised", hook)
