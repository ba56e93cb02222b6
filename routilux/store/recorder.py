"""StoreRecorder: an Observer that checkpoints every finished activation into a store.

What it writes, and when:

- data posted from outside (``post``, ``inject``, resume, fork): before the call returns,
  together with the job's row when the job is new;
- each finished activation: its inputs marked consumed, the data its emits queued
  downstream, and its row (emitted events, routine state after it, error, attempts), all in
  one transaction, committed before the worker books the activation;
- each started attempt of a routine under RETRY: its count, so retries survive a restart;
- data dropped from a slot with the debugger: marked dropped;
- each finished job: its status.

Writes go through a :class:`~routilux.store._commits.CommitQueue`, which groups the writes of
threads that finish together into one transaction and never commits an activation before
the activations that produced its inputs. So the store never holds a completed activation
whose inputs might still be produced again after a crash.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from routilux.core.activation import ActivationRecord
from routilux.core.error_handler import ErrorStrategy
from routilux.core.errors import SerializationError, SlotHandlerError, StateError
from routilux.core.hooks import Observer
from routilux.core.job import JobContext, JobStatus, get_current_job
from routilux.core.queue import QueuedItem
from routilux.core.worker import Worker
from routilux.store._commits import CommitQueue
from routilux.store._state import Journal, StateTracker
from routilux.store._writes import (
    ActivationWrite,
    AttemptsWrite,
    DropWrite,
    PostedWrite,
    StateWrite,
    StatusWrite,
    Track,
    Write,
)
from routilux.store.codec import encode, encode_str, try_encode
from routilux.store.errors import CommitError
from routilux.store.sqlite import SqliteStore

__all__ = ["StoreRecorder"]


class _Where:
    """What data is, for an error message, formatted only if there is an error."""

    __slots__ = ("routine_id", "slot", "target")

    def __init__(self, routine_id: str, target: str | None = None, slot: str | None = None):
        self.routine_id, self.target, self.slot = routine_id, target, slot

    def __str__(self) -> str:
        if self.target is None:
            return f"routine {self.routine_id!r} emitted events"
        return f"routine {self.routine_id!r} emitted to {self.target!r} slot {self.slot!r}"


def _int_list(ids: list[int]) -> str:
    """``ids`` as JSON text (what json.dumps gives, for a list of ints, at a third of the cost)."""
    return "[" + ", ".join(map(str, ids)) + "]"


_EVENT_JSON: dict[str, str] = {}


def _event_json(event: str) -> str:
    """An event's name as JSON text (an emit's part of the history), made once per name."""
    text = _EVENT_JSON.get(event)
    if text is None:
        text = _EVENT_JSON[event] = encode_str(event)
    return text


_log = logging.getLogger("routilux.store")
_FATAL = (ErrorStrategy.STOP, ErrorStrategy.RETRY)


class StoreRecorder(Observer):
    """Writes what workers do into ``store``; attach it with ``runtime.add_observer``.

    Args:
        store: Where to write.
    """

    needs_produced = True  # each activation's row lists the items its emits queued

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self._queue = CommitQueue(store)
        self._lock = self._queue.lock
        # Running jobs, to fail one whose writes could not be committed.
        self._live: dict[str, tuple[Worker, JobContext]] = {}
        # Per running job, what lets it be done (Worker.hold_completion): called once its
        # final status is committed, so a job whose wait() returned is all in the file.
        self._holds: dict[str, Callable[[], None]] = {}
        self._closing = False
        self._released: list[str] = []
        # The JSON of the data this thread is posting (see posting).
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
        with self._lock:
            self._known[job_id] = True
            for routine_id, inputs, begun in attempts:
                self._prior_attempts[(job_id, routine_id, inputs)] = begun

    def expect_fork(
        self, job_id: str, parent_key: int, parent_step: int, baselines: list[tuple[str, str]]
    ) -> None:
        """The next job ``job_id`` is a fork: record its parent and starting states."""
        with self._lock:
            self._forks[job_id] = (parent_key, parent_step, baselines)

    # -- jobs --------------------------------------------------------------------------------

    def track(self, worker: Worker) -> StateTracker:
        """Follow ``worker``'s state writes from now on (done when its first job starts)."""
        state = worker.state
        with state.lock:
            listener = state.listener
            if isinstance(listener, StateTracker) and listener.queue is self._queue:
                return listener
            tracker = StateTracker(self._queue, state)
            state.set_listener(tracker)
            return tracker

    def closing(self) -> None:
        """The runtime shuts down: jobs it cancels now stay resumable (their leases are
        given up instead of their status set to cancelled)."""
        self._closing = True

    def job_started(self, worker: Worker, job: JobContext) -> None:
        try:
            self.track(worker)
            release = worker.hold_completion(job)
            with self._lock:
                self._live[job.job_id] = (worker, job)
                self._holds[job.job_id] = release
            self._start_track(worker, job)
        except Exception as exc:
            _log.exception("could not record the start of job %s", job.job_id)
            self._fail_job(job.job_id, exc)

    def _start_track(self, worker: Worker, job: JobContext) -> None:
        store, queue = self.store, self._queue
        # Only jobs handed over by resume exist in the store (a post with an id the store
        # holds is refused): a new job's id needs no look-up.
        with self._lock:
            known = self._known.pop(job.job_id, False)
        key = store.job_key(job.job_id) if known else None
        with self._lock:
            if key is not None:  # resumed: the row exists, only its status changes
                track = queue.tracks.get(job.job_id)
                if track is None:
                    track = queue.tracks[job.job_id] = Track(job.job_id, key, store.last_step(key))
                track.finished = False  # a job resumed right after it ended keeps counting
                write = StatusWrite(track, JobStatus.RUNNING.value, None, None)
                queue.enqueue_locked(write)
            else:
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
                    store.owner,
                    store.lease_until(),
                )
                pending = (row, [(key, r, s) for r, s in baselines])
                queue.tracks[job.job_id] = Track(job.job_id, key, 0, pending)
                return  # the row is written with the job's first data
        queue.flush(write)

    def job_finished(self, worker: Worker, job: JobContext) -> None:
        # Called under the worker's lock: nothing here waits for a commit. The job is done
        # (its wait() returns) once its status, queued after all its other writes, commits.
        queue = self._queue
        with self._lock:
            self._live.pop(job.job_id, None)
            release = self._holds.pop(job.job_id, None)
            track = queue.tracks.get(job.job_id)
            if track is not None and not track.finished:
                if self._closing and job.status is JobStatus.CANCELLED and job.error is None:
                    # Cancelled by the shutdown: left running in the file, its lease given
                    # up (once its writes are in), so resume() picks it up as after a crash.
                    self._released.append(job.job_id)
                    status, finished_at, error = JobStatus.RUNNING.value, None, None
                else:
                    status, finished_at = job.status.value, job.finished_at
                    error = None if job.error is None else repr(job.error)
                on_done = None if release is None else self._completion(job, release)
                write = StatusWrite(track, status, finished_at, error, on_done)
                queue.finish_locked(track, write)
                release = None
                # Forget the attempts of a finished job (a failed job resumed later starts
                # afresh).
                if self._prior_attempts:
                    for k in [k for k in self._prior_attempts if k[0] == job.job_id]:
                        del self._prior_attempts[k]
        if release is not None:
            release()  # nothing of it left to commit
        queue.kick()

    @staticmethod
    def _completion(
        job: JobContext, release: Callable[[], None]
    ) -> Callable[[BaseException | None], None]:
        """What completes ``job`` once its status is committed, or could not be."""

        def done(failure: BaseException | None) -> None:
            if failure is not None and job.status is not JobStatus.FAILED:
                # A checkpoint of it, or its end, is not in the file: it must not look
                # completed to its waiters.
                error = CommitError(
                    f"job {job.job_id}: its checkpoint could not be stored: {failure!r}"
                )
                error.__cause__ = failure
                job.error = error
                job.status = JobStatus.FAILED
            release()

        return done

    def release_leases(self) -> None:
        """Commit everything queued, stop committing in the background, and give up the
        leases of the jobs the shutdown left (the runtime calls it when it shuts down)."""
        self._queue.close()
        with self._lock:
            released, self._released = self._released, []
        try:
            self.store.release(released)
        except Exception:
            _log.exception("could not give up the leases of %d jobs", len(released))

    # -- failures ----------------------------------------------------------------------------

    def _check_failures(self) -> None:
        """Fail the jobs whose writes could not be committed (never only logged)."""
        queue = self._queue
        if not queue.failed:
            return
        with self._lock:
            failed, queue.failed = queue.failed, {}
        for job_id, exc in failed.items():
            self._fail_job(job_id, exc)

    def _fail_job(self, job_id: str, exc: BaseException) -> None:
        """Fail job ``job_id`` with ``exc`` as its cause, whatever its error strategy."""
        with self._lock:
            live = self._live.get(job_id)
        if live is None:
            return
        worker, job = live
        error = CommitError(f"job {job_id}: its checkpoint could not be stored: {exc!r}")
        error.__cause__ = exc
        if job.error is None:
            job.error = error
        worker.cancel_job(job)  # with an error set, the job ends as failed

    def _late_track_locked(self, job: JobContext) -> Track:
        """A track for a job that finished (and was forgotten) while an activation ran."""
        key = self.store.job_key(job.job_id)
        if key is None:
            raise StateError(f"job {job.job_id} was never recorded")
        track = self._queue.tracks[job.job_id] = Track(job.job_id, key, self.store.last_step(key))
        track.finished = True
        return track

    # -- data in slots -----------------------------------------------------------------------

    def posting(self, data_json: str | None) -> None:
        """This thread is about to post data whose JSON is ``data_json`` (encoded by the
        caller, to refuse what cannot be stored before anything is queued): its write uses
        that text instead of encoding the data again. None: the post is over.

        The post's write is committed under the worker's lock, before any drainer can take
        the data: logic never runs for a post that a crash could still lose.
        """
        self._local.post = data_json

    def slot_received(self, worker: Worker, routine_id: str, slot: str, item: QueuedItem) -> None:
        if get_current_job() is item.job:
            # Emitted by the activation running in this thread: written with that activation.
            # Until then whatever consumes or drops it waits (see CommitQueue).
            self._queue.unsettled.add(item.uid)
            return
        data_json = getattr(self._local, "post", None)
        try:
            if data_json is not None:
                self._local.post = None  # this thread's post (see posting): one item
            self._write_posted(routine_id, slot, item, data_json)
        except Exception as exc:
            # Raising here would corrupt the worker's accounting: the job fails instead.
            _log.warning("could not record data posted to %s.%s: %r", routine_id, slot, exc)
            if item.job is not None:
                self._queue.failed.setdefault(item.job.job_id, exc)
        self._check_failures()

    def _write_posted(
        self, routine_id: str, slot: str, item: QueuedItem, data: str | None = None
    ) -> None:
        """Commit the write of data put in from outside (``data``: its JSON, if known)."""
        store, queue = self.store, self._queue
        item_id = store.item_id(item.uid)
        if item_id == item.uid:
            return  # resumed data: already in the store
        job = item.job
        assert job is not None
        if data is None:
            data = encode(item.data, f"data posted to routine {routine_id!r} slot {slot!r}")
        with self._lock:
            track = queue.tracks.get(job.job_id)
            if track is None:
                return
            write = PostedWrite(track, [(item_id, routine_id, slot, data)])
            queue.enqueue_locked(write)
        queue.flush(write)

    def slot_dropped(self, worker: Worker, routine_id: str, slot: str, item: QueuedItem) -> None:
        # Called under the worker's lock. Data whose activation is not committed yet is
        # marked right after that commit: the queue holds the drop, this thread goes on.
        job = item.job
        if job is None:
            return
        queue = self._queue
        try:
            with self._lock:
                track = queue.tracks.get(job.job_id) or self._late_track_locked(job)
                write = DropWrite(track, item.uid, self.store.item_id(item.uid))
                queue.enqueue_locked(write)
            queue.flush(write)
        except Exception:
            # A drop that is not recorded only means the data runs after a resume.
            _log.exception(
                "could not record that %r was dropped from %s.%s", item, routine_id, slot
            )

    # -- attempts ----------------------------------------------------------------------------

    def activation_starting(self, worker: Worker, record: ActivationRecord) -> None:
        handler = worker.nodes[record.routine_id].error_handler
        if not self._prior_attempts and handler.strategy is not ErrorStrategy.RETRY:
            return
        try:
            inputs = self._inputs_key(record)
            job_id = record.job_id or ""
            begun = 0
            if self._prior_attempts:
                with self._lock:
                    begun = self._prior_attempts.pop((job_id, record.routine_id, inputs), 0)
                    if begun:
                        self._carried[record] = begun
            if handler.strategy is ErrorStrategy.RETRY:
                self._write_attempts(record, inputs, begun + 1)
        except Exception:
            _log.exception("could not record the attempts of %r", record)

    def _carry_attempts(self, record: ActivationRecord) -> None:
        """Add the attempts begun before a restart to the count of this run's attempts."""
        with self._lock:
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
        return _int_list([item_id(item.uid) for item in record.consumed])

    def _write_attempts(self, record: ActivationRecord, inputs: str, begun: int) -> None:
        job = record.job
        if job is None:
            return
        queue = self._queue
        with self._lock:
            track = queue.tracks.get(job.job_id)
            if track is None:
                return
            write = AttemptsWrite(track, record.routine_id, inputs, begun)
            queue.enqueue_locked(write)
        queue.flush(write)

    # -- activations -------------------------------------------------------------------------

    def activation_finished(self, worker: Worker, record: ActivationRecord) -> None:
        if self._carried:
            self._carry_attempts(record)
        produced = record.produced
        provides = [item.uid for _, _, item in produced] if produced else []
        queue = self._queue
        listener = worker.state.listener
        if type(listener) is StateTracker and listener.queue is queue:
            tracker = listener
        else:
            tracker = self.track(worker)
        write: Write | None = None
        journal = None
        if tracker.journals:  # only this activation's own logic adds its journal
            with self._lock:
                journal = tracker.finish(record)
        if journal is not None and journal.token:
            provides.append(journal.token)
        unstorable: SerializationError | None = None
        try:
            if journal is not None and journal.error is not None:
                raise journal.error
            write = self._enqueue_activation(worker, record, provides, tracker, journal)
        except SerializationError as exc:
            unstorable = exc
        finally:
            if write is None:
                with self._lock:
                    tokens = [uid for uid in provides if uid < 0]
                    items = [uid for uid in provides if uid >= 0]
                    if journal is not None and journal.order and unstorable is None:
                        # Left out, but the state it wrote stays (see _give_up_locked).
                        rows = journal.rows(worker.flow_name)
                        assert rows is not None
                        salvaged = StateWrite(tracker.track, sorted(journal.deps), tokens, rows)
                        queue.enqueue_locked(salvaged)
                    elif tokens:
                        queue.void_locked(tokens)
                    if items:
                        queue.void_locked(items)
        if worker.is_paused:
            # A debugger steps the worker: the step it returns is in the file.
            queue.drain()
        elif write is None:
            queue.kick()  # what giving up its emits released
        else:
            # Committed soon by the background committer, in a transaction shared with
            # whatever else is ready; the worker books it without waiting (its job is done
            # only once the job's status, queued after it, is committed).
            queue.commit_soon(write)
            if queue.committing:
                time.sleep(0)  # lend the GIL to the committer between two SQLite calls
        if unstorable is not None:
            # Data the store cannot hold fails the job whatever the routine's error strategy:
            # a job that went on would complete with a hole in its history.
            if record.error is None:
                record.error = unstorable
            job = record.job
            if job is not None:
                error = SlotHandlerError(f"routine {record.routine_id!r}: {unstorable}")
                error.__cause__ = unstorable
                if job.error is None:
                    job.error = error
                worker.cancel_job(job)
        if queue.failed:
            self._check_failures()

    def _enqueue_activation(
        self,
        worker: Worker,
        record: ActivationRecord,
        provides: list[int],
        tracker: StateTracker,
        journal: Journal | None,
    ) -> Write | None:
        """Queue the write of a finished activation; None if it is left out (see _skip)."""
        job = record.job
        if job is None or self._skip(worker, record, job):
            return None
        item_id = self.store.item_id
        rid = record.routine_id
        produced = []
        emitted = record.emitted
        if len(emitted) == 1 and len(record.produced) == 1:
            # The usual case, without the loops: one emit, to one target, which holds the
            # very dict emitted.
            event, data = emitted[0]
            r, s, item = record.produced[0]
            text = try_encode(item.data) or encode(item.data, _Where(rid, r, s))
            produced.append((item_id(item.uid), r, s, text))
            if item.data is not data:
                text = try_encode(data) or encode(data, _Where(rid))
            emits = f"[[{_event_json(event)},{text}]]"
        else:
            # An emit's first target holds the very dict it emitted (the others get copies):
            # the history's list of emits reuses that item's text instead of encoding the
            # data again.
            texts: dict[int, str] = {}
            for r, s, item in record.produced:
                data = item.data
                known = texts.get(id(data))
                if known is None:
                    known = texts[id(data)] = try_encode(data) or encode(data, _Where(rid, r, s))
                produced.append((item_id(item.uid), r, s, known))
            parts = []
            for event, data in emitted:
                text = texts.get(id(data)) or try_encode(data) or encode(data, _Where(rid))
                parts.append(f"[{_event_json(event)},{text}]")
            emits = "[" + ",".join(parts) + "]"
        error = record.error
        fatal = error is not None and worker.nodes[rid].error_handler.strategy in _FATAL
        consumed = record.consumed
        if len(consumed) == 1:  # the usual case, without the loops
            uid = consumed[0].uid
            needs = [uid]
            inputs = [item_id(uid)]
            inputs_json = f"[{inputs[0]}]"
        else:
            needs = [item.uid for item in consumed]
            inputs = [item_id(uid) for uid in needs]
            inputs_json = _int_list(inputs)
        head = (record.seq, rid, inputs_json, emits)
        tail = (
            None if error is None else repr(error),
            int(fatal),
            record.attempts,
            record.started_at,
            record.duration,
        )
        queue = self._queue
        states = None
        if journal is not None:
            needs.extend(journal.deps)
            states = journal.rows(worker.flow_name)
        with self._lock:
            track = queue.tracks.get(job.job_id)
            if track is None:
                if queue.closed:
                    # Logic that outlived a shutdown(timeout=...): its job was left
                    # resumable, so this activation is left out and runs again on resume.
                    _log.warning(
                        "routine %r of job %s returned after the runtime shut down: not "
                        "recorded (resume() runs it again)",
                        rid,
                        job.job_id,
                    )
                    return None
                track = self._late_track_locked(job)
            state = tracker.seen_state(rid, journal)
            write = ActivationWrite(
                track, needs, provides, inputs, produced, head, state, tail, states
            )
            queue.enqueue_locked(write)
        return write

    def _skip(self, worker: Worker, record: ActivationRecord, job: JobContext) -> bool:
        """Whether to leave ``record`` out, so that resuming runs it again.

        Left out: an activation that emitted after its job was stopped (the worker dropped
        those emits, so recording it as done would lose them). One that consumed data whose
        producer was left out is left out by the queue.
        """
        if job.error is None or not record.emitted:
            return False
        fanout: dict[str, int] = {}
        for c in worker.flow.connections:
            if c.source_id == record.routine_id:
                fanout[c.event] = fanout.get(c.event, 0) + 1
        expected = sum(fanout.get(event, 0) for event, _ in record.emitted)
        return len(record.produced) < expected
