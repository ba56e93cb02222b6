"""What every job store shares: reads of jobs, histories and state, leases, and ids.

A backend (:class:`~routilux.store.SqliteStore`, :class:`~routilux.store.postgres.PostgresStore`)
supplies the connection: ``_query`` and ``_execute`` (statements written with ``?``
placeholders), ``write_batch`` and ``close``; the rest is here, in SQL both understand.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from routilux.core.errors import ConfigurationError, SerializationError
from routilux.store._writes import Batch
from routilux.store.codec import decode
from routilux.store.commit_times import CommitTimes
from routilux.store.errors import StoreReadOnlyError
from routilux.store.records import UNFINISHED, ActivationRow, ItemRow, JobRow

__all__ = ["ITEM_ID_SHIFT", "KEY_SHIFT", "LEASE", "StoreBase", "owner_alive"]

_log = logging.getLogger("routilux.store")

ITEM_ID_SHIFT = 40
"""Item ids are ``session << 40 | QueuedItem.uid``: unique across processes and restarts."""
KEY_SHIFT = 32
"""Job keys and activation ids are ``session << 32 | n`` (see ``_schema``)."""

LEASE = 30.0
"""Seconds a job's lease lasts without a heartbeat (renewed every third of that)."""


def new_owner_id() -> str:
    """An owner id for leases: ``host:pid:random``, so a process on this host can tell
    whether the owner still lives."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# Owner ids of the stores open in this process: an owner in this process is alive while
# its store is open (a runtime shut down here leaves its jobs to the next one).
_open_owners: set[str] = set()


def owner_alive(owner: str) -> bool | None:
    """Whether the runtime ``owner`` names still runs: None when it runs on another host."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return None
    if int(pid_text) == os.getpid():
        return owner in _open_owners
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class StoreBase:
    """The shared half of a job store (see the module docstring)."""

    path: Path | str
    lease: float
    owner: str
    read_only: bool
    session: int
    _heartbeat: threading.Thread | None
    _stop: threading.Event
    _job_keys: itertools.count[int]
    _act_ids: itertools.count[int]
    commit_times: CommitTimes

    def _init_common(self, lease: float) -> None:
        self.commit_times = CommitTimes()  # filled by the committer, read by metrics
        self.lease = lease
        self.owner = new_owner_id()
        self.read_only = False
        self.session = 0
        self._heartbeat = None
        self._stop = threading.Event()

    def _start_ids(self, session: int) -> None:
        self.session = session
        base = session << KEY_SHIFT
        # Handed out without a lock: next() on a count is atomic.
        self._job_keys = itertools.count(base + 1)
        self._act_ids = itertools.count(base + 1)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError

    @property
    def closed(self) -> bool:
        raise NotImplementedError

    def _stop_heartbeat(self) -> None:
        _open_owners.discard(self.owner)
        self._stop.set()
        heartbeat = self._heartbeat
        if heartbeat is not None and heartbeat is not threading.current_thread():
            heartbeat.join()

    def _query(self, query: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        raise NotImplementedError

    def write_batch(self, batch: Batch) -> None:
        """Write ``batch`` in one transaction (all of it, or nothing if it raises)."""
        raise NotImplementedError

    # -- ids -------------------------------------------------------------------------------

    def item_id(self, uid: int) -> int:
        """The durable id of a queued item with ``uid`` (resumed items already carry one)."""
        return uid if uid >> ITEM_ID_SHIFT else (self.session << ITEM_ID_SHIFT) | uid

    def new_job_key(self) -> int:
        """A ``job_key`` no job in the file has."""
        return next(self._job_keys)

    def new_act_id(self) -> int:
        """An ``act_id`` no activation in the file has."""
        return next(self._act_ids)

    # -- reads -----------------------------------------------------------------------------

    def jobs(self, *, unfinished: bool = False) -> list[JobRow]:
        """Every job in the store (or only the unfinished ones), oldest first."""
        where = f"WHERE j.status IN {UNFINISHED!r}" if unfinished else ""
        rows = self._query(
            "SELECT j.job_id, j.flow_name, j.status, j.metadata, j.created_at, j.finished_at, "
            "j.error, p.job_id, j.parent_step FROM jobs j "
            f"LEFT JOIN jobs p ON p.job_key = j.parent_key {where} ORDER BY j.job_key"
        )
        jobs = []
        for row in rows:
            try:
                jobs.append(_job_row(row))
            except SerializationError as exc:
                # One bad row is reported and skipped; the other jobs stay usable.
                _log.warning("skipped job %s of %s: %s", row[0], self.path, exc)
        return jobs

    def job(self, job_id: str) -> JobRow:
        """The job ``job_id``; ConfigurationError if the store does not know it."""
        rows = self._query(
            "SELECT j.job_id, j.flow_name, j.status, j.metadata, j.created_at, j.finished_at, "
            "j.error, p.job_id, j.parent_step FROM jobs j "
            "LEFT JOIN jobs p ON p.job_key = j.parent_key WHERE j.job_id = ?",
            (job_id,),
        )
        if not rows:
            raise ConfigurationError(f"job {job_id!r} is not in {self.path}")
        return _job_row(rows[0])

    def job_key(self, job_id: str) -> int | None:
        rows = self._query("SELECT job_key FROM jobs WHERE job_id = ?", (job_id,))
        return rows[0][0] if rows else None

    def last_step(self, job_key: int) -> int:
        rows = self._query("SELECT max(step) FROM activations WHERE job_key = ?", (job_key,))
        return rows[0][0] or 0

    def history(self, job_id: str) -> list[ActivationRow]:
        """The job's finished activations (its checkpoints), in step order."""
        key = self.key_of(job_id)
        rows = self._query(
            "SELECT step, routine_id, inputs, emitted, state, error, fatal, attempts, "
            "started_at, duration, worker_seq FROM activations WHERE job_key = ? ORDER BY step",
            (key,),
        )
        where = f"job {job_id!r} history"
        return [
            ActivationRow(
                step=r[0],
                routine_id=r[1],
                inputs=decode(r[2], where),
                emitted=decode(r[3], where),
                routine_state=decode(r[4], where),
                error=r[5],
                fatal=bool(r[6]),
                attempts=r[7],
                started_at=r[8],
                duration=r[9],
                worker_seq=r[10],
            )
            for r in rows
        ]

    def items(self, job_id: str) -> list[ItemRow]:
        """Every data point queued for the job, in the order it was queued."""
        key = self.key_of(job_id)
        rows = self._query(
            "SELECT i.item_id, i.routine_id, i.slot, i.data, p.step, c.step, i.dropped_after "
            "FROM items i LEFT JOIN activations p ON p.act_id = i.produced_by "
            "LEFT JOIN activations c ON c.act_id = i.consumed_by "
            "WHERE i.job_key = ? ORDER BY i.item_id",
            (key,),
        )
        where = f"job {job_id!r} items"
        return [ItemRow(r[0], r[1], r[2], decode(r[3], where), r[4], r[5], r[6]) for r in rows]

    def raw_rows(self, job_id: str) -> dict[str, list[tuple[Any, ...]]]:
        """The job's rows exactly as stored (for audits and byte-for-byte comparisons)."""
        key = self.key_of(job_id)
        return {
            table: self._query(f"SELECT * FROM {table} WHERE job_key = ? ORDER BY {order}", (key,))
            for table, order in (
                ("jobs", "job_key"),
                ("activations", "act_id"),
                ("items", "item_id"),
                ("attempts", "routine_id, inputs"),
                ("baselines", "routine_id"),
            )
        }

    def key_of(self, job_id: str) -> int:
        key = self.job_key(job_id)
        if key is None:
            raise ConfigurationError(f"job {job_id!r} is not in {self.path}")
        return key

    # -- what resume and fork need -----------------------------------------------------------

    def queued_after(self, job_key: int, step: int | None) -> list[tuple[int, str, str, str]]:
        """``(item_id, routine_id, slot, data_json)`` waiting after ``step`` (None: now).

        Data consumed by an activation whose error failed the job counts as waiting (so
        resuming runs that activation again) and data it emitted does not. Data dropped with
        the debugger waits only until the step it was dropped after.
        """
        if step is None:
            return self._query(
                "SELECT i.item_id, i.routine_id, i.slot, i.data FROM items i "
                "LEFT JOIN activations c ON c.act_id = i.consumed_by "
                "LEFT JOIN activations p ON p.act_id = i.produced_by "
                "WHERE i.job_key = ? AND (c.act_id IS NULL OR c.fatal <> 0) "
                "AND i.dropped_after IS NULL AND coalesce(p.fatal, 0) = 0 ORDER BY i.item_id",
                (job_key,),
            )
        return self._query(
            "SELECT i.item_id, i.routine_id, i.slot, i.data FROM items i "
            "LEFT JOIN activations c ON c.act_id = i.consumed_by "
            "LEFT JOIN activations p ON p.act_id = i.produced_by "
            "WHERE i.job_key = ? AND (c.act_id IS NULL OR c.step > ?) "
            "AND (i.dropped_after IS NULL OR i.dropped_after > ?) "
            "AND (CASE WHEN p.act_id IS NULL THEN i.posted_after <= ? ELSE p.step <= ? END) "
            "ORDER BY i.item_id",
            (job_key, step, step, step, step),
        )

    def routine_states(self, job_key: int, step: int | None) -> dict[str, tuple[int, str]]:
        """``{routine_id: (seq, state_json)}`` of the job's flow as of ``step`` (None: now).

        Worker state belongs to the flow's worker, not to one job: this is what every
        activation committed by then (of any job of the flow) left (see :meth:`flow_state`).
        """
        rows = self._query("SELECT flow_name FROM jobs WHERE job_key = ?", (job_key,))
        if not rows:
            return {}
        cut = None if step is None else self.state_cut(job_key, step)
        values, _ = self.flow_state(rows[0][0], cut)
        return {
            key[len("routine:") :]: (seq, value)
            for key, (seq, value) in values.items()
            if key.startswith("routine:") and value is not None
        }

    def jobs_with_waiting_data(self) -> list[str]:
        """Ids of finished (completed) jobs with data still waiting in a slot."""
        return [
            job_id
            for (job_id,) in self._query(
                "SELECT DISTINCT j.job_id FROM items i JOIN jobs j ON j.job_key = i.job_key "
                "WHERE j.status = 'completed' AND i.consumed_by IS NULL "
                "AND i.dropped_after IS NULL"
            )
        ]

    def pending_attempts(self, job_key: int) -> list[tuple[str, str, int]]:
        """``(routine_id, inputs_json, begun)`` for activations begun but never recorded."""
        return self._query(
            "SELECT t.routine_id, t.inputs, t.begun FROM attempts t WHERE t.job_key = ? "
            "AND NOT EXISTS (SELECT 1 FROM activations a WHERE a.job_key = t.job_key "
            "AND a.routine_id = t.routine_id AND a.inputs = t.inputs)",
            (job_key,),
        )

    # -- leases ----------------------------------------------------------------------------

    def lease_until(self) -> float:
        """When a lease taken now expires."""
        return time.time() + self.lease

    def _start_heartbeat(self) -> None:
        """Renew this owner's leases every third of :attr:`lease` (the caller holds the lock)."""
        self._heartbeat = threading.Thread(
            target=self._beat, name=f"routilux-lease {Path(str(self.path)).name}", daemon=True
        )
        self._heartbeat.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.lease / 3):
            try:
                self.renew_leases()
            except Exception as exc:  # a busy file, say: the next beat tries again
                _log.warning("could not renew the leases in %s: %r", self.path, exc)

    def renew_leases(self) -> None:
        """Extend the lease of every unfinished job this store's owner holds."""
        if self.closed or self.read_only:
            return
        self._execute(
            f"UPDATE jobs SET lease_until = ? WHERE owner = ? AND status IN {UNFINISHED!r}",
            (self.lease_until(), self.owner),
        )

    def take_over(self, job_id: str) -> str | None:
        """Make this store's owner the owner of ``job_id``, unless a live process owns it.

        Returns:
            None once the job is ours; otherwise why not (its owner runs, or its lease has
            not expired, or another process took it first).
        """
        if self.read_only:
            raise StoreReadOnlyError(f"{self.path} was opened read-only; cannot resume")
        rows = self._query("SELECT owner, lease_until FROM jobs WHERE job_id = ?", (job_id,))
        if not rows:
            raise ConfigurationError(f"job {job_id!r} is not in {self.path}")
        owner, until = rows[0]
        if owner is not None and owner != self.owner:
            alive = owner_alive(owner)
            if alive or (alive is None and until is not None and until > time.time()):
                left = 0.0 if until is None else until - time.time()
                how = "its process runs" if alive else f"its lease runs {left:.0f}s more"
                return f"job {job_id} belongs to {owner} ({how})"
        # Compare-and-set: of two runtimes taking over at once, one wins.
        taken = self._execute(
            "UPDATE jobs SET owner = ?, lease_until = ? WHERE job_id = ? "
            "AND owner IS NOT DISTINCT FROM ? AND lease_until IS NOT DISTINCT FROM ?",
            (self.owner, self.lease_until(), job_id, owner, until),
        )
        if taken != 1:
            return f"job {job_id} was taken over by another process meanwhile"
        return None

    def release(self, job_ids: Sequence[str]) -> None:
        """Give up this owner's lease on ``job_ids`` (left resumable by anyone at once)."""
        if self.closed or self.read_only:
            return
        for job_id in job_ids:
            self._execute(
                "UPDATE jobs SET owner = NULL, lease_until = NULL WHERE job_id = ? AND owner = ?",
                (job_id, self.owner),
            )

    # -- worker state --------------------------------------------------------------------------

    def state_cut(self, job_key: int, step: int) -> int | None:
        """The last state write that a fork of ``job_key`` after ``step`` sees (None: all).

        Every state write committed before the first activation after that step (of any
        job of the flow) belongs to the state then.
        """
        rows = self._query(
            "SELECT act_id FROM activations WHERE job_key = ? AND step = ?", (job_key, step + 1)
        )
        if not rows:
            return None
        later = self._query("SELECT min(seq) FROM state_writes WHERE act_id >= ?", (rows[0][0],))[
            0
        ][0]
        return None if later is None else later - 1

    def flow_state(
        self, flow_name: str, upto: int | None = None
    ) -> tuple[dict[str, tuple[int, str | None]], list[str]]:
        """The stored worker state of ``flow_name``: ``{key: (seq, value_json)}`` (see
        ``_state.py`` for keys) and the shared log's items as JSON, up to write ``upto``."""
        limit, params = ("", (flow_name,)) if upto is None else ("AND seq <= ?", (flow_name, upto))
        latest = self._query(
            "SELECT key, seq, value FROM state_writes WHERE seq IN (SELECT max(seq) FROM "
            f"state_writes WHERE flow_name = ? AND key != 'log+' {limit} GROUP BY key)",
            params,
        )
        values = {key: (seq, value) for key, seq, value in latest}
        reset = values.get("log", (0, None))[0]
        log = [
            value
            for (value,) in self._query(
                "SELECT value FROM state_writes WHERE flow_name = ? AND key = 'log+' "
                f"AND seq > ? {limit} ORDER BY seq",
                (flow_name, reset, *params[1:]),
            )
        ]
        return values, log


def _job_row(row: Sequence[Any]) -> JobRow:
    return JobRow(
        job_id=row[0],
        flow_name=row[1],
        status=row[2],
        metadata=decode(row[3], f"job {row[0]!r} metadata"),
        created_at=row[4],
        finished_at=row[5],
        error=row[6],
        parent_job_id=row[7],
        parent_step=row[8],
    )
