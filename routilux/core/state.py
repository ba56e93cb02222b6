"""WorkerState: the long-lived state of one running flow (one worker)."""

from __future__ import annotations

import copy
import enum
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from routilux.core._context import current_activation
from routilux.core._shared import DELETED, SharedData, SharedLog
from routilux.core.errors import ConfigurationTypeError, SerializationError
from routilux.core.state_file import read_document, write_document

if TYPE_CHECKING:
    from routilux.core.activation import ActivationRecord

__all__ = ["DELETED", "FORMAT", "StateListener", "WorkerState", "WorkerStatus"]

FORMAT = 1
"""Version of the layout :meth:`WorkerState.save` writes."""

StateListener = Callable[["ActivationRecord | None", str, tuple[str, Any], Any], None]
"""``listener(activation, op, key, value)``, called under :attr:`WorkerState.lock` for every
tracked access: ``op`` is ``"read"``, ``"write"`` (``value`` is the whole new value, or
:data:`DELETED`), ``"append"`` (one item added to the shared log) or ``"reset"`` (the shared
log replaced, ``value`` the whole list); ``key`` is ``("routine", routine_id)``,
``("data", key)`` or ``("log", None)``; ``activation`` is the activation whose logic made the
access, or None outside logic. A store uses it to checkpoint exactly what each activation
wrote (see ``docs/guide/persistence.md``)."""


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
    with :meth:`update_routine_state` (under :attr:`lock` when activations run at once).

    What a store tracks: routine states changed through these methods, keys of
    ``shared_data`` assigned or deleted, and items appended to ``shared_log``. Objects changed
    in place (``shared_data["items"].append(x)``) are not seen: assign the new value instead.

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
        self.lock = threading.RLock()
        self._listener: StateListener | None = None
        self._shared_data = SharedData(self)
        self._shared_log = SharedLog(self)
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

    # -- tracking ----------------------------------------------------------------------------

    def set_listener(self, listener: StateListener | None) -> None:
        """Report every tracked access to ``listener`` (None: stop); see :data:`StateListener`."""
        with self.lock:
            self._listener = listener

    @property
    def listener(self) -> StateListener | None:
        """The listener set with :meth:`set_listener`, or None."""
        return self._listener

    def _tell(self, op: str, key: tuple[str, Any], value: Any) -> None:
        """Report an access (the caller holds :attr:`lock` and checked there is a listener)."""
        listener = self._listener
        if listener is not None:
            listener(current_activation.get(), op, key, value)

    # -- routine states ----------------------------------------------------------------------

    def get_routine_state(self, routine_id: str, default: Any = None) -> Any:
        """A copy of ``routine_id``'s state, or ``default`` if it has none yet."""
        with self.lock:
            if self._listener is not None:
                self._tell("read", ("routine", routine_id), None)
            state = self._routine_states.get(routine_id)
            return copy.deepcopy(state) if state is not None else default

    def update_routine_state(self, routine_id: str, updates: dict[str, Any]) -> None:
        """Merge ``updates`` into ``routine_id``'s state."""
        _check_routine_state(routine_id, updates, "updates")
        with self.lock:
            state = self._routine_states.setdefault(routine_id, {})
            state.update(updates)
            if self._listener is not None:
                self._tell("write", ("routine", routine_id), state)

    def set_routine_state(self, routine_id: str, state: dict[str, Any]) -> None:
        """Replace ``routine_id``'s state."""
        _check_routine_state(routine_id, state, "state")
        with self.lock:
            new = self._routine_states[routine_id] = dict(state)
            if self._listener is not None:
                self._tell("write", ("routine", routine_id), new)

    @property
    def routine_states(self) -> dict[str, dict[str, Any]]:
        """A copy of every routine's state."""
        with self.lock:
            return copy.deepcopy(self._routine_states)

    # -- shared data and log -------------------------------------------------------------------

    @property
    def shared_data(self) -> SharedData:
        """A dict any routine may use; assigning replaces its content."""
        return self._shared_data

    @shared_data.setter
    def shared_data(self, value: dict[Any, Any]) -> None:
        with self.lock:
            self._shared_data.clear()
            self._shared_data.update(value)

    @property
    def shared_log(self) -> SharedLog:
        """A list any routine may append to; assigning replaces its content."""
        return self._shared_log

    @shared_log.setter
    def shared_log(self, value: Iterable[Any]) -> None:
        self._shared_log[:] = list(value)

    def policy_memory(self, policy: object) -> dict[str, Any]:
        """Scratch space for a stateful policy, separate for each worker."""
        return self._policy_memory.setdefault(id(policy), {})

    # -- restoring -----------------------------------------------------------------------------

    def restore(
        self,
        *,
        routine_states: dict[str, dict[str, Any]] | None = None,
        shared_data: dict[Any, Any] | None = None,
        shared_log: list[Any] | None = None,
    ) -> None:
        """Replace the given parts of this state without reporting to the listener (for a
        store or a state file putting back what it saved)."""
        with self.lock:
            listener, self._listener = self._listener, None
            try:
                if routine_states is not None:
                    self._routine_states = {rid: dict(s) for rid, s in routine_states.items()}
                if shared_data is not None:
                    self.shared_data = shared_data
                if shared_log is not None:
                    self.shared_log = shared_log
            finally:
                self._listener = listener

    # -- files ---------------------------------------------------------------------------------

    def to_document(self) -> dict[str, Any]:
        """This state as the plain data :meth:`save` writes (a deep copy)."""
        with self.lock:
            try:
                return copy.deepcopy(self._document())
            except RecursionError as exc:
                raise SerializationError(
                    f"worker state {self.worker_id}: nested too deeply to copy"
                ) from exc

    def _document(self) -> dict[str, Any]:
        """The document :meth:`save` writes, sharing this state's objects."""
        return {
            "_type": "WorkerState",
            "format": FORMAT,
            "worker_id": self.worker_id,
            "flow_name": self.flow_name,
            "routine_states": self._routine_states,
            # Pairs, since shared_data keys need not be strings.
            "shared_data": [[k, v] for k, v in dict.items(self.shared_data)],
            "shared_log": list(self.shared_log),
            "jobs_completed": self.jobs_completed,
            "jobs_failed": self.jobs_failed,
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write routine states, ``shared_data`` and ``shared_log`` to ``path`` as JSON.

        The write is atomic (a temporary file, synced, renamed over ``path``): a failed save
        leaves the old file as it was.

        Args:
            path: The file.

        Raises:
            SerializationError: Something is not plain JSON data (the message gives its path,
                such as ``$.shared_data[0][1].rate is nan``), or the file cannot be written.

        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "state.json"
        >>> state = WorkerState("w1", "pipeline")
        >>> state.shared_data["seen"] = 3
        >>> state.save(path)
        >>> dict(WorkerState.load(path).shared_data)
        {'seen': 3}
        """
        with self.lock:  # written as it is now: no activation changes it halfway
            write_document(path, self._document(), "worker state")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> WorkerState:
        """Read a state written by :meth:`save` (a state of no worker, until applied to one
        with :meth:`copy_into` or ``runtime.exec(flow, worker_state=...)``).

        Raises:
            SerializationError: The file is missing, corrupt, not a worker state, or has
                fields of the wrong type; the message names the file and the problem.
        """
        return cls.from_document(read_document(path, "worker state"), str(path))

    @classmethod
    def from_document(cls, document: Any, source: str = "the document") -> WorkerState:
        """The state a :meth:`to_document` document describes (checked field by field)."""

        def bad(problem: str) -> SerializationError:
            return SerializationError(f"{source}: {problem}")

        if not isinstance(document, dict) or document.get("_type") != "WorkerState":
            raise bad("does not hold a WorkerState")
        if document.get("format") != FORMAT:
            raise bad(f"worker state format {document.get('format')!r}; expected {FORMAT}")
        fields = {
            "worker_id": str,
            "flow_name": str,
            "routine_states": dict,
            "shared_data": list,
            "shared_log": list,
            "jobs_completed": int,
            "jobs_failed": int,
        }
        for name, kind in fields.items():
            value = document.get(name)
            if type(value) is not kind:
                raise bad(f"{name} is {type(value).__name__}, expected {kind.__name__}")
        for rid, state in document["routine_states"].items():
            if type(state) is not dict:
                raise bad(f"routine_states.{rid} is {type(state).__name__}, expected dict")
        for i, pair in enumerate(document["shared_data"]):
            if type(pair) is not list or len(pair) != 2 or isinstance(pair[0], (dict, list)):
                raise bad(f"shared_data[{i}] is not a [key, value] pair")
        state = cls(document["worker_id"], document["flow_name"])
        state.restore(
            routine_states=document["routine_states"],
            shared_data=dict(document["shared_data"]),
            shared_log=document["shared_log"],
        )
        state.jobs_completed = document["jobs_completed"]
        state.jobs_failed = document["jobs_failed"]
        return state

    def copy_into(self, target: WorkerState) -> None:
        """Give ``target`` (a running worker's state) this state's routine states,
        ``shared_data`` and ``shared_log``, through its tracked methods (so a store records
        them)."""
        with self.lock:
            routines = copy.deepcopy(self._routine_states)
            shared = copy.deepcopy(dict(self.shared_data))
            log = copy.deepcopy(list(self.shared_log))
        with target.lock:
            for rid, routine_state in routines.items():
                target.set_routine_state(rid, routine_state)
            target.shared_data = shared
            target.shared_log = log


def _check_routine_state(routine_id: object, value: object, what: str) -> None:
    """Refuse a routine state call whose id is not a name or whose ``value`` is not a
    mapping, before anything changes."""
    if not isinstance(routine_id, str) or not routine_id:
        raise ConfigurationTypeError(f"routine_id must be a non-empty string, got {routine_id!r}")
    if not isinstance(value, Mapping):
        raise ConfigurationTypeError(
            f"a routine's {what} must be a dict, got {type(value).__name__} {value!r:.80}"
        )
