"""StoreRecorder: an Observer that checkpoints every finished activation into a store.

What it writes, and when:

- data posted from outside (``post``, ``inject``, fork): one transaction as it is queued,
  together with the job's row when the job is new;
- each finished activation: ONE transaction that marks its inputs consumed, adds the data
  its emits queued downstream and adds its row (emitted events, routine state after it,
  error, attempts);
- each started attempt of a routine under RETRY: its count, so retries survive a restart;
- each finished job: its status;
- data dropped from a slot with the debugger: marked dropped, in its own transaction (after
  the activation that emitted it, if that one is not committed yet).

An activation is committed only after the activations that produced its inputs: a
consumer that finishes first waits for its producers' commits. So the store never holds a
completed activation whose inputs might still be produced again after a crash.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from routilux.core.activation import ActivationRecord
from routilux.core.error_handler import ErrorStrategy
from routilux.core.errors import SerializationError
from routilux.core.hooks import Observer
from routilux.core.job import JobContext, JobStatus, get_current_job
from routilux.core.queue import QueuedItem
from routilux.core.worker import Worker
from routilux.store._json import encode, encode_or_none
from routilux.store.sqlite import ActivationValues, ItemValues, SqliteStore

__all__ = ["StoreRecorder"]

_log = logging.getLogger("routilux.store")
_FATAL = (ErrorStrategy.STOP, ErrorStrategy.RETRY)


class _Track:
    """What the recorder keeps in memory about one unfinished job."""

    __slots__ = ("key", "pending_row", "step")

    def __init__(self, key: int, step: int, pending_row: tuple[Any, ...] | None) -> None:
        self.key = key
        self.step = step  # steps committed so far
        # The job's row, written with its first data (so a job never exists without it).
        self.pending_row = pending_row


class StoreRecorder(Observer):
    """Writes what workers do into ``store``; attach it with ``runtime.add_observer``.

    Args:
        store: Where to write.
    """

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self._cond = threading.Condition()
        self._tracks: dict[str, _Track] = {}
        # uids queued by emits whose activation is not committed yet; consumers wait on them.
        self._unsettled: set[int] = set()
        self._void: set[int] = set()  # uids of emits whose activation was not recorded
        # Unsettled uids dropped from their slot: written once their activation commits.
        self._drops: dict[int, QueuedItem] = {}
        self._local = threading.local()
        self._prior_attempts: dict[tuple[str, str, str], int] = {}
        self._forks: dict[str, tuple[int, int, list[tuple[str, str]]]] = {}
        self._known: dict[str, bool] = {}  # job ids resume is about to hand over
        # Activations that resume a count of attempts begun before a restart: the worker
        # counts only its own, so the earlier ones are added on the first error or at the end.
        self._carried: dict[ActivationRecord, int] = {}

    def __repr__(self) -> str:
        return f"<StoreRecorder {self.store.path}>"

    # -- set up by resume and fork -----------------------------------------------------------

    def expect_resume(self, job_id: str, attempts: list[tuple[str, str, int]]) -> None:
        """Job ``job_id`` (in the store) is about to be resumed, with attempts already begun
        before the restart, per ``(routine_id, inputs_json)``."""
        with self._cond:
            self._known[job_id] = True
            for routine_id, inputs, begun in attempts:
                self._prior_attempts[(job_id, routine_id, inputs)] = begun

    def expect_known_id(self, job_id: str) -> None:
        """A job is about to be posted with an id chosen by the caller: look it up."""
        with self._cond:
            self._known[job_id] = True

    def expect_fork(
        self, job_id: str, parent_key: int, parent_step: int, baselines: list[tuple[str, str]]
    ) -> None:
        """The next job ``job_id`` is a fork: record its parent and starting states."""
        with self._cond:
            self._forks[job_id] = (parent_key, parent_step, baselines)

    # -- observer hooks ----------------------------------------------------------------------

    def job_started(self, worker: Worker, job: JobContext) -> None:
        try:
            self._start_track(worker, job)
        except Exception:
            _log.exception("could not record the start of job %s", job.job_id)

    def _start_track(self, worker: Worker, job: JobContext) -> None:
        store = self.store
        # Only jobs handed over by resume (or posted with an explicit, known id) exist in
        # the store; a fresh random id needs no look-up.
        with self._cond:
            known = self._known.pop(job.job_id, False)
        key = store.job_key(job.job_id) if known else None
        with self._cond:
            if key is not None:  # resumed: the row exists, only its status changes
                self._tracks[job.job_id] = _Track(key, store.last_step(key), None)
                store.write_job_status(key, JobStatus.RUNNING.value, None, None)
                return
            parent_key, parent_step, baselines = self._forks.pop(job.job_id, (None, None, []))
            key = store.new_job_key()
            row = (
                key,
                job.job_id,
                worker.flow_name,
                JobStatus.RUNNING.value,
                encode(job.metadata, f"job {job.job_id!r} metadata"),
                job.created_at,
                parent_key,
                parent_step,
            )
            self._tracks[job.job_id] = _Track(key, 0, (row, [(key, r, s) for r, s in baselines]))

    def slot_received(self, worker: Worker, routine_id: str, slot: str, item: QueuedItem) -> None:
        if get_current_job() is item.job:
            # Emitted by the activation running in this thread: it is written with that
            # activation's commit. Until then a consumer must not commit before it.
            self._unsettled.add(item.uid)
            pending = getattr(self._local, "pending", None)
            if pending is None:
                pending = self._local.pending = []
            pending.append(item.uid)
            return
        try:
            self._write_posted(routine_id, slot, item)
        except Exception:
            # Raising here would corrupt the worker's accounting; the post was queued anyway.
            _log.exception("could not record data posted to %s.%s", routine_id, slot)

    def _write_posted(self, routine_id: str, slot: str, item: QueuedItem) -> None:
        store = self.store
        item_id = store.item_id(item.uid)
        if item_id == item.uid:
            return  # resumed data: already in the store
        job = item.job
        assert job is not None
        data = encode(item.data, f"data posted to routine {routine_id!r} slot {slot!r}")
        with self._cond:
            track = self._tracks.get(job.job_id)
            if track is None:
                return
            pending, track.pending_row = track.pending_row, None
            row, baselines = pending if pending is not None else (None, [])
            store.write_posted(
                row, [(item_id, track.key, routine_id, slot, data, None, track.step)], baselines
            )

    def slot_dropped(self, worker: Worker, routine_id: str, slot: str, item: QueuedItem) -> None:
        # Called under the worker's lock: never wait here for the emitting activation (its
        # logic may need that lock to emit again); leave the drop to its commit instead.
        with self._cond:
            if item.uid in self._unsettled:
                self._drops[item.uid] = item
                return
        self._write_drop(item)

    def _write_drop(self, item: QueuedItem) -> None:
        job = item.job
        if job is None or item.uid in self._void:
            return  # never recorded, so never queued again
        try:
            with self._cond:
                track = self._tracks.get(job.job_id) or self._late_track(job)
                self.store.write_drop(self.store.item_id(item.uid), track.step)
        except Exception:
            # A drop that is not recorded only means the data runs after a resume.
            _log.exception("could not record that %r was dropped", item)

    def activation_starting(self, worker: Worker, record: ActivationRecord) -> None:
        handler = worker.nodes[record.routine_id].error_handler
        if not self._prior_attempts and handler.strategy is not ErrorStrategy.RETRY:
            return
        try:
            inputs = self._inputs_key(record)
            job_id = record.job_id or ""
            begun = 0
            if self._prior_attempts:
                with self._cond:
                    begun = self._prior_attempts.pop((job_id, record.routine_id, inputs), 0)
                    if begun:
                        self._carried[record] = begun
            if handler.strategy is ErrorStrategy.RETRY:
                self._write_attempts(record, inputs, begun + 1)
        except Exception:
            _log.exception("could not record the attempts of %r", record)

    def _carry_attempts(self, record: ActivationRecord) -> None:
        """Add the attempts begun before a restart to the count of this run's attempts."""
        with self._cond:
            begun = self._carried.pop(record, 0)
        record.attempts += begun

    def error(self, worker: Worker, record: ActivationRecord, exc: BaseException) -> None:
        if self._carried:
            # Before the worker decides on a retry: the allowance counts the earlier attempts.
            self._carry_attempts(record)
        handler = worker.nodes[record.routine_id].error_handler
        if handler.strategy is ErrorStrategy.RETRY and record.attempts <= handler.max_retries:
            # Written before the retry starts: a crash during it still counts it.
            self._write_attempts(record, self._inputs_key(record), record.attempts + 1)

    def _inputs_key(self, record: ActivationRecord) -> str:
        item_id = self.store.item_id
        return json.dumps([item_id(item.uid) for item in record.consumed])

    def _write_attempts(self, record: ActivationRecord, inputs: str, begun: int) -> None:
        job = record.job
        if job is None:
            return
        with self._cond:
            track = self._tracks.get(job.job_id)
            if track is not None:
                self.store.write_attempts(track.key, record.routine_id, inputs, begun)

    def activation_finished(self, worker: Worker, record: ActivationRecord) -> None:
        if self._carried:
            self._carry_attempts(record)
        mine: list[int] = getattr(self._local, "pending", None) or []
        self._local.pending = None
        try:
            self._record(worker, record, mine)
        finally:
            if mine:
                with self._cond:
                    self._unsettled.difference_update(mine)
                    self._cond.notify_all()
                    dropped = [self._drops.pop(uid) for uid in mine if uid in self._drops]
                for item in dropped:
                    self._write_drop(item)

    def _record(self, worker: Worker, record: ActivationRecord, mine: list[int]) -> None:
        job = record.job
        if job is None:
            return
        consumed = record.consumed
        if self._unsettled:
            with self._cond:
                self._cond.wait_for(lambda: not any(i.uid in self._unsettled for i in consumed))
        if self._skip(worker, record, job):
            with self._cond:
                self._void.update(mine)
            return
        store = self.store
        item_id = store.item_id
        rid = record.routine_id
        try:
            produced_data = [
                (r, s, item, encode(item.data, f"routine {rid!r} emitted to {r!r} slot {s!r}"))
                for r, s, item in record.produced
            ]
            emitted = encode(record.emitted, f"routine {rid!r} emitted events")
        except SerializationError as exc:
            self._refuse(record, exc, mine)
            return
        error = record.error
        fatal = error is not None and worker.nodes[rid].error_handler.strategy in _FATAL
        inputs = [item_id(item.uid) for item in consumed]
        with self._cond:
            try:
                # Read under the lock, so the latest commit holds the latest state even when
                # activations of one routine finish concurrently.
                state = encode_or_none(
                    worker.state.get_routine_state(rid), f"routine {rid!r} routine state"
                )
            except SerializationError as exc:
                self._refuse(record, exc, mine)
                return
            track = self._tracks.get(job.job_id) or self._late_track(job)
            act_id = store.new_act_id()
            track.step += 1
            step = track.step
            key = track.key
            produced: list[ItemValues] = [
                (item_id(item.uid), key, r, s, data, act_id, step)
                for r, s, item, data in produced_data
            ]
            activation: ActivationValues = (
                act_id,
                key,
                step,
                record.seq,
                rid,
                json.dumps(inputs),
                emitted,
                state,
                None if error is None else repr(error),
                int(fatal),
                record.attempts,
                record.started_at,
                record.duration,
            )
            try:
                store.write_activation(activation, [(act_id, i) for i in inputs], produced)
            except BaseException:
                track.step -= 1
                self._void.update(mine)
                raise

    def _refuse(self, record: ActivationRecord, exc: SerializationError, mine: list[int]) -> None:
        """Leave out an activation whose data is not JSON, and fail it with ``exc``."""
        # The worker applies the routine's error strategy to it once this hook returns.
        if record.error is None:
            record.error = exc
        with self._cond:
            self._void.update(mine)

    def _skip(self, worker: Worker, record: ActivationRecord, job: JobContext) -> bool:
        """Whether to leave ``record`` out, so that resuming runs it again.

        Left out: an activation that consumed data whose producer was left out, and one that
        emitted after its job was stopped (the worker dropped those emits, so recording it as
        done would lose them).
        """
        if self._void and any(item.uid in self._void for item in record.consumed):
            return True
        if job.error is None or not record.emitted:
            return False
        fanout: dict[str, int] = {}
        for c in worker.flow.connections:
            if c.source_id == record.routine_id:
                fanout[c.event] = fanout.get(c.event, 0) + 1
        expected = sum(fanout.get(event, 0) for event, _ in record.emitted)
        return len(record.produced) < expected

    def _late_track(self, job: JobContext) -> _Track:
        """A track for a job that finished while one of its activations still ran."""
        key = self.store.job_key(job.job_id)
        if key is None:
            raise SerializationError(f"job {job.job_id} was never recorded")
        track = _Track(key, self.store.last_step(key), None)
        return track

    def job_finished(self, worker: Worker, job: JobContext) -> None:
        with self._cond:
            track = self._tracks.pop(job.job_id, None)
            if track is None:
                return
            if track.pending_row is not None:  # finished before any data was queued
                row, baselines = track.pending_row
                self.store.write_posted(row, [], baselines)
            error = None if job.error is None else repr(job.error)
            self.store.write_job_status(track.key, job.status.value, job.finished_at, error)
        # Forget the attempts of a finished job (a failed job resumed later starts afresh).
        if self._prior_attempts:
            with self._cond:
                for k in [k for k in self._prior_attempts if k[0] == job.job_id]:
                    del self._prior_attempts[k]
