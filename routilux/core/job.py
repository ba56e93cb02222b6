"""JobContext: the state of one posted request as it travels through a flow."""

from __future__ import annotations

import enum
import itertools
import os
import threading
import time
from typing import Any

from routilux.core import _check
from routilux.core._context import current_activation, remote_job
from routilux.core.output import get_job_output

__all__ = ["JobContext", "JobStatus", "get_current_job"]


class JobStatus(str, enum.Enum):
    """Lifecycle of a job: pending -> running -> completed | failed | cancelled."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value

    @property
    def finished(self) -> bool:
        return self in _FINISHED


_PENDING = JobStatus.PENDING
_FINISHED = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})
# Guards the hand-over between a job finishing and a thread starting to wait for it.
_done_lock = threading.Lock()


class JobContext:
    """One request (one ``post``) and everything it caused downstream.

    A job is done when no activation is pending or running for it; the runtime then sets
    :attr:`status` and wakes :meth:`wait`.

    Attributes:
        job_id: Unique id (32 random hex digits unless given).
        flow_name: The flow the job runs in.
        worker_id: The worker that runs it.
        metadata: Free-form per-request data (user id, request headers...); editable.
        trace_id: Correlates this job's records across systems.
        errors: Exceptions recorded under the CONTINUE strategy, and the one that failed it.

    The attributes are fixed (the class has slots, and regular installs compile it): keep
    per-request data of your own in :attr:`metadata`.
    """

    __slots__ = (
        "_done",
        "_holds",
        "_stopped",
        "created_at",
        "error",
        "errors",
        "finished_at",
        "flow_name",
        "inflight",
        "job_id",
        "metadata",
        "status",
        "trace_id",
        "worker_id",
    )

    def __init__(
        self,
        flow_name: str,
        worker_id: str,
        *,
        job_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        trace_id: str | None = None,
    ) -> None:
        self.job_id = job_id or _new_job_id()
        self.flow_name = flow_name
        self.worker_id = worker_id
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.trace_id = trace_id or self.job_id
        self.status = _PENDING
        self.created_at = time.time()
        self.finished_at: float | None = None
        self.error: BaseException | None = None
        self.errors: list[BaseException] = []
        # Activations pending (queued for a policy decision) or running for this job; owned
        # by the worker and only touched under its lock.
        self.inflight = 0
        # Set when the job failed or was cancelled: its queued data is dropped, new data ignored.
        self._stopped = False
        # Made on the first wait(): most jobs are never waited on, and an Event is costly.
        self._done: threading.Event | None = None
        # Observers keeping the finished job from being done (Worker.hold_completion).
        self._holds = 0

    def __repr__(self) -> str:
        return f"<JobContext {self.job_id[:8]} {self.flow_name!r} {self.status.value}>"

    @property
    def is_finished(self) -> bool:
        """Whether the job is done: finished, and whatever observers hold it for (the
        store's last checkpoint of it, say) is complete. ``wait()`` returns then."""
        return self.status.finished and not self._holds

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job is done (see :attr:`is_finished`); return False if
        ``timeout`` ran out first."""
        timeout = _check.timeout(timeout)
        with _done_lock:
            if self.status.finished and not self._holds:
                return True
            if self._done is None:
                self._done = threading.Event()
            done = self._done
        return done.wait(timeout)

    def set_data(self, key: str, value: Any) -> None:
        """Keep ``value`` for the rest of this job (earlier Routilux's job data; it lives in
        :attr:`metadata`, so stores and state files keep it too)."""
        self.metadata[key] = value

    def get_data(self, key: str, default: Any = None) -> Any:
        """What :meth:`set_data` kept under ``key``, or ``default``."""
        return self.metadata.get(key, default)

    def get_output(self) -> str:
        """What ``print()`` wrote inside this job's logic (see ``install_routed_stdout``)."""
        return get_job_output(self.job_id)

    def _finish(self, status: JobStatus) -> bool:
        """Set the final ``status``; return whether the job is done now (nothing holds it)."""
        with _done_lock:
            self.status = status
            self.finished_at = time.time()
            if self._holds:
                return False
            done = self._done
        if done is not None:
            done.set()
        return True

    def _hold(self) -> None:
        with _done_lock:
            self._holds += 1

    def _release(self) -> bool:
        """Drop one hold; return whether that made the finished job done."""
        with _done_lock:
            self._holds -= 1
            if self._holds or not self.status.finished:
                return False
            done = self._done
        if done is not None:
            done.set()
        return True


# Job ids: 32 hex digits, like uuid4().hex, unique across processes (resumed jobs keep their
# ids, so a store sees ids from many runs): 64 random bits drawn once per process, then a
# counter. Cheaper than random bits per id (os.urandom costs tens of microseconds on some
# virtual machines), and independent of the global `random`, which users may seed.
_id_prefix = ""
_id_counter = itertools.count()


def _reseed_job_ids() -> None:
    global _id_prefix, _id_counter
    _id_prefix = os.urandom(8).hex()
    _id_counter = itertools.count()


_reseed_job_ids()
if hasattr(os, "register_at_fork"):
    # A forked child must not hand out its parent's ids again.
    os.register_at_fork(after_in_child=_reseed_job_ids)


def _new_job_id() -> str:
    return f"{_id_prefix}{next(_id_counter):016x}"


def get_current_job() -> JobContext | None:
    """The job of the activation running in this thread, or None outside of logic.

    In logic that runs remotely (a process pool, a Dask worker) it is a copy of the job:
    its id and its data as they were when the activation was sent.
    """
    activation = current_activation.get()
    return activation.job if activation is not None else remote_job.get()
