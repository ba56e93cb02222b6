"""Scheduler: the hot path of a worker, from a post to the job's end.

Data is queued in a slot and the target node becomes a *candidate*; a drainer thread pops
candidates, decides what runs (``_next``), runs the logic outside the lock, and the logic's
emits queue more data (:meth:`Scheduler.route`). A drainer keeps going until no candidate is
left, so a chain of small routines runs in one thread without a hand-off per activation.
Booking a finished activation (error strategy, the job's count of activations in flight,
finishing the job) and taking the next one happen under one lock acquisition.

**The inbox rule.** Posts into a running worker skip the lock: they go into an inbox, and
whoever reads queues, candidates or jobs under the lock first moves the inbox into the slots
(:meth:`Scheduler._take_posts_locked`). :meth:`_next_locked` does it on the hot path, and
``Worker.locked()`` for everything else. A few places take the lock without it, on purpose:
they only add candidates or flip flags (``_recheck``, ``_retry_due``, ``resume``), which
cannot reorder anything, since the inbox is emptied before any candidate is taken.

What it builds on, one role per module: ``_growth`` (when to add a drainer), ``_attempts``
(the error handler's further attempts, step()'s inline run, completing activations that ran
on the event loop), ``_backpressure`` (full slots); and it calls ``_next`` (what runs next)
and ``_node`` (nodes and routing tables). ``Worker`` builds on it with the public face.

Regular installs compile this module with mypyc (see setup.py); keep it fully typed.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from time import thread_time
from typing import TYPE_CHECKING, Any

from routilux.core import _check
from routilux.core._attempts import WALL_OFFSET, refuse_awaitable
from routilux.core._backpressure import FOREVER, Backpressure, drainer_thread
from routilux.core._context import current_activation
from routilux.core._growth import SAMPLE_EVERY, observe
from routilux.core._hook_table import HookTable, call_hook, hook_failed
from routilux.core._names import unknown
from routilux.core._next import ask_policy, take_all_slots_ready, take_immediate
from routilux.core._node import (
    ALL_SLOTS_READY,
    ASYNC,
    BLOCKING,
    IMMEDIATE_ONE_SLOT,
    REMOTE,
    STUB,
    Node,
    build_nodes,
)
from routilux.core.activation import ActivationRecord
from routilux.core.error_handler import ErrorStrategy
from routilux.core.errors import (
    ConfigurationError,
    ConfigurationTypeError,
    SlotHandlerError,
    SlotQueueFullError,
    StateError,
)
from routilux.core.hooks import HOLD, Observer
from routilux.core.job import JobContext, JobStatus
from routilux.core.queue import QueuedItem, SlotQueue
from routilux.core.state import WorkerState, WorkerStatus

if TYPE_CHECKING:
    from routilux.core.engine import Engine
    from routilux.core.flow import Flow

__all__ = ["Scheduler", "emit_in_context"]

_log = logging.getLogger("routilux")
# Enum members read once: a module constant is cheaper than an attribute of the enum class.
_PAUSED = WorkerStatus.PAUSED
_BUSY = WorkerStatus.RUNNING


class DrainerCell:
    """Where a drainer thread keeps the activation it runs (compared by identity)."""

    __slots__ = ("activation",)

    def __init__(self) -> None:
        self.activation: ActivationRecord | None = None


class Scheduler(Backpressure):
    """Queues, candidates, drainers and job accounting of one worker (see the module doc).

    ``Worker`` builds on it with the public face: control, inspection and edits.
    """

    def __init__(self, runtime: Engine, flow: Flow, flow_name: str, worker_id: str) -> None:
        super().__init__(runtime.thread_pool_size, runtime._timers)
        self.runtime = runtime
        self.flow = flow
        self.flow_name = flow_name
        self.worker_id = worker_id
        self.state = WorkerState(worker_id, flow_name)
        self.state._worker = self  # type: ignore[attr-defined]  # lets emit(worker_state=) route
        self.nodes: dict[str, Node] = build_nodes(self, flow)
        self._changed = threading.Condition(self._lock)
        self._candidates: deque[tuple[Node, JobContext]] = deque()
        # Posts handed over without the lock (see post() and the inbox rule above).
        self._inbox: deque[tuple[Node, SlotQueue, QueuedItem, JobContext]] = deque()
        # Activations decided and waiting to run before any candidate: parked by a
        # breakpoint (held), or due for another attempt under RETRY (retries).
        self._held: deque[ActivationRecord] = deque()
        self._retries: deque[ActivationRecord] = deque()
        self._jobs: dict[str, JobContext] = {}
        self._seq = itertools.count(1)
        self._quiet_waiters = 0  # threads in wait_until_quiet: notify only when there are any
        self._offloaded = 0  # activations handed to the event loop and not yet completed
        self._room_waiters = 0  # posts and emits waiting for room in a full "block" slot
        # One cell per drainer thread holding the activation it runs (for shutdown's report).
        self._cells: list[DrainerCell] = []
        self._observers: list[Observer] = []
        self._hooks = HookTable([*runtime._observers])
        # Set by Worker.locked() while a thread holds the lock through it, so inspection
        # called inside it does not take the lock a second time.
        self._lock_owner = 0
        # Called (under the lock) when a drainer found nothing to do and is about to leave:
        # lets a test post at exactly that moment, the narrowest race of lock-free posting.
        self._leaving_probe: Callable[[], None] | None = None

    # -- observers -----------------------------------------------------------------------

    def _refresh_hooks_locked(self) -> None:
        self._take_posts_locked()  # posted before the change: handled as before it
        self._hooks = HookTable([*self.runtime._observers, *self._observers])

    # -- putting data in -----------------------------------------------------------------

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
        """Queue ``data`` in ``routine_id``'s ``slot`` as a new job and return the job.

        Into a full bounded slot, ``block`` (default: the slot's ``on_full``) waits for room
        for at most ``timeout`` seconds (default: the slot's ``block_timeout``) before
        raising :class:`~routilux.SlotQueueFullError`.
        """
        node = self._node(routine_id)
        queue = node.queues.get(slot)
        if queue is None:
            raise ConfigurationError(unknown("slot", slot, node.queues, f"routine {routine_id!r}"))
        if timeout is not None:
            _check.seconds("timeout", timeout)
        if block is not None and not isinstance(block, bool):
            raise TypeError(f"block must be True, False or None, got {block!r}")
        if metadata is not None and not isinstance(metadata, dict):
            raise ConfigurationTypeError(
                f"metadata must be a dict, got {type(metadata).__name__} {metadata!r:.80}"
            )
        if job_id is not None:
            self.runtime._check_new_job_id(job_id)
        payload = dict(data) if isinstance(data, dict) else ({} if data is None else data)
        job = JobContext(self.flow_name, self.worker_id, job_id=job_id, metadata=metadata)
        item = QueuedItem(payload, job)
        # Counted before it is queued, so a drainer that finishes it at once never takes the
        # runtime's count of unfinished jobs below what wait_until_all_jobs_finished sees.
        self.runtime._job_opened()
        if (
            self._hooks.quick_posts
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
                spawn = self._wants_drainer_locked(False)
            if spawn:
                self._start_drainer()
            return job
        refused: Exception | None = None
        deadline: float | None = None
        while True:
            spawn = False
            wait_for_room = False
            with self._lock:
                self._take_posts_locked()  # earlier posts of this thread go first
                if self._stopped:
                    refused = StateError(
                        f"worker {self.worker_id} is stopped; it takes no more posts"
                    )
                elif queue.max_length is None or queue.has_room():
                    spawn = self._accept_post_locked(node, queue, item, job)
                else:
                    mode = queue.on_full if block is None else ("block" if block else "raise")
                    if mode == "drop_oldest":
                        self._drop_oldest_locked(queue)
                        spawn = self._accept_post_locked(node, queue, item, job)
                    elif mode != "block":
                        refused = SlotQueueFullError(
                            f"slot {routine_id}.{slot} is full ({queue.max_length} queued); "
                            "the post was not accepted"
                        )
                    else:
                        if deadline is None:
                            wait = queue.block_timeout if timeout is None else timeout
                            deadline = FOREVER if wait is None else time.monotonic() + wait
                        if time.monotonic() >= deadline:
                            refused = SlotQueueFullError(
                                f"slot {routine_id}.{slot} stayed full ({queue.max_length} "
                                "queued) for the whole timeout; the post was not accepted"
                            )
                        else:
                            wait_for_room = True
                            spawn = self._wait_for_room_locked(deadline)
            if spawn:
                self._start_drainer()
            if not wait_for_room:
                break
        if refused is not None:
            self.runtime._job_closed()
            raise refused
        return job

    def _accept_post_locked(
        self, node: Node, queue: SlotQueue, item: QueuedItem, job: JobContext
    ) -> bool:
        """Queue a post's item as a new job; return whether to start a drainer."""
        self._jobs[job.job_id] = job
        self.state._status = _PAUSED if self._paused else _BUSY
        for hook in self._hooks.job_started:
            call_hook(hook, self, job)
        self._enqueue_locked(node, queue, item, job)
        job.inflight = 1
        if not self._drainers or not (
            self._spawn_check_armed or self._drainers >= self._max_drainers
        ):
            return self._wants_drainer_locked(False)
        return False

    def route(
        self, activation: ActivationRecord | None, node: Node, event: str, data: dict[str, Any]
    ) -> None:
        """Deliver ``data`` emitted by ``node``'s ``event`` to every connected slot."""
        hooks = self._hooks
        single = node.single_routes.get(event)
        if single is not None and activation is not None and not hooks.routes_observed:
            # The hot path: one target, from inside logic, nobody watching slots or events.
            target, queue = single
            owner = activation.job
            item = QueuedItem(data, owner)
            activation.add_emitted(event, data)
            with self._lock:
                if owner._stopped:
                    return  # the job failed or was cancelled: its data goes nowhere
                if queue.max_length is not None and len(queue._items) >= queue.max_length:
                    self._emit_into_full_locked(queue, node, event)
                    if owner._stopped:
                        return  # stopped while waiting for room
                queue._items.append(item)
                self._candidates.append((target, owner))
                if hooks.keeps_produced:
                    activation.add_produced(target.routine_id, queue.name, item)
                owner.inflight += 1
                # The usual answer, found without a call: a running drainer (the emitting
                # one) takes the candidate, or a spawn check is already watching.
                if self._drainers and (
                    self._spawn_check_armed or self._drainers >= self._max_drainers
                ):
                    return
                spawn = self._wants_drainer_locked(True)
            if spawn:
                self._start_drainer()
            return
        targets = node.routes.get(event)
        if targets is None:
            node.routine.get_event(event)  # raises for an unknown event
            targets = []
        if activation is not None:
            activation.add_emitted(event, data)
        job = activation.job if activation is not None else None
        if not targets and not hooks.event_emitted:
            return
        with self._lock:
            if job is None:
                job = self._open_job_locked()
            if job._stopped:
                return
            while True:  # waiting for room in one slot can let another fill up
                full = next((q for _, q in targets if not q.has_room()), None)
                if full is None:
                    break
                self._emit_into_full_locked(full, node, event)
                if job._stopped:
                    return
            candidates = self._candidates
            watched = hooks.slot_received
            keep = activation if activation is not None and hooks.keeps_produced else None
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
            for hook in hooks.event_emitted:
                if call_hook(hook, self, activation, event, data) == HOLD:
                    self._pause_locked()
            spawn = self._wants_drainer_locked(activation is not None) if targets else False
        if spawn:
            self._start_drainer()

    def _take_posts_locked(self) -> None:
        """Move the posts handed over without the lock into their slots (the inbox rule)."""
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
        for hook in self._hooks.slot_received:
            if call_hook(hook, self, node.routine_id, queue.name, item) == HOLD:
                self._pause_locked()

    def _open_job_locked(self) -> JobContext:
        """A job for data put in from outside any activation (``emit(worker_state=...)``)."""
        job = JobContext(self.flow_name, self.worker_id)
        self._jobs[job.job_id] = job
        self.runtime._job_opened()
        for hook in self._hooks.job_started:
            call_hook(hook, self, job)
        return job

    # -- drainers ------------------------------------------------------------------------

    def _backlog_locked(self) -> int:
        """Activations to run that no idle drainer is about to take."""
        waiting = len(self._candidates) + len(self._held) + len(self._retries)
        return waiting - (self._drainers - self._running)

    def _start_drainer(self) -> None:
        try:
            self.runtime._pool.submit(self._drain)
        except RuntimeError:  # the pool was shut down under us
            with self._lock:
                self._drainers -= 1

    def _start_drainer_locked(self) -> None:
        try:
            self.runtime._pool.submit(self._drain)
        except RuntimeError:
            self._drainers -= 1

    def _drain(self) -> None:
        """A drainer: run activations until there is nothing to do (or the worker pauses).

        The drainer counts as running from its first activation until it exits: booking one
        activation and taking the next happen under one lock acquisition, so the count would
        only go down and up again.
        """
        lock = self._lock
        state = self.state
        set_current = current_activation.set
        clock = time.perf_counter
        finished: ActivationRecord | None = None
        cell = DrainerCell()
        drainer_thread.scheduler = self  # an emit that waits for room must know
        with lock:
            self._cells.append(cell)
            self._running += 1
        # The context points at the running activation (for emit, print, get_current_job);
        # it is set per activation and restored once, when the drainer leaves.
        outer = set_current(None)
        try:
            while True:
                with lock:
                    if finished is not None:
                        # _book_locked, written out: it runs once per activation.
                        self._progress += 1
                        node = finished._node
                        node.activations += 1
                        job = finished.job
                        if finished.error is not None:
                            node.failures += 1
                            self._apply_error_strategy_locked(finished, job)
                        job.inflight -= 1
                        if job.inflight == 0:
                            self._finish_job_locked(job)
                    activation = self._next_locked(True)
                    if activation is None:
                        if self._leaving_probe is not None:
                            self._leaving_probe()
                        self._running -= 1
                        self._drainers -= 1
                        self._cells.remove(cell)
                        if self._quiet_waiters and self._running == 0:
                            self._changed.notify_all()
                if activation is None:
                    # A post may have gone into the inbox after _next_locked emptied it,
                    # seeing this drainer still counted: look once more now that it is not.
                    if self._inbox and self._rejoin(cell):
                        finished = None
                        continue
                    return
                node = activation._node
                # One countdown per node decides everything rare, so that quick logic pays
                # one decrement and one test: logic awaited on the event loop, logic that
                # blocks, and the activations timed to tell the two kinds of sync logic
                # apart (_growth.observe keeps the countdown at 0 for the first two).
                node.sample_in -= 1
                sampled = False
                if node.sample_in <= 0:
                    dispatch = node.dispatch
                    if dispatch == ASYNC:
                        with lock:
                            self._offloaded += 1
                        self.runtime._async_loop().submit(self, activation)
                        finished = None
                        continue
                    if dispatch == REMOTE:
                        with lock:
                            self._offloaded += 1
                        options = node.remote
                        assert options is not None
                        self.runtime._remote_executor(options.executor).submit(self, activation)
                        finished = None
                        continue
                    if dispatch == BLOCKING:
                        # This drainer is about to block: another one takes what waits.
                        with lock:
                            grow = self._grow_for_blocking_locked()
                        if grow:
                            self._start_drainer()
                        sampled = node.activations % SAMPLE_EVERY == 0
                    else:
                        sampled = True
                cell.activation = activation
                set_current(activation)
                activation.attempts += 1
                hooks = self._hooks
                cpu = thread_time() if sampled else 0.0
                # Only observers see a drained activation's record: time it only for them.
                timed = hooks.timed
                start = clock() if timed or sampled else 0.0
                inputs = activation.inputs
                logic = node.logic
                assert logic is not None  # stubs never become activations
                try:
                    if len(inputs) == 1:
                        # One slot, as most routines have: a plain call, no argument tuple.
                        for only in inputs.values():
                            result = logic(only, activation.policy_message, state)
                    else:
                        result = logic(*inputs.values(), activation.policy_message, state)
                    if result is not None:
                        refuse_awaitable(activation, result)
                except BaseException as exc:
                    if sampled:
                        observe(node, clock() - start, thread_time() - cpu)
                    delay = self._failed_attempt(activation, exc, start or clock())
                    if delay is not None:
                        # Another attempt is due later: this drainer moves on meanwhile.
                        set_current(None)
                        self._retry_later(activation, delay)
                        finished = None
                        continue
                else:
                    if sampled:
                        observe(node, clock() - start, thread_time() - cpu)
                    if timed:
                        activation.started_at = WALL_OFFSET + start
                        activation.duration = clock() - start
                for sink in hooks.sinks:
                    try:
                        sink(activation)
                    except BaseException as exc:  # "must not raise", but it is user code
                        hook_failed(sink, exc)
                if hooks.activation_finished or hooks.job_finished:
                    set_current(None)  # observers run outside the activation
                    for hook in hooks.activation_finished:
                        call_hook(hook, self, activation)
                finished = activation
        finally:
            drainer_thread.scheduler = None
            current_activation.reset(outer)

    def _rejoin(self, cell: DrainerCell) -> bool:
        """Whether a leaving drainer should stay for posts that came in as it left."""
        with self._lock:
            self._take_posts_locked()
            if self._drainers or not self._candidates:
                return False  # a new drainer has started, or there is nothing to run
            if self._paused or self._stopped:
                return False
            self._drainers = 1
            self._running += 1
            self._cells.append(cell)
            return True

    def _grow_for_blocking_locked(self) -> bool:
        """Start one more drainer now if work waits and the pool allows (blocking logic)."""
        if self._paused or self._stopped or self._drainers >= self._max_drainers:
            return False
        if self._backlog_locked() <= 0:
            return False
        self._drainers += 1
        return True

    # -- deciding what runs next ---------------------------------------------------------

    def _next_locked(self, allow_hold: bool) -> ActivationRecord | None:
        """The next activation to run, deciding policies for waiting candidates as needed."""
        if self._inbox:
            self._take_posts_locked()
        if self._stopped or (self._paused and allow_hold):
            return None
        if self._held:
            return self._held.popleft()
        if self._retries:
            return self._retries.popleft()
        candidates = self._candidates
        while candidates:
            node, job = candidates.popleft()
            hold = False
            if job._stopped:
                activation = None
            elif node.fast_policy is IMMEDIATE_ONE_SLOT:
                activation = take_immediate(node, job, self._seq)
            else:
                activation, hold = self._decide_locked(node, job)
            job.inflight -= 1
            if activation is None:
                if job.inflight == 0:
                    self._finish_job_locked(job)
                continue
            if job is not activation.job and job.inflight == 0:
                self._finish_job_locked(job)
            for hook in self._hooks.activation_starting:
                if call_hook(hook, self, activation) == HOLD:
                    hold = True
            if self._room_waiters:
                self._changed.notify_all()  # it took data: a full slot may have room
            if hold and allow_hold:
                # Parked with its inputs; the next step() or resume() runs it first.
                self._held.append(activation)
                self._pause_locked()
                return None
            return activation
        return None

    def _decide_locked(self, node: Node, job: JobContext) -> tuple[ActivationRecord | None, bool]:
        """Decide a node whose policy is not the inline immediate one."""
        if node.fast_policy is ALL_SLOTS_READY:
            return take_all_slots_ready(node, job, self._seq), False
        if node.fast_policy is STUB:
            return None, False  # no logic yet: the data waits in the slots
        outcome = ask_policy(node, job, self.state, self._seq)
        if outcome.error is not None:
            job.errors.append(outcome.error)
            self._stop_job_locked(job, outcome.error)
            self.runtime._note_interrupt(outcome.error.__cause__)
        elif outcome.retry_after is not None:
            job.inflight += 1  # the timer's candidate, until it fires
            self.runtime._timers.call_later(outcome.retry_after, lambda: self._recheck(node, job))
        return outcome.activation, outcome.hold

    def _recheck(self, node: Node, job: JobContext) -> None:
        """A policy asked to be asked again (``retry_after``): make the routine a candidate."""
        with self._lock:
            if self._stopped:
                return
            self._candidates.append((node, job))  # the timer's inflight count carries over
            spawn = self._wants_drainer_locked(False)
        if spawn:
            self._start_drainer()

    # -- booking and finishing jobs ------------------------------------------------------

    def _book_locked(self, activation: ActivationRecord) -> None:
        """Book a finished activation: counters, error strategy, job completion."""
        self._progress += 1
        node = activation._node
        node.activations += 1
        job = activation.job
        if activation.error is not None:
            node.failures += 1
            self._apply_error_strategy_locked(activation, job)
        job.inflight -= 1
        if job.inflight == 0:
            self._finish_job_locked(job)

    def _apply_error_strategy_locked(self, activation: ActivationRecord, job: JobContext) -> None:
        cause = activation.error
        error = SlotHandlerError(
            f"routine {activation.routine_id!r} raised {cause!r}"
            + (f" after {activation.attempts} attempts" if activation.attempts > 1 else "")
        )
        error.__cause__ = cause
        if isinstance(cause, Exception):
            strategy = activation._node.error_handler.strategy
            if strategy is ErrorStrategy.SKIP:
                return
            job.errors.append(error)
            if strategy is ErrorStrategy.CONTINUE:
                return
        else:
            # KeyboardInterrupt, SystemExit...: the job fails whatever the strategy, and the
            # runtime raises it again in the thread that waits (never in a pool thread).
            job.errors.append(error)
            self.runtime._note_interrupt(cause)
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
        done = job._finish(status)
        self._jobs.pop(job.job_id, None)
        if not self._jobs and not self._paused and not self._stopped:
            self.state._status = WorkerStatus.IDLE
        for hook in self._hooks.job_finished:
            call_hook(hook, self, job)
        if done:
            self.runtime._job_closed()  # else when the last hold goes (hold_completion)

    def _pause_locked(self) -> None:
        if not self._stopped:
            self._paused = True
            self.state._status = WorkerStatus.PAUSED
            self._changed.notify_all()

    def _node(self, routine_id: str) -> Node:
        node = self.nodes.get(routine_id)
        if node is None:
            raise ConfigurationError(
                unknown("routine", routine_id, self.nodes, f"flow {self.flow_name!r}")
            )
        return node


def emit_in_context(routine: object, event: str, data: dict[str, Any]) -> bool:
    """Route an emit that ``routine`` makes from inside its own running logic.

    Returns False when the emit does not come from there; ``Routine.emit`` then finds the
    worker another way. It lives here, compiled with the scheduler, because it runs once per
    emit.
    """
    activation = current_activation.get()
    if activation is None:
        return False
    node = activation._node
    if node.routine is not routine:
        return False
    node.worker.route(activation, node, event, data)
    return True
