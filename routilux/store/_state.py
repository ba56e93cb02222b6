"""StateTracker: follows a worker's state accesses so each checkpoint holds exactly its own.

The model (documented in ``docs/guide/persistence.md``): every tracked write to a
WorkerState (a routine's state, a key of ``shared_data``, an item appended to
``shared_log``) is journaled with the activation whose logic made it, as the whole new
value of that key, and committed in the same transaction as that activation. An activation
that reads or writes a key whose last writer has not committed yet *depends* on it: its
commit waits for that writer's (through the writer's state token, see ``_commits.py``).
So the file only ever holds a prefix of each key's writes, in the order they happened, and
a resume rebuilds the state every committed activation left, nothing of the ones that run
again.

Keys, as stored: ``routine:<routine_id>``, ``data:<json of the key>`` (value NULL: deleted),
``log`` (the whole shared log, replaced) and ``log+`` (one item appended).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from routilux.core.activation import ActivationRecord
from routilux.core.errors import SerializationError
from routilux.core.state import DELETED, WorkerState
from routilux.store._commits import CommitQueue
from routilux.store._writes import StateRows, StateWrite, Track
from routilux.store.codec import encode

__all__ = ["Journal", "StateTracker", "state_key"]


def state_key(key: tuple[str, Any]) -> str:
    """The stored name of a WorkerState key (see the module docstring)."""
    kind, name = key
    if kind == "routine":
        return f"routine:{name}"
    if kind == "data":
        return "data:" + encode(name, "a shared_data key")
    return "log"


@dataclass
class Journal:
    """What one activation did to the state: its writes, and the writers it depends on."""

    token: int = 0  # 0 until it writes
    writes: dict[str, str | None] = field(default_factory=dict)
    order: list[tuple[str, str | None]] = field(default_factory=list)  # log appends in place
    deps: set[int] = field(default_factory=set)
    error: SerializationError | None = None

    def rows(self, flow_name: str) -> StateRows | None:
        """The rows to commit, or None if it wrote nothing."""
        if not self.order:
            return None
        return flow_name, self.order


class StateTracker:
    """The listener on one worker's state (``WorkerState.set_listener``).

    Args:
        queue: The recorder's commit queue (its lock guards this tracker too).
        state: The worker's state.
    """

    def __init__(self, queue: CommitQueue, state: WorkerState) -> None:
        self.queue = queue
        self.flow_name = state.flow_name
        self.journals: dict[ActivationRecord, Journal] = {}
        # Per stored key: the token of its last writer and the value it wrote.
        self.last: dict[str, tuple[int, str | None]] = {}
        # Writes made outside logic are committed in the flow's state history.
        self.track = Track("", 0, 0)

    def __call__(self, activation: ActivationRecord | None, op: str, key: Any, value: Any) -> None:
        """Called under the state's lock for every tracked access (see StateListener)."""
        queue = self.queue
        try:
            name = state_key(key)
            if op == "read":
                if activation is not None:
                    with queue.lock:
                        self._depend_locked(activation, name)
                return
            if op == "append":
                name = "log+"
            text = None if value is DELETED else encode(value, f"worker state {name!r}")
        except SerializationError as exc:
            if activation is not None:
                with queue.lock:
                    self.journals.setdefault(activation, Journal()).error = exc
                return
            raise
        if activation is None:
            self._outside(name, text)
            return
        with queue.lock:
            journal = self._depend_locked(activation, name)
            if not journal.token:
                journal.token = next(queue.tokens)
                queue.unsettled.add(journal.token)
            if name == "log+":
                journal.order.append((name, text))
            else:
                journal.writes[name] = text
                journal.order.append((name, text))
                self.last[name] = (journal.token, text)

    def _depend_locked(self, activation: ActivationRecord, name: str) -> Journal:
        """``activation``'s journal, depending on the last writer of ``name`` if uncommitted."""
        queue = self.queue
        journal = self.journals.get(activation)
        if journal is None:
            journal = self.journals[activation] = Journal()
        last = self.last.get(name)
        if last is not None:
            token = last[0]
            if token != journal.token and (queue.uncommitted(token) or token in queue.void):
                journal.deps.add(token)
        return journal

    def _outside(self, name: str, text: str | None) -> None:
        """A write made outside logic: committed now, after the writer it overwrites."""
        queue = self.queue
        with queue.lock:
            last = self.last.get(name)
            needs = []
            if last is not None and (queue.uncommitted(last[0]) or last[0] in queue.void):
                needs.append(last[0])
            token = next(queue.tokens)
            queue.unsettled.add(token)
            if name != "log+":
                self.last[name] = (token, text)
            write = StateWrite(self.track, needs, [token], (self.flow_name, [(name, text)]))
            queue.enqueue_locked(write)
        queue.flush(write)

    def finish(self, activation: ActivationRecord) -> Journal | None:
        """Take ``activation``'s journal (the caller holds the queue's lock)."""
        return self.journals.pop(activation, None)

    def seen_state(self, routine_id: str, journal: Journal | None) -> str | None:
        """The routine's state as an activation left it, for its history row: its own
        write, else the last write if it is committed (or one it depends on); else None."""
        if journal is None and not self.last:
            return None  # nothing tracked has been written yet
        name = f"routine:{routine_id}"
        if journal is not None and name in journal.writes:
            return journal.writes[name]
        last = self.last.get(name)
        if last is None:
            return None
        token, text = last
        queue = self.queue
        if queue.uncommitted(token) or token in queue.void:
            return text if journal is not None and token in journal.deps else None
        return text


def decode_key(name: str) -> tuple[str, Any]:
    """The WorkerState key a stored name stands for (the inverse of :func:`state_key`)."""
    if name.startswith("routine:"):
        return "routine", name[len("routine:") :]
    if name.startswith("data:"):
        return "data", json.loads(name[len("data:") :])
    return "log", None
