"""Flow: routines and the connections between their events and slots."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from routilux.core import _check
from routilux.core._names import unknown
from routilux.core._spec import flow_from_dict, flow_to_dict
from routilux.core.connection import Connection
from routilux.core.error_handler import check_handler
from routilux.core.errors import (
    ConfigurationError,
    ConfigurationTypeError,
    SerializationError,
    StateError,
)
from routilux.core.factory import RoutineFactory
from routilux.core.remote import RemoteOptions, choice
from routilux.core.routine import Routine

if TYPE_CHECKING:
    from routilux.core.error_handler import ErrorHandler

__all__ = ["Flow"]


class _Deserialize:
    """``Flow.deserialize(data)`` builds a new flow; ``flow.deserialize(data)`` fills that
    (empty) flow, as earlier Routilux's instance method did. Both return the flow.

    Args:
        data: What :meth:`Flow.serialize` wrote.
        factory: Where routine classes are registered (default: the process-wide one).
    """

    def __get__(self, flow: Flow | None, owner: type[Flow]) -> Callable[..., Flow]:
        if flow is None:
            return functools.partial(_deserialize_new, owner)
        return functools.partial(_deserialize_into, flow)


def _deserialize_new(
    owner: type[Flow], data: dict[str, Any], factory: RoutineFactory | None = None
) -> Flow:
    return owner._from_document(data, factory)


def _deserialize_into(
    flow: Flow, data: dict[str, Any], factory: RoutineFactory | None = None
) -> Flow:
    return flow._load_document(data, factory)


class Flow:
    """A workflow definition: routines by id, and connections from events to slots.

    A flow is only a description; a :class:`~routilux.Runtime` runs it. Changes made while a
    worker runs the flow apply to workers started afterwards.

    >>> from routilux import Routine
    >>> class Step(Routine):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.add_slot("input")
    ...         self.add_event("output")
    ...     def logic(self, input, policy_message, worker_state):
    ...         self.emit("output", value=input[0])
    >>> flow = Flow("pipeline")
    >>> flow.add_routine(Step(), "first")
    'first'
    >>> flow.add_routine(Step(), "second")
    'second'
    >>> print(flow.connect("first", "output", "second", "input"))
    first.output -> second.input
    >>> flow.validate()
    []

    Flows are data too: :meth:`to_dict` / :meth:`from_dict` (and ``routilux.load_flow`` for
    YAML and JSON files) write and read them, naming routine classes registered with
    :func:`~routilux.register_routine`.
    """

    @_check.suggests_keywords
    def __init__(self, flow_id: str | None = None) -> None:
        if flow_id is not None and (not isinstance(flow_id, str) or not flow_id):
            raise ConfigurationError(f"a flow id must be a non-empty string, got {flow_id!r}")
        self.flow_id = flow_id or f"flow_{id(self):x}"
        self._routines: dict[str, Routine] = {}
        # A dict used as an ordered set: connect() checks for duplicates in constant time.
        self._connections: dict[Connection, None] = {}
        self._error_handler: ErrorHandler | None = None
        self._remote: RemoteOptions | None = None
        self._id_suffixes: dict[str, int] = {}  # derived id base -> last number handed out

    def __repr__(self) -> str:
        return (
            f"<Flow {self.flow_id!r}: {len(self._routines)} routines, "
            f"{len(self._connections)} connections>"
        )

    # -- building ------------------------------------------------------------------------

    @_check.suggests_keywords
    def add_routine(self, routine: Routine, routine_id: str | None = None) -> str:
        """Add ``routine`` under ``routine_id`` (derived from its class name if omitted).

        Returns:
            The routine's id in this flow.
        """
        if isinstance(routine, type) and issubclass(routine, Routine):
            raise ConfigurationTypeError(
                f"add_routine() takes a Routine instance, got the class {routine.__name__}: "
                f"write add_routine({routine.__name__}(), ...)"
            )
        if not isinstance(routine, Routine):
            raise ConfigurationTypeError(
                f"add_routine() takes a Routine (an instance of a Routine subclass), got "
                f"{type(routine).__name__} {routine!r}"
            )
        if routine_id is None:
            routine_id = self._free_id(type(routine).__name__)
        if not isinstance(routine_id, str) or not routine_id:
            raise ConfigurationError(f"a routine id must be a non-empty string, got {routine_id!r}")
        if routine_id in self._routines:
            raise ConfigurationError(
                f"duplicate routine id {routine_id!r} in flow {self.flow_id!r}"
            )
        if routine.flow is self:
            raise ConfigurationError(
                f"this routine object is already in flow {self.flow_id!r} as {routine.routine_id!r}"
            )
        if routine.flow is not None:
            raise ConfigurationError(
                f"{routine!r} already belongs to flow {routine.flow.flow_id!r}; "
                "create a new routine object for this flow"
            )
        routine.routine_id = routine_id
        routine.flow = self
        self._routines[routine_id] = routine
        return routine_id

    @_check.suggests_keywords
    def connect(self, source_id: str, event: str, target_id: str, slot: str) -> Connection:
        """Wire ``source_id``'s ``event`` to ``target_id``'s ``slot``.

        Returns:
            The new :class:`Connection`.
        """
        self.get_routine(source_id).get_event(event)
        self.get_routine(target_id).get_slot(slot)
        connection = Connection(source_id, event, target_id, slot)
        if connection in self._connections:
            raise ConfigurationError(f"duplicate connection {connection} in flow {self.flow_id!r}")
        self._connections[connection] = None
        return connection

    @_check.suggests_keywords
    def set_error_handler(self, handler: ErrorHandler | None) -> None:
        """The error handler for every routine that has none of its own."""
        check_handler(handler)
        self._error_handler = handler

    @property
    def error_handler(self) -> ErrorHandler | None:
        return self._error_handler

    @_check.suggests_keywords
    def set_remote(self, remote: bool | RemoteOptions | None) -> None:
        """Run the logic of every routine that did not choose for itself remotely.

        A routine's own ``set_remote()`` (``False`` included) and its class's ``@remote``
        come first; this applies to the others.

        Args:
            remote: ``True`` (on the runtime's executor), a :class:`~routilux.RemoteOptions`,
                or ``False`` / None (the default: routines run in the runtime's threads).

        Raises:
            TypeError: ``remote`` is none of those (a ConfigurationError too).
        """
        self._remote = choice(remote, "remote") or None

    @property
    def remote(self) -> RemoteOptions | None:
        """The options of :meth:`set_remote`, or None."""
        return getattr(self, "_remote", None)  # flows unpickled from older versions

    # -- reading -------------------------------------------------------------------------

    @property
    def routines(self) -> dict[str, Routine]:
        """Routines by id, in the order they were added."""
        return dict(self._routines)

    @property
    def connections(self) -> list[Connection]:
        return list(self._connections)

    def get_routine(self, routine_id: str) -> Routine:
        try:
            return self._routines[routine_id]
        except KeyError:
            raise ConfigurationError(
                unknown("routine", routine_id, self._routines, f"flow {self.flow_id!r}")
            ) from None

    def entry_slots(self) -> list[tuple[str, str]]:
        """``(routine_id, slot)`` pairs that no connection feeds: where posts go in."""
        fed = {(c.target_id, c.slot) for c in self._connections}
        return [
            (routine_id, slot.name)
            for routine_id, routine in self._routines.items()
            for slot in routine.slots
            if (routine_id, slot.name) not in fed
        ]

    def validate(self) -> list[str]:
        """Problems that would stop this flow from running; an empty list means none.

        Stubs (routines without logic) are not problems: see :meth:`warnings`.
        """
        problems: list[str] = []
        if not self._routines:
            problems.append(f"flow {self.flow_id!r} has no routines")
        for routine in self._routines.values():
            problem = routine.validate_logic()
            if problem:
                problems.append(problem)
        for c in self._connections:
            source, target = self._routines.get(c.source_id), self._routines.get(c.target_id)
            if source is None or target is None:
                problems.append(f"connection {c} names a routine that was removed")
        return problems

    def warnings(self) -> list[str]:
        """Things that let the flow run but are likely unfinished: stub routines, whose
        data waits in their slots because they have no logic yet."""
        return [
            f"routine {routine_id!r} is a stub (no logic yet): data sent to it waits in its slots"
            for routine_id, routine in self._routines.items()
            if routine.is_stub
        ]

    def _free_id(self, class_name: str) -> str:
        base = re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()
        # Numbered from where the last derived id of this base left off: constant time per
        # routine however many share a class.
        k = self._id_suffixes.get(base, 0) + 1
        candidate = base if k == 1 else f"{base}_{k}"
        while candidate in self._routines:
            k += 1
            candidate = f"{base}_{k}"
        self._id_suffixes[base] = k
        return candidate

    # -- as data -------------------------------------------------------------------------

    @_check.suggests_keywords
    def to_dict(self, factory: RoutineFactory | None = None) -> dict[str, Any]:
        """The flow as a spec: plain data that :meth:`from_dict` and ``routilux.load_flow``
        read back (``flow_id``, ``routines``, ``connections``, ``error_handler``, ``remote``).

        Args:
            factory: Where routine classes are registered by name (default: the process's
                :class:`~routilux.RoutineFactory`).

        Returns:
            A dict of JSON-compatible data (as long as routine configs are).

        Raises:
            SerializationError: A routine's class is not registered, its logic was set on
                the object with ``set_logic``, or its policy cannot be written down.
        """
        return flow_to_dict(self, factory or RoutineFactory.get_instance())

    @classmethod
    @_check.suggests_keywords
    def from_dict(cls, spec: dict[str, Any], factory: RoutineFactory | None = None) -> Flow:
        """Build a flow from a spec (see :meth:`to_dict`), instantiating registered classes.

        Nothing is imported: ``class`` names a class registered with the factory.

        Raises:
            ConfigurationError: One error listing every problem of the spec with its place.
        """
        return flow_from_dict(spec, factory or RoutineFactory.get_instance(), cls)

    @_check.suggests_keywords
    def serialize(self, factory: RoutineFactory | None = None) -> dict[str, Any]:
        """The flow as a serilux-style document: :meth:`to_dict` plus its ``_type`` tag."""
        return {"_type": "Flow", **self.to_dict(factory)}

    deserialize = _Deserialize()

    @classmethod
    def _from_document(cls, data: dict[str, Any], factory: RoutineFactory | None) -> Flow:
        if not isinstance(data, dict) or data.get("_type") != "Flow":
            raise SerializationError(f"not a serialized Flow (no '_type': 'Flow'): {data!r:.80}")
        return cls.from_dict({k: v for k, v in data.items() if k != "_type"}, factory)

    def _load_document(self, data: dict[str, Any], factory: RoutineFactory | None) -> Flow:
        """Fill this empty flow from a document, as ``flow.deserialize(data)`` did upstream."""
        if self._routines:
            raise StateError(
                f"flow {self.flow_id!r} already has routines; deserialize into a new Flow() "
                "or call Flow.deserialize(data)"
            )
        loaded = type(self)._from_document(data, factory)
        self.flow_id = loaded.flow_id
        self._routines = loaded._routines
        self._connections = loaded._connections
        self._error_handler = loaded._error_handler
        self._id_suffixes = loaded._id_suffixes
        for routine in self._routines.values():
            routine.flow = self
        return self

    # -- display -------------------------------------------------------------------------
    # -- display -------------------------------------------------------------------------

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """Show the flow as a diagram in Jupyter when the notebook extra is installed."""
        try:
            from routilux.notebook.render import mimebundle  # optional layer, loaded on display
        except ImportError:
            return {"text/plain": repr(self)}
        return mimebundle(self)
