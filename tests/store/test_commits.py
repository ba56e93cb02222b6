"""Commit order: an activation never commits before the one that produced its inputs.

The runtime tests make a consumer finish while its producer still runs (the producer waits
for it), so the consumer's write has to wait in the commit queue; the queue tests drive
``CommitQueue`` directly.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from routilux import (
    ErrorHandler,
    ErrorStrategy,
    Flow,
    Routine,
    Runtime,
    SqliteStore,
    batch_size_policy,
)
from routilux.store._commits import CommitQueue
from routilux.store._writes import ActivationWrite, Batch, PostedWrite, Track
from tests.store.store_flows import Discard, fanout_flow, ring_flow

WAIT = 10.0


class _Producer(Routine):
    """Emits ``n`` and ``n + 1`` to ``out`` (and ``extra`` to ``side``), then waits until
    ``release``: the waiting outputs make the worker start a second thread for them."""

    def __init__(self, release: threading.Event, extra: Any = None) -> None:
        super().__init__()
        self.add_slot("inp")
        self.add_event("out", ["n"])
        self.add_event("side", ["value"])
        self.release, self.extra = release, extra

    def logic(self, inp: list[Any], policy_message: Any, worker_state: Any) -> None:
        self.emit("out", n=inp[0]["n"])
        self.emit("out", n=inp[0]["n"] + 1)
        if self.extra is not None:
            self.emit("side", value=self.extra)
        assert self.release.wait(WAIT)


class _Consumer(Routine):
    """Counts its runs in its routine state; sets ``ran[k]`` after its k-th run."""

    def __init__(self, ran: list[threading.Event]) -> None:
        super().__init__()
        self.add_slot("inp")
        self.ran = ran

    def logic(self, inp: list[Any], policy_message: Any, worker_state: Any) -> None:
        with worker_state.lock:
            runs = worker_state.get_routine_state(self.routine_id, {}).get("runs", 0) + 1
            worker_state.set_routine_state(self.routine_id, {"runs": runs})
        self.ran[runs - 1].set()


def _flow(release: threading.Event, ran: list[threading.Event], extra: Any = None) -> Flow:
    flow = Flow("pair")
    flow.add_routine(_Producer(release, extra), "a")
    flow.add_routine(_Consumer(ran), "b")
    flow.add_routine(Discard(), "c")
    flow.connect("a", "out", "b", "inp")
    flow.connect("a", "side", "c", "inp")
    return flow


def test_a_consumer_that_finishes_first_commits_after_its_producer(tmp_path: Path) -> None:
    release, ran = threading.Event(), [threading.Event(), threading.Event()]
    with Runtime(thread_pool_size=2, store=tmp_path / "jobs.db") as runtime:
        _, job = runtime.post(_flow(release, ran), "a", "inp", {"n": 1})
        assert ran[1].wait(WAIT)  # b ran twice on a second thread while a still runs
        release.set()
        assert job.wait(WAIT)
        assert runtime.store is not None
        history = runtime.store.history(job.job_id)  # complete once the job is
        items = runtime.store.items(job.job_id)

    assert [(a.step, a.routine_id) for a in history] == [(1, "a"), (2, "b"), (3, "b")]
    assert [(i.data, i.produced_by, i.consumed_by) for i in items] == [
        ({"n": 1}, None, 1),
        ({"n": 1}, 1, 2),
        ({"n": 2}, 1, 3),
    ]
    assert [a.inputs for a in history[1:]] == [[items[1].item_id], [items[2].item_id]]


def test_a_consumer_whose_producer_is_left_out_is_left_out_too(tmp_path: Path) -> None:
    # a's second emit is not JSON: a is not recorded (its job fails), and b consumed data
    # that exists nowhere in the store, so b must not be recorded either.
    release, ran = threading.Event(), [threading.Event()]
    flow = _flow(release, ran, extra=object())
    flow.get_routine("a").set_error_handler(ErrorHandler(ErrorStrategy.STOP))
    with Runtime(thread_pool_size=2, store=tmp_path / "jobs.db") as runtime:
        _, job = runtime.post(flow, "a", "inp", {"n": 1})
        assert ran[0].wait(WAIT)
        release.set()
        assert job.wait(WAIT)
        assert runtime.store is not None
        history = runtime.store.history(job.job_id)
        row = runtime.store.job(job.job_id)

    assert str(job.status) == "failed"
    assert (row.status, history) == ("failed", [])


def test_a_run_that_built_on_uncommitted_state_commits_after_it_with_its_own_state(
    tmp_path: Path,
) -> None:
    # b runs on a's two outputs (their writes wait for a), then on posted data. The third
    # run read the state the first two wrote, so its commit waits for theirs; each run's
    # row holds the state it left, and the flow's state is the last one.
    release, ran = threading.Event(), [threading.Event() for _ in range(3)]
    flow = _flow(release, ran)
    with Runtime(thread_pool_size=2, store=tmp_path / "jobs.db") as runtime:
        _, first = runtime.post(flow, "a", "inp", {"n": 1})
        assert ran[1].wait(WAIT)
        _, second = runtime.post(flow, "b", "inp", {"n": 3})
        assert ran[2].wait(WAIT)
        store = runtime.store
        assert store is not None
        # The second job has run, but its checkpoint waits for the first job's b runs, and
        # the job is not done (wait() does not return) until its checkpoints are in.
        assert not second.wait(0.3)
        assert not second.is_finished
        assert store.history(second.job_id) == []
        release.set()
        assert second.wait(WAIT)
        assert first.wait(WAIT)
        late = store.history(first.job_id)
        early = store.history(second.job_id)
        states = store.routine_states(store.key_of(second.job_id), None)

    assert [(a.routine_id, a.routine_state) for a in early] == [("b", {"runs": 3})]
    assert [(a.routine_id, a.routine_state) for a in late] == [
        ("a", None),
        ("b", {"runs": 1}),
        ("b", {"runs": 2}),
    ]
    assert {rid: state for rid, (_, state) in states.items()} == {"b": '{"runs":3}'}


# -- the queue on its own ---------------------------------------------------------------


def _activation(track: Track, needs: list[int], provides: list[int]) -> ActivationWrite:
    """An activation write consuming item ``needs`` and emitting ``provides``."""
    produced = [(uid, "r", "inp", "{}") for uid in provides]
    head, tail = (1, "r", str(needs), "[]"), (None, 0, 1, 0.0, 0.0)
    return ActivationWrite(track, needs, provides, needs, produced, head, None, tail, None)


@pytest.fixture
def queue(tmp_path: Path) -> CommitQueue:
    store = SqliteStore(tmp_path / "jobs.db")
    queue = CommitQueue(store)
    row = (store.new_job_key(), "job", "flow", "running", "{}", 0.0, None, None, None, None)
    track = queue.tracks["job"] = Track("job", row[0], 0, (row, []))
    posted = PostedWrite(track, [(1, "r", "inp", "{}")])
    with queue.lock:
        queue.enqueue_locked(posted)
    queue.flush(posted)
    yield queue
    store.close()


def test_a_write_waits_in_the_queue_for_unsettled_data_then_commits_after_it(
    queue: CommitQueue,
) -> None:
    track = queue.tracks["job"]
    producer, consumer = _activation(track, [1], [2]), _activation(track, [2], [])
    with queue.lock:
        queue.unsettled.add(2)  # emitted by the producer, which has not finished yet
        queue.enqueue_locked(consumer)
    queue.flush(consumer)  # returns at once: it waits in memory, not in this thread
    assert (consumer.done, consumer.blockers) == (False, 1)

    with queue.lock:
        queue.enqueue_locked(producer)
    queue.flush(producer)  # commits the producer, then what it released

    assert (producer.done, consumer.done, consumer.void) == (True, True, False)
    assert producer.after == [consumer]
    history = queue.store.history("job")
    assert [(a.step, a.inputs) for a in history] == [(1, [1]), (2, [2])]


def test_a_chain_of_waiting_writes_is_queued_behind_its_producer_and_commits_with_it(
    queue: CommitQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    # c needs b's data, b needs a's; both finished before a. Once a is queued, they are
    # queued behind it in order, and one round commits all three.
    track = queue.tracks["job"]
    a, b, c = (
        _activation(track, [1], [2]),
        _activation(track, [2], [3]),
        _activation(track, [3], []),
    )
    rounds: list[int] = []
    write_batch = queue.store.write_batch

    def counted(batch: Batch) -> None:
        rounds.append(len(batch.rows))
        write_batch(batch)

    monkeypatch.setattr(queue.store, "write_batch", counted)
    with queue.lock:
        queue.unsettled.update({2, 3})
        queue.enqueue_locked(c)
        queue.enqueue_locked(b)
        assert (b.blockers, c.blockers) == (1, 1)
        queue.enqueue_locked(a)
        assert (b.blockers, c.blockers) == (0, 0)
        assert queue.uncommitted(3)
        assert not queue.unsettled
    queue.flush(a)

    assert rounds == [3]
    assert (a.done, b.done, c.done) == (True, True, True)
    assert not queue.uncommitted(3)
    history = queue.store.history("job")
    assert [a.inputs for a in history] == [[1], [2], [3]]


def test_a_write_queued_behind_a_failed_round_is_given_up(
    queue: CommitQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The consumer is queued behind its producer without waiting; the producer's round
    # fails, so the consumer (in a later round) refers to data the file does not hold.
    track = queue.tracks["job"]
    producer, consumer = _activation(track, [1], [2]), _activation(track, [2], [])
    real = queue.store.write_batch
    calls: list[int] = []

    def first_fails(batch: Batch) -> None:
        calls.append(len(batch.rows))
        if len(calls) == 1:
            raise OSError("disk full")
        real(batch)

    monkeypatch.setattr(queue.store, "write_batch", first_fails)
    monkeypatch.setattr("routilux.store._commits.MAX_BATCH", 1)  # one write per round
    with queue.lock:
        queue.enqueue_locked(producer)
        queue.unsettled.discard(2)
        queue.enqueue_locked(consumer)
        assert consumer.blockers == 0  # queued behind the producer, not waiting
    queue.flush(consumer)

    assert calls == [1]  # the consumer never reached a transaction
    assert (producer.void, consumer.void, consumer.done) == (True, True, True)
    monkeypatch.undo()
    assert queue.store.history("job") == []


def test_a_failed_transaction_gives_up_its_writes_and_what_waits_on_them(
    queue: CommitQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    track = queue.tracks["job"]
    producer, consumer = _activation(track, [1], [2]), _activation(track, [2], [])
    with queue.lock:
        queue.unsettled.add(2)
        queue.enqueue_locked(consumer)

    def broken(batch: Batch) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(queue.store, "write_batch", broken)
    with queue.lock:
        queue.enqueue_locked(producer)
    queue.flush(producer)

    assert (producer.void, consumer.void, consumer.done) == (True, True, True)
    assert track.step == 0  # the steps the failed transaction took are given back
    assert (2 in queue.void, 2 in queue.unsettled) == (True, False)
    monkeypatch.undo()
    assert queue.store.history("job") == []


class _Relay(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")
        self.add_event("out", ["n"])

    def logic(self, inp: list[Any], policy_message: Any, worker_state: Any) -> None:
        for point in inp:
            self.emit("out", n=point["n"])


def test_a_job_is_done_only_once_all_its_checkpoints_are_in_the_file(tmp_path: Path) -> None:
    # Activations commit in the background; a job's wait() returns only once its last
    # checkpoint and its status are committed: for a chain (whose last activation is its
    # job's last) and for jobs that end on a policy that runs nothing (a batch not full).
    batching = Flow("batching")
    batching.add_routine(_Relay(), "src")
    batching.add_routine(_Relay(), "batch")
    batching.get_routine("batch").set_activation_policy(batch_size_policy(100))
    batching.connect("src", "out", "batch", "inp")
    with Runtime(thread_pool_size=4, store=tmp_path / "jobs.db") as runtime:
        store = runtime.store
        assert store is not None
        flow = ring_flow("ring", None, size=10)
        jobs = [runtime.post(flow, "r0", "inp", {"n": 9})[1] for _ in range(50)]
        for job in jobs:
            assert job.wait(WAIT)
            assert len(store.history(job.job_id)) == 10
            assert store.job(job.job_id).status == "completed"
        singles = [runtime.post(batching, "src", "inp", {"n": i})[1] for i in range(40)]
        for job in singles:
            # Each job ends with its item waiting in the batch (never full here).
            assert job.wait(WAIT)
            assert len(store.history(job.job_id)) == 1
            assert store.job(job.job_id).status == "completed"
        _, fan = runtime.post(fanout_flow("fan", None), "src", "inp", {"n": 20})
        assert fan.wait(WAIT)
        assert len(store.history(fan.job_id)) == 4 * 20 + 1
    with SqliteStore(tmp_path / "jobs.db") as reopened:
        assert len(reopened.history(fan.job_id)) == 4 * 20 + 1
        assert reopened.job(fan.job_id).status == "completed"
