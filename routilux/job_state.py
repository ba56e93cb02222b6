"""JobState: a JSON snapshot of one job (queues, routine states, history) via serilux.

``job_state.save(path)`` writes atomically (a temporary file in the same directory, fsync,
rename, fsync of the directory), so a crash or a failed save never leaves a half-written
file in place of a good one. ``JobState.load(path)`` accepts only types registered with
serilux (``@register_serializable``) and refuses serialized callables, so loading a file
never imports a module or runs code the file names.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from serilux import Serializable, SerializableRegistry, register_serializable
from serilux.exceptions import SeriluxError

from routilux.core.engine import Engine
from routilux.core.errors import SerializationError
from routilux.core.flow import Flow
from routilux.core.job import JobContext
from routilux.core.queue import QueuedItem
from routilux.core.worker import Worker
from routilux.store.sqlite import SqliteStore

__all__ = ["JobState", "QueuedData", "StepRecord"]

FORMAT = 1
_CODE_TYPES = frozenset({"callable", "lambda_expression"})


@register_serializable
class QueuedData(Serializable):
    """One data point waiting in a slot."""

    routine_id: str
    slot: str
    data: Any

    def __init__(self, routine_id: str = "", slot: str = "", data: Any = None) -> None:
        super().__init__()
        self.routine_id = routine_id
        self.slot = slot
        self.data = data


@register_serializable
class StepRecord(Serializable):
    """One finished activation of the job's history."""

    step: int
    routine_id: str
    inputs: list[Any]
    emitted: list[Any]
    routine_state: Any
    error: str | None
    attempts: int

    def __init__(self) -> None:
        super().__init__()
        self.step = 0
        self.routine_id = ""
        self.inputs = []
        self.emitted = []
        self.routine_state = None
        self.error = None
        self.attempts = 0


