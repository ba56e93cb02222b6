"""JobState: a JSON snapshot of one job (queues, routine states, history) via serilux.

``job_state.save(path)`` writes atomically (a temporary file in the same directory, fsync,
rename, fsync of the directory), so a crash or a failed save never leaves a half-written
file in place of a good one. ``JobState.load(path)`` accepts only types registered with
serilux (``@register_serializable``) and refuses serialized callables, so loading a file
never imports a module or runs code the file names.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from serilux import Serializable, SerializableRegistry, register_serializable
from serilux.exceptions import SeriluxError

from routilux.core.engine import Engine
from routilux.core.errors import SerializationError
from routilux.core.flow import Flow
from routilux.core.job import JobContext
from routilux.core.queue import QueuedItem
from routilux.core.state import WorkerState
from routilux.core.state_file import check_plain, read_document, write_document
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
        if not isinstance(worker, Worker):
            raise TypeError(
                f"JobState.capture() takes the job's Worker first "
                f"(runtime.get_worker(job.worker_id)), got {type(worker).__name__}"
            )
        if not isinstance(job, JobContext):
            raise TypeError(
                f"JobState.capture() takes a JobContext (what post() returns) as the job, got "
                f"{type(job).__name__} {job!r}"
            )
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
        return self.resume_in(runtime.start_worker(flow))

    def resume_in(self, worker: Worker) -> JobContext:
        """Run the job on from this snapshot in ``worker`` (a new worker of its flow)."""
        flow = worker.flow
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
            SerializationError: Something in it is not plain JSON data or a registered type
                (the message names the file and the path of the bad value: NaN, infinities,
                self-references, integers of over 4,300 digits and nesting past 900 levels
                are refused), or the file cannot be written (a missing directory, say); the
                file at ``path`` is left as it was.
        """
        target = Path(path)
        try:
            document = self.serialize()
        except (SeriluxError, TypeError, ValueError, RecursionError) as exc:
            problem = check_plain(self._fields(), "$") or str(exc)
            raise SerializationError(f"cannot save job state to {target}: {problem}") from exc
        _check_types(document, target, "$")
        write_document(target, document, "job state")

    def _fields(self) -> dict[str, Any]:
        """The user data in this snapshot, to find what serialize() choked on."""
        return {
            "metadata": self.metadata,
            "routine_states": self.routine_states,
            "queued": [q.data for q in self.queued],
            "history": [[h.inputs, h.emitted, h.routine_state] for h in self.history],
        }

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> JobState:
        """Read a snapshot written by :meth:`save`.

        A file written by ``WorkerState.save`` loads too (seed code saves the state
        ``runtime.exec`` returns and loads it with ``JobState.load``): it comes back as a
        :class:`~routilux.WorkerState`, which ``runtime.exec(flow, job_state=...)`` accepts.

        Raises:
            SerializationError: The file is missing, truncated, corrupt, not a job state, has
                fields of the wrong type, or names a type nobody registered (nothing it names
                is imported or run); the message names the file and the problem.
        """
        source = Path(path)
        document = read_document(source, "job state")
        if isinstance(document, dict) and document.get("_type") == "WorkerState":
            return WorkerState.from_document(document, str(source))  # type: ignore[return-value]
        if not isinstance(document, dict) or document.get("_type") != cls.__name__:
            raise SerializationError(f"{source} does not hold a {cls.__name__}")
        if document.get("format") != FORMAT:
            raise SerializationError(
                f"{source} has job state format {document.get('format')!r}; expected {FORMAT}"
            )
        _check_types(document, source, "$")
        _check_fields(document, source)
        state = cls()
        try:
            state.deserialize(document)
        except Exception as exc:  # serilux raises what the data makes it raise
            raise SerializationError(f"{source}: {exc!r}") from exc
        if not all(isinstance(q, QueuedData) for q in state.queued) or not all(
            isinstance(h, StepRecord) for h in state.history
        ):
            raise SerializationError(f"{source}: 'queued' or 'history' holds something else")
        return state


# Fields of each document type, and the JSON types they must have.
_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "JobState": {
        "flow_name": (str,),
        "job_id": (str,),
        "status": (str,),
        "metadata": (dict,),
        "queued": (list,),
        "routine_states": (dict,),
        "history": (list,),
    },
    "QueuedData": {"routine_id": (str,), "slot": (str,)},
    "StepRecord": {
        "step": (int,),
        "routine_id": (str,),
        "inputs": (list,),
        "emitted": (list,),
        "error": (str, type(None)),
        "attempts": (int,),
    },
}


def _check_fields(value: Any, path: Path, where: str = "$") -> None:
    """Refuse fields of the wrong type before serilux builds anything from them."""
    if isinstance(value, dict):
        for name, kinds in _FIELDS.get(value.get("_type", ""), {}).items():
            if name in value and (
                type(value[name]) not in kinds or (type(value[name]) is bool and bool not in kinds)
            ):
                expected = " or ".join(k.__name__ for k in kinds)
                raise SerializationError(
                    f"{path}: {where}.{name} is {type(value[name]).__name__}, expected {expected}"
                )
        for key, item in value.items():
            _check_fields(item, path, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_fields(item, path, f"{where}[{index}]")


def _check_types(value: Any, path: Path, where: str) -> None:
    """Refuse serialized code and types nobody registered, before anything is built."""
    stack = [(value, where)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, dict):
            name = item.get("_type")
            if name is not None:
                if not isinstance(name, str):
                    raise SerializationError(
                        f"{path}: {at}._type is {name!r}; a type tag is a string"
                    )
                if name in _CODE_TYPES:
                    raise SerializationError(
                        f"{path}: {at} is serialized code ({name}); job states never hold code"
                    )
                if SerializableRegistry.get_class(name) is None:
                    raise SerializationError(
                        f"{path}: {at} has type {name!r}, which is not registered "
                        "(register it with serilux's @register_serializable)"
                    )
            stack.extend((child, f"{at}.{key}") for key, child in item.items())
        elif isinstance(item, list):
            stack.extend((child, f"{at}[{index}]") for index, child in enumerate(item))
