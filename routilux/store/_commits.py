"""CommitQueue: puts a recorder's writes in a safe order and commits them in groups.

The rule that keeps a resume exact: a write that refers to queued data (an activation that
consumed it, a drop) never commits before the activation that emitted that data. Writes
that arrive while their producer is uncommitted wait here, in memory, instead of blocking
their thread; the producer's commit releases them.

Commits are grouped. A thread with a write to commit becomes the committer if nobody is,
and commits everything ready, in one transaction per round, until nothing is left; a thread
that arrives meanwhile waits for the round that carries its write. With one thread this is
one transaction per activation, written before the activation is booked; with several it
is fewer, larger transactions, and no thread waits on another's logic.

Routine and worker state follow the same rule (see ``_state.py``): an activation that read or
wrote a state key last written by an activation not committed yet needs that activation's
*state token* (a negative number standing for its writes), exactly as a consumer needs the
data it consumes. So a checkpoint never holds a state write whose writer is not also in the
file, and a resume never applies a write twice.

Every write returns from :meth:`CommitQueue.flush` only once it is committed (or given
up), together with the writes its commit released: so when a worker books an activation,
everything it and its waiting consumers did is in the file.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from _thread import LockType, allocate_lock
from collections import deque

from routilux.store._writes import ActivationWrite, Batch, StateWrite, StatusWrite, Track, Write
from routilux.store.sqlite import SqliteStore

__all__ = ["CommitQueue"]

_log = logging.getLogger("routilux.store")

MAX_BATCH = 32
"""Writes per transaction at most, so one commit stays short: a post, committed before
``post()`` returns, may wait for the round being committed (``bench/store_speed.py``: 32
halved commit p99 against 64, to about 0.5-0.7 ms, at the same throughput)."""

GATHER = 0.0005
"""Seconds the background committer lets writes gather before it commits them: one
transaction then carries many activations, and a drainer never waits for it."""

MAX_READY = 2048
"""Ready writes past which a thread that adds one commits instead of leaving it to the
background committer: the queue cannot grow faster than the file takes it."""

# A round of commits: its writes, in order.
_Round = list[Write]


class CommitQueue:
    """Ordering and group commit of writes into ``store``.

    Everything here is guarded by :attr:`lock`, which recorders also hold while they look
    up tracks and enqueue writes (and state trackers while they follow state accesses).

    Args:
        store: Where to commit.
    """

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.lock = threading.Lock()
        self.tracks: dict[str, Track] = {}
        # Item uids (and state tokens) of activations whose writes are not ready to commit
        # yet (still running, or waiting themselves), and the writes waiting on them.
        self.unsettled: set[int] = set()
        self._waiting: dict[int, list[Write]] = {}
        # Those of writes ready to commit: a write that needs them no longer waits, since
        # rounds commit in queue order and it is queued after them.
        self.queued: set[int] = set()
        # Item uids that will never be committed (their activation was left out).
        self.void: set[int] = set()
        # State tokens (see _state.py): negative, so they never meet an item uid.
        self.tokens = itertools.count(-1, -1)
        # Jobs whose writes failed to commit, with the cause (the recorder fails them).
        self.failed: dict[str, BaseException] = {}
        self._ready: deque[Write] = deque()
        self._committing = False
        self._gates: list[tuple[Write, LockType]] = []
        # Notified whenever a committer stops (see drain).
        self._idle = threading.Condition(self.lock)
        # The background committer of writes nobody waits for (see kick).
        self._wake = threading.Event()
        self._committer: threading.Thread | None = None
        self._closed = False

    # -- enqueueing (with the lock held) ---------------------------------------------------

    def enqueue_locked(self, write: Write) -> None:
        """Queue ``write``: ready to commit, or waiting for the data it needs."""
        track = write.track
        track.pending += 1
        needs = write.needs
        if needs:
            void = self.void
            if void and any(uid in void for uid in needs):
                # Each data point is consumed once; a state token may be needed by many.
                void.difference_update([uid for uid in needs if uid >= 0])
                self._give_up_locked(write)
                return
            unsettled = self.unsettled
            if unsettled and not unsettled.isdisjoint(needs):
                blockers = [uid for uid in needs if uid in unsettled]
                if blockers:
                    write.blockers = len(blockers)
                    track.blocked += 1
                    for uid in blockers:
                        self._waiting.setdefault(uid, []).append(write)
                    return
        self._ready_locked(write)

    @property
    def committing(self) -> bool:
        """Whether a thread is committing a round now."""
        return self._committing

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called: nothing queued from now on commits."""
        return self._closed

    def uncommitted(self, uid: int) -> bool:
        """Whether the write that adds ``uid`` (an item or a state token) is not committed
        yet (it may be ready, or not even finished)."""
        return uid in self.unsettled or uid in self.queued

    def finish_locked(self, track: Track, status: StatusWrite) -> None:
        """Queue the job's final ``status``, after every write of it still waiting."""
        track.finished = True
        track.pending += 1
        if track.blocked:
            status.blockers = 1  # released when the track's last blocked write is
            track.parked = status
        else:
            self._ready.append(status)  # adds no data: nothing waits for it

    def void_locked(self, uids: list[int]) -> None:
        """Data emitted by an activation that will not be recorded: nothing may wait for it."""
        for uid in uids:
            self.unsettled.discard(uid)
            self.queued.discard(uid)
            self.void.add(uid)
            for write in self._waiting.pop(uid, ()):
                write.void = True
                write.blockers -= 1
                if not write.blockers:
                    self._release_locked(write)

    # -- committing ------------------------------------------------------------------------

    def commit_soon(self, write: Write) -> None:
        """Have ``write`` committed soon, by the background committer, without waiting for
        it; unless too much is queued already: then commit (or wait for) it now."""
        if len(self._ready) > MAX_READY:
            self.flush(write)
        elif not self._committing and not self._wake.is_set():
            self.kick()  # else it goes with the round being committed, or the one due

    def kick(self) -> None:
        """Have what is ready committed soon, by a background thread, without waiting.

        For activations: the writes of several threads, and of one thread's consecutive
        activations, then share transactions (a committer takes everything ready).
        """
        if self._committing or self._wake.is_set():
            # The committer takes what is ready (under the lock) before it stops, and the
            # background one is due: this write, enqueued before, goes with one of them.
            return
        if self._committer is None:
            with self.lock:
                if self._committer is None and not self._closed:
                    self._committer = threading.Thread(
                        target=self._run, name=f"routilux-commit {self.store!r}", daemon=True
                    )
                    self._committer.start()
        self._wake.set()

    def _run(self) -> None:
        wake = self._wake
        while True:
            wake.wait()
            if not self._closed:
                time.sleep(GATHER)
            wake.clear()
            # Checked after clear(): close() sets _closed before it wakes this thread.
            if self._closed:
                return
            try:
                self.flush()
            except BaseException:  # jobs wait on this thread: it must go on
                _log.exception("background commit to %s failed", self.store)

    def drain(self) -> None:
        """Commit everything queued and ready, and wait until no commit runs."""
        while True:
            with self.lock:
                while self._committing:
                    self._idle.wait()
                if not self._ready:
                    return
            self.flush()

    def close(self) -> None:
        """Commit what is ready, then stop the background committer."""
        self.drain()
        with self.lock:
            self._closed = True
            thread = self._committer
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def flush(self, write: Write | None = None) -> None:
        """Return once ``write`` (and what its commit released) is committed or given up.

        A write still waiting for its producer returns at once: the producer's flush covers
        it. With no ``write``, only commit what is ready, if nobody else is committing.
        """
        while True:
            gate: LockType | None = None
            with self.lock:
                if write is not None and write.blockers:
                    return
                if write is None or _settled(write):
                    # Done; but what giving it up released (its salvaged state) may wait.
                    if self._committing or not self._ready:
                        return
                    write = None
                if self._committing:
                    assert write is not None  # without one, it returned: somebody commits
                    # Each waiter sleeps on a gate of its own, opened when its write is done:
                    # waking every waiter after every round would wake threads that only go
                    # back to sleep, each taking the GIL from the committer on the way.
                    gate = allocate_lock()
                    gate.acquire()
                    self._gates.append((write, gate))
                else:
                    self._committing = True
                    first = self._take_round_locked()
            if gate is None:
                self._commit_rounds(first, write)
                return
            gate.acquire()

    def _commit_rounds(self, round_: _Round | None, write: Write | None) -> None:
        """Commit ``round_`` and the rounds after it (this thread is the committer until
        then): until ``write`` is settled, and while a full round is ready; what is left
        goes to the background committer, which lets more gather first."""
        lock = self.lock
        leftover = False
        try:
            while round_ is not None:
                writes = round_
                # Built without the lock, which the threads queueing writes need meanwhile:
                # only the committer (one thread at a time) gives out steps.
                batch, steps = self._build(writes)
                failure: BaseException | None = None
                started = time.perf_counter()
                try:
                    self.store.write_batch(batch)
                    self.store.commit_times.observe(time.perf_counter() - started)
                except BaseException as exc:
                    # Each write's owner fails its job with this (see StoreRecorder); a
                    # KeyboardInterrupt, say, is raised again once the round is given up.
                    _log.warning(
                        "could not commit %d writes to %s: %r", len(writes), self.store, exc
                    )
                    failure = exc
                with lock:
                    if failure is not None:
                        for track, step in steps.items():
                            track.step = step
                        for lost in writes:
                            lost.failure = failure
                            lost.track.failure = failure
                            if lost.track.job_id:
                                self.failed.setdefault(lost.track.job_id, failure)
                            self._give_up_locked(lost, salvage=False)
                    else:
                        self._settle_locked(writes)
                    if (write is None or _settled(write)) and len(self._ready) < MAX_BATCH:
                        round_ = None
                        leftover = bool(self._ready)
                    else:
                        round_ = self._take_round_locked()
                    if round_ is None:
                        self._committing = False
                        self._idle.notify_all()
                    # When done: the rest wait for writes that are not ready (not committed
                    # by anyone now), and one of them commits next.
                    self._open_gates_locked(everyone=round_ is None)
                if failure is not None and not isinstance(failure, Exception):
                    raise failure
        except BaseException:
            with lock:
                self._committing = False
                self._idle.notify_all()
                self._open_gates_locked(everyone=True)
            raise
        if leftover:
            self.kick()

    def _open_gates_locked(self, everyone: bool) -> None:
        """Wake the waiters whose writes are done (or all of them)."""
        gates = self._gates
        if not gates:
            return
        keep = []
        for write, gate in gates:
            if everyone or _settled(write):
                gate.release()
            else:
                keep.append((write, gate))
        self._gates = keep

    def _take_round_locked(self) -> _Round | None:
        """The next round: up to MAX_BATCH ready writes, in order; None if nothing is ready."""
        ready = self._ready
        if not ready:
            return None
        writes: list[Write] = []
        void = self.void
        while ready and len(writes) < MAX_BATCH:
            write = ready.popleft()
            needs = write.needs
            if void and needs and any(uid in void for uid in needs):
                # Queued after a write whose transaction failed: it refers to data that is
                # not in the file.
                void.difference_update([uid for uid in needs if uid >= 0])
                self._give_up_locked(write)
                continue
            writes.append(write)
        return writes or None

    def _build(self, writes: list[Write]) -> tuple[Batch, dict[Track, int]]:
        """The rows of ``writes`` and each track's step before them (to give back if the
        round fails). Called by the committer alone, so steps follow the commit order."""
        batch = Batch()
        steps: dict[Track, int] = {}
        new_act_id = self.store.new_act_id
        for write in writes:
            track = write.track
            if track not in steps:
                steps[track] = track.step
            write.add_to(batch, new_act_id)
        return batch, steps

    def _settle_locked(self, writes: list[Write]) -> None:
        """``writes`` are committed."""
        queued = self.queued
        for write in writes:
            write.done = True
            if type(write) is StatusWrite and write.on_done is not None:
                # Stored as failed if an earlier write of the job could not be (add_to).
                _call_on_done(write, write.track.failure)
            if write.provides:
                queued.difference_update(write.provides)
            self._forget_locked(write.track)

    def _ready_locked(self, write: Write) -> None:
        """``write`` waits for nothing: queue it to commit; and after it, in order, the
        writes that waited only for the data it adds (and theirs, and a job status parked
        behind them). Rounds commit in queue order, so none of them commits before it."""
        ready, unsettled, queued, waiting = self._ready, self.unsettled, self.queued, self._waiting
        provides = write.provides
        if not waiting or waiting.keys().isdisjoint(provides):
            # The usual case: nothing waits for what it adds.
            ready.append(write)
            if provides:
                unsettled.difference_update(provides)
                queued.update(provides)
            return
        todo = deque([write])
        while todo:
            current = todo.popleft()
            ready.append(current)
            for uid in current.provides:
                unsettled.discard(uid)
                queued.add(uid)
                waiters = waiting.pop(uid, None) if waiting else None
                if not waiters:
                    continue
                for waiter in waiters:
                    waiter.blockers -= 1
                    if waiter.blockers:
                        continue
                    current.after.append(waiter)  # flush(current) waits for it too
                    track = waiter.track
                    track.blocked -= 1
                    if waiter.void:
                        self._give_up_locked(waiter)
                    else:
                        todo.append(waiter)
                    parked = self._unparked_locked(track)
                    if parked is not None:
                        todo.append(parked)  # after its job's writes just queued

    def _release_locked(self, write: Write) -> None:
        """``write``, given up (void), waits for nothing more: drop it, and queue its job's
        status if that waited only for it."""
        track = write.track
        track.blocked -= 1
        self._give_up_locked(write)
        parked = self._unparked_locked(track)
        if parked is not None:
            self._ready.append(parked)

    def _unparked_locked(self, track: Track) -> StatusWrite | None:
        """The job's parked status, if no write of the job is blocked any more."""
        parked = track.parked
        if parked is None or track.blocked:
            return None
        track.parked = None
        parked.blockers = 0
        return parked

    def _give_up_locked(self, write: Write, salvage: bool = True) -> None:
        """``write`` will never commit; neither will what waits for the data it adds.

        The state writes of an activation given up still commit (``salvage``), on their
        own: the state it left is the state every later activation builds on, in this
        process, so the file must hold it too.
        """
        write.done = write.void = True
        if type(write) is StatusWrite and write.on_done is not None:
            _call_on_done(write, write.failure or RuntimeError("the job's status was not stored"))
        provides = write.provides
        if salvage and isinstance(write, ActivationWrite) and write.states is not None:
            tokens = [uid for uid in provides if uid < 0]
            provides = [uid for uid in provides if uid >= 0]
            needs = [uid for uid in write.needs if uid < 0]
            self.enqueue_locked(StateWrite(write.track, needs, tokens, write.states))
        if provides:
            self.void_locked(list(provides))
        self._forget_locked(write.track)

    def _forget_locked(self, track: Track) -> None:
        track.pending -= 1
        if track.finished and not track.pending and self.tracks.get(track.job_id) is track:
            del self.tracks[track.job_id]


def _call_on_done(write: StatusWrite, failure: BaseException | None) -> None:
    on_done, write.on_done = write.on_done, None
    assert on_done is not None
    try:
        on_done(failure)
    except Exception:  # the recorder's own code: a bug there must not stop commits
        _log.exception("could not complete job %s after its last commit", write.track.job_id)


def _settled(write: Write) -> bool:
    """Whether ``write`` and every write its commit released (transitively) are done."""
    stack = [write]
    while stack:
        current = stack.pop()
        if not current.done:
            return False
        stack.extend(current.after)
    return True
