"""What runs inside a pool process or a Dask worker: the routine, loaded once, and its logic
per activation.

The child never routes or books anything: it records what the logic did (emits, state writes,
printed text) and returns that record for the driver to replay. A Dask worker runs several
activations at once in its threads, so everything an activation records is kept per thread.
"""

from __future__ import annotations

import io
import multiprocessing
import multiprocessing.connection
import os
import pickle
import socket
import sys
import threading
import traceback
from collections import OrderedDict
from contextvars import ContextVar
from typing import Any, TextIO

from routilux.core._context import remote_job
from routilux.core.job import JobContext

__all__ = ["RemoteError", "RemoteState", "run_activation"]

# token -> (routine, logic in calling form), one entry per routine per process, the most
# recently used last; at most _MAX_LOADED are kept.
_loaded: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
_loaded_lock = threading.Lock()
_MAX_LOADED = 64
# The emits and printed text of the activation running in this thread.
_emits: ContextVar[list[tuple[str, dict[str, Any]]] | None] = ContextVar(
    "routilux_remote_emits", default=None
)
_printed: ContextVar[io.StringIO | None] = ContextVar("routilux_remote_printed", default=None)


class _CutReferences(pickle.Unpickler):
    """Loads a routine pickled with its flow reference cut off (see ``processes.dumps``)."""

    def persistent_load(self, pid: Any) -> Any:
        return None


def _record_emit(event: str, runtime: Any = None, worker_state: Any = None, **data: Any) -> None:
    # runtime= / worker_state= pick a worker in the driver; here there is only one answer.
    emits = _emits.get()
    if emits is None:
        raise RuntimeError(f"emit({event!r}) outside of this routine's logic in a remote worker")
    emits.append((event, data))


class _CapturedStdout(io.TextIOBase):
    """Stands in for stdout: text printed by an activation's logic goes to that activation's
    buffer (per thread), anything else to the stdout it replaced."""

    def __init__(self, original: TextIO) -> None:
        self.original = original

    def write(self, text: str) -> int:
        buffer = _printed.get()
        if buffer is None:
            return self.original.write(text)
        return buffer.write(text)

    def flush(self) -> None:
        self.original.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


def exit_with_parent() -> None:
    """Pool-process initializer: end this process when the driver's process ends.

    A driver killed with SIGKILL cannot shut its pool down, and an idle pool process never
    notices on its own: it would wait for work for ever. A daemon thread waits on the parent's
    sentinel instead (it becomes ready when the parent is gone) and exits the process then.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)  # the driver is gone: nothing here is worth finishing

    threading.Thread(target=watch, name="routilux-parent-watch", daemon=True).start()


def _capture_stdout() -> None:
    # Installed once per process rather than swapped per activation: activations running at
    # once in a worker's threads would otherwise restore each other's buffers.
    if not isinstance(sys.stdout, _CapturedStdout):
        sys.stdout = _CapturedStdout(sys.stdout)


def _load(token: str, blob: bytes) -> tuple[Any, Any]:
    with _loaded_lock:
        entry = _loaded.get(token)
        if entry is not None:
            _loaded.move_to_end(token)
            return entry
    routine = _CutReferences(io.BytesIO(blob)).load()
    # The logic's self.emit(...) records instead of routing: there is no worker here.
    routine.emit = _record_emit
    entry = (routine, routine.resolve_logic())
    with _loaded_lock:
        entry = _loaded.setdefault(token, entry)  # another thread may have loaded it first
        while len(_loaded) > _MAX_LOADED:
            _loaded.popitem(last=False)
    return entry


class _JournalDict(dict):  # type: ignore[type-arg]
    """A snapshot of ``shared_data`` that notes every write for the driver to replay."""

    def __init__(self, data: dict[Any, Any], journal: list[tuple[Any, ...]]) -> None:
        super().__init__(data)
        self._journal = journal

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self._journal.append(("shared_set", key, value))

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self._journal.append(("shared_del", key, None))

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value


class _JournalList(list):  # type: ignore[type-arg]
    """A snapshot of ``shared_log`` whose appends are replayed in the driver."""

    def __init__(self, items: list[Any], journal: list[tuple[Any, ...]]) -> None:
        super().__init__(items)
        self._journal = journal

    def append(self, item: Any) -> None:
        super().append(item)
        self._journal.append(("log_append", None, item))

    def extend(self, items: Any) -> None:
        for item in items:
            self.append(item)


class RemoteState:
    """The worker state as remote logic sees it: a snapshot to read, a journal of writes."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.journal: list[tuple[Any, ...]] = []
        self.lock = threading.RLock()  # logic written for threads takes it; nothing to guard
        self.worker_id: str = snapshot["worker_id"]
        self.flow_name: str = snapshot["flow_name"]
        self._routine_states: dict[str, dict[str, Any]] = snapshot["routine_states"]
        self.shared_data = _JournalDict(snapshot["shared_data"], self.journal)
        self.shared_log = _JournalList(snapshot["shared_log"], self.journal)

    def get_routine_state(self, routine_id: str, default: Any = None) -> Any:
        state = self._routine_states.get(routine_id)
        return dict(state) if state is not None else default

    def update_routine_state(self, routine_id: str, updates: dict[str, Any]) -> None:
        self._routine_states.setdefault(routine_id, {}).update(updates)
        self.journal.append(("update", routine_id, dict(updates)))

    def set_routine_state(self, routine_id: str, state: dict[str, Any]) -> None:
        self._routine_states[routine_id] = dict(state)
        self.journal.append(("set", routine_id, dict(state)))

    @property
    def routine_states(self) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in self._routine_states.items()}


