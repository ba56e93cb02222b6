"""WorkerState: the long-lived state of one running flow (one worker)."""

from __future__ import annotations

import copy
import enum
import threading
import time
from typing import Any

__all__ = ["WorkerState", "WorkerStatus"]


class WorkerStatus(str, enum.Enum):
    """Lifecycle of a worker."""

    RUNNING = "running"
    IDLE = "idle"
    PAUSED = "paused"
    STOPPED = "stopped"

    def __str__(self) -> str:
        return self.value


class WorkerState:
    """State that outlives single jobs: per-routine state, shared data and a shared log.

    One exists per running worker and is passed to logic as ``worker_state``. Its methods are
    thread-safe; the dict returned by :meth:`get_routine_state` is a copy, so read-modify-write
    with :meth:`update_routine_state`.

    Attributes:
        worker_id: The worker's id.
        flow_name: The flow it runs.
        shared_data: A dict any routine may use (guard compound updates with :attr:`lock`).
        shared_log: A list any routine may append to.
    """

    def __init__(self, worker_id: str, flow_name: str) -> None:
        self.worker_id = worker_id
        self.flow_name = flow_name
        self.created_at = time.time()
        self.shared_data: dict[str, Any] = {}
        self.shared_log: list[Any] = []
        self.lock = threading.RLock()
        self.jobs_completed = 0
        self.jobs_failed = 0
        self._routine_states: dict[str, dict[str, Any]] = {}
        self._policy_memory: dict[int, dict[str, Any]] = {}
        self._status = WorkerStatus.IDLE

    def __repr__(self) -> str:
        return f"<WorkerState {self.worker_id} flow={self.flow_name!r} {self._status.value}>"

    @property
    def status(self) -> WorkerStatus:
        """running (jobs in flight), idle, paused (by a debugger) or stopped."""
        return self._status

    def get_routine_state(self, routine_id: str, default: Any = None) -> Any:
        """A copy of ``routine_id``'s state, or ``default`` if it has none yet."""
        with self.lock:
            state = self._routine_states.get(routine_id)
            return copy.deepcopy(state) if state is not None else default

    def update_routine_state(self, routine_id: str, updates: dict[str, Any]) -> None:
        """Merge ``updates`` into ``routine_id``'s state."""
        with self.lock:
            self._routine_states.setdefault(routine_id, {}).update(updates)

    def set_routine_state(self, routine_id: str, state: dict[str, Any]) -> None:
        """Replace ``routine_id``'s state."""
        with self.lock:
            self._routine_states[routine_id] = dict(state)

    @property
    def routine_states(self) -> dict[str, dict[str, Any]]:
        """A copy of every routine's state."""
        with self.lock:
            return copy.deepcopy(self._routine_states)

    def policy_memory(self, policy: object) -> dict[str, Any]:
        """Scratch space for a stateful policy, separate for each worker."""
        return self._policy_memory.setdefault(id(policy), {})