@register_serializable
class JobState(Serializable):
    """A snapshot of one job, to save as JSON and restore later or elsewhere.

    Attributes:
        format: Version of the file layout.
        flow_name: The flow the job runs in.
        job_id: The job's id.
        status: Its status when the snapshot was taken.
        metadata: The job's metadata.
        queued: Data waiting in slots, oldest first.
        routine_states: Each routine's state.
        history: Finished activations (from a store; empty for a live capture).

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "state.json"
    >>> state = JobState(flow_name="pipeline", job_id="j1")
    >>> state.queued.append(QueuedData("source", "trigger", {"data": "Hello"}))
    >>> state.save(path)
    >>> JobState.load(path).queued[0].data
    {'data': 'Hello'}
    """

    format: int
    flow_name: str
    job_id: str
    status: str
    metadata: dict[str, Any]
    queued: list[QueuedData]
    routine_states: dict[str, Any]
    history: list[StepRecord]

    def __init__(self, flow_name: str = "", job_id: str = "", status: str = "pending") -> None:
        super().__init__()
        self.format = FORMAT
        self.flow_name = flow_name
        self.job_id = job_id
        self.status = status
        self.metadata = {}
        self.queued = []
        self.routine_states = {}
        self.history = []

    def __repr__(self) -> str:
        return (
            f"<JobState {self.job_id[:8]} {self.flow_name!r} {self.status}: "
            f"{len(self.queued)} queued, {len(self.history)} steps>"
        )

    # -- taking a snapshot -----------------------------------------------------------------

    @classmethod
    def capture(cls, worker: Worker, job: JobContext) -> JobState:
        """Snapshot a live job: pause the worker first for a consistent picture."""
        state = cls(worker.flow_name, job.job_id, str(job.status))
        state.metadata = dict(job.metadata)
        with worker.locked():
            for routine_id, node in worker.nodes.items():
                for slot, queue in node.queues.items():
                    state.queued.extend(
                        QueuedData(routine_id, slot, item.data)
                        for item in queue.items()
                        if item.job is job
                    )
        state.routine_states = worker.state.routine_states
        return state

    @classmethod
    def from_store(cls, store: SqliteStore, job_id: str) -> JobState:
        """Snapshot a job as its latest checkpoint in ``store`` has it, history included."""
        row = store.job(job_id)
        key = store.key_of(job_id)
        state = cls(row.flow_name, row.job_id, row.status)
        state.metadata = dict(row.metadata)
        state.queued = [
            QueuedData(rid, slot, json.loads(data))
            for _, rid, slot, data in store.queued_after(key, None)
        ]
        state.routine_states = {
            rid: json.loads(text) for rid, (_, text) in store.routine_states(key, None).items()
        }
        data = {item.item_id: item.data for item in store.items(job_id)}
        for activation in store.history(job_id):
            record = StepRecord()
            record.step = activation.step
            record.routine_id = activation.routine_id
            record.inputs = [data[i] for i in activation.inputs]
            record.emitted = activation.emitted
            record.routine_state = activation.routine_state
            record.error = activation.error
            record.attempts = activation.attempts
            state.history.append(record)
        return state

    # -- restoring -------------------------------------------------------------------------

    def restore(self, runtime: Engine, flow: Flow | None = None) -> JobContext:
        """Run the job on from this snapshot in a new worker of ``runtime``.

        Args:
            runtime: Where to run it.
            flow: The flow; looked up in the runtime's registry by name when omitted.
        """
        flow = flow or runtime.registry.get_by_name(self.flow_name)
        worker = runtime.start_worker(flow)
        for routine_id, routine_state in self.routine_states.items():
            if routine_id in worker.nodes and isinstance(routine_state, dict):
                worker.state.set_routine_state(routine_id, routine_state)
        job = JobContext(flow.flow_id, worker.worker_id, job_id=self.job_id, metadata=self.metadata)
        worker.adopt(job, [(q.routine_id, q.slot, QueuedItem(q.data, job)) for q in self.queued])
        return job

    # -- files -----------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the snapshot to ``path`` as JSON, atomically.

        Raises:
            SerializationError: Something in it is not JSON data or a registered type; the
                file at ``path`` is left as it was.
        """
        path = Path(path)
        try:
            document = self.serialize()
            _check_types(document, path, "$")
            text = json.dumps(document, indent=1, ensure_ascii=False, allow_nan=False)
        except (SeriluxError, TypeError, ValueError) as exc:
            raise SerializationError(f"cannot save job state to {path}: {exc}") from exc
        _write_atomically(path, text.encode("utf-8"))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> JobState:
        """Read a snapshot written by :meth:`save`.

        Raises:
            SerializationError: The file is missing, truncated, corrupt, not a job state, or
                names a type nobody registered (nothing it names is imported or run).
        """
        path = Path(path)
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SerializationError(f"cannot read job state {path}: {exc}") from exc
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SerializationError(
                f"{path} is not valid JSON (truncated or corrupt?): {exc.msg} at line "
                f"{exc.lineno} column {exc.colno}"
            ) from exc
        if not isinstance(document, dict) or document.get("_type") != cls.__name__:
            raise SerializationError(f"{path} does not hold a {cls.__name__}")
        if document.get("format") != FORMAT:
            raise SerializationError(
                f"{path} has job state format {document.get('format')!r}; expected {FORMAT}"
            )
        _check_types(document, path, "$")
        state = cls()
        try:
            state.deserialize(document)
        except (SeriluxError, TypeError, ValueError) as exc:
            raise SerializationError(f"{path}: {exc}") from exc
        if not all(isinstance(q, QueuedData) for q in state.queued) or not all(
            isinstance(h, StepRecord) for h in state.history
        ):
            raise SerializationError(f"{path}: 'queued' or 'history' holds something else")
        return state


def _check_types(value: Any, path: Path, where: str) -> None:
    """Refuse serialized code and types nobody registered, before anything is built."""
    if isinstance(value, dict):
        name = value.get("_type")
        if name is not None:
            if name in _CODE_TYPES:
                raise SerializationError(
                    f"{path}: {where} is serialized code ({name}); job states never hold code"
                )
            if not isinstance(name, str) or SerializableRegistry.get_class(name) is None:
                raise SerializationError(
                    f"{path}: {where} has type {name!r}, which is not registered "
                    "(register it with serilux's @register_serializable)"
                )
        for key, item in value.items():
            _check_types(item, path, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_types(item, path, f"{where}[{index}]")


def _write_atomically(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` so that readers see the old file or the new, never half."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise SerializationError(f"cannot write job state {path}: {exc}") from exc
        raise
    # The rename is durable only once the directory entry is on disk too.
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