class RemoteError(Exception):
    """Stands for an exception raised by remote logic that could not be pickled back."""


def _portable(exc: BaseException) -> BaseException:
    """``exc`` with the child's traceback as a note, or a RemoteError if it cannot travel.

    The traceback starts at the logic (this module's frame is the runtime's, not the user's);
    pickling drops the traceback itself, so the note is what the driver shows.
    """
    tb = exc.__traceback__
    logic_tb = tb.tb_next if tb is not None and tb.tb_next is not None else tb
    text = "".join(traceback.format_exception(type(exc), exc, logic_tb))
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        exc = RemoteError(f"{type(exc).__qualname__}: {exc}")
    add_note = getattr(exc, "add_note", None)  # Python 3.11+
    if add_note is not None:
        where = f"process {os.getpid()} on {socket.gethostname()}"
        add_note(f"raised in remote logic ({where}):\n" + text.rstrip())
    return exc


def run_activation(
    token: str,
    blob: bytes,
    inputs: list[Any],
    policy_message: Any,
    snapshot: dict[str, Any],
    job: dict[str, Any],
) -> tuple[BaseException | None, list[tuple[str, dict[str, Any]]], list[tuple[Any, ...]], str]:
    """Run one activation's logic here; return (error, emits, state journal, printed text).

    ``job`` describes the activation's job (see ``processes.job_snapshot``); the logic's
    ``get_current_job()`` returns a copy of it, and what the logic stores there with
    ``set_data`` comes back in the journal.
    """
    _, logic = _load(token, blob)
    _capture_stdout()
    state = RemoteState(snapshot)
    here = JobContext(
        job["flow_name"],
        job["worker_id"],
        job_id=job["job_id"],
        metadata=job["metadata"],
        trace_id=job["trace_id"],
    )
    sent = dict(here.metadata)
    emits: list[tuple[str, dict[str, Any]]] = []
    printed = io.StringIO()
    tokens = (_emits.set(emits), _printed.set(printed), remote_job.set(here))
    error: BaseException | None = None
    try:
        logic(*inputs, policy_message, state)
    except BaseException as exc:  # the driver's error strategy decides, as for local logic
        error = _portable(exc)
    finally:
        _emits.reset(tokens[0])
        _printed.reset(tokens[1])
        remote_job.reset(tokens[2])
    for key, value in here.metadata.items():
        if key not in sent or sent[key] is not value:
            state.journal.append(("job_data", key, value))
    return error, emits, state.journal, printed.getvalue()
