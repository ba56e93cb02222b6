"""Routine: a unit of work with input slots, output events, a policy and logic."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from routilux.core._context import current_activation
from routilux.core._names import unknown
from routilux.core.errors import ConfigurationError, StateError
from routilux.core.event import Event
from routilux.core.policies import ActivationPolicy, immediate_policy
from routilux.core.slot import Slot
from routilux.core.worker import emit_in_context

if TYPE_CHECKING:
    from routilux.core.error_handler import ErrorHandler
    from routilux.core.state import WorkerState

__all__ = ["Routine"]

Logic = Callable[..., Any]


class Routine:
    """A processing step. Subclass it, declare slots and events in ``__init__``, set logic.

    Logic is called as ``logic(*slot_lists, policy_message, worker_state)``: one list of data
    points per slot, in the order the slots were added. Either pass a function to
    :meth:`set_logic` or define a ``logic`` method on the subclass.

    Routines take no constructor parameters (so state files can rebuild them); configure
    them with :meth:`set_config`. Keep run-time state in the ``worker_state``, not on ``self``:
    one routine object serves every worker of its flow, possibly in several threads.

    >>> class Double(Routine):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.add_slot("numbers")
    ...         self.add_event("doubled", ["value"])
    ...
    ...     def logic(self, numbers, policy_message, worker_state):
    ...         for point in numbers:
    ...             self.emit("doubled", value=2 * point["value"])
    >>> [s.name for s in Double().slots]
    ['numbers']
    """

    def __init__(self) -> None:
        self._slots: dict[str, Slot] = {}
        self._events: dict[str, Event] = {}
        self._config: dict[str, Any] = {}
        self._logic: Logic | None = None
        self._policy: ActivationPolicy = immediate_policy()
        self._error_handler: ErrorHandler | None = None
        self.routine_id: str | None = None
        self.flow: Any = None

    def __repr__(self) -> str:
        name = self.routine_id or "unattached"
        return f"<{type(self).__name__} {name}>"

    # -- ports ---------------------------------------------------------------------------

    def add_slot(self, name: str, max_queue_length: int | None = None, **_legacy: Any) -> Slot:
        """Declare an input slot. Returns the :class:`Slot`.

        Extra keywords of older versions (``handler``, ``merge_strategy``) are accepted and
        ignored: policies decide activation now.
        """
        _check_name("slot", name)
        if name in self._slots:
            raise ConfigurationError(f"{self!r} already has a slot named {name!r}")
        slot = Slot(name, max_queue_length)
        self._slots[name] = slot
        return slot

    def add_event(self, name: str, params: Iterable[str] | None = None) -> Event:
        """Declare an output event, optionally naming the keywords it is emitted with."""
        _check_name("event", name)
        if name in self._events:
            raise ConfigurationError(f"{self!r} already has an event named {name!r}")
        event = Event(name, tuple(params or ()))
        self._events[name] = event
        return event

    define_slot = add_slot
    define_event = add_event

    @property
    def slots(self) -> list[Slot]:
        """The slots, in the order they were added (the order logic receives them in)."""
        return list(self._slots.values())

    @property
    def events(self) -> list[Event]:
        return list(self._events.values())

    def get_slot(self, name: str) -> Slot:
        try:
            return self._slots[name]
        except KeyError:
            raise ConfigurationError(unknown("slot", name, self._slots, repr(self))) from None

    def get_event(self, name: str) -> Event:
        try:
            return self._events[name]
        except KeyError:
            raise ConfigurationError(unknown("event", name, self._events, repr(self))) from None

    # -- behaviour -----------------------------------------------------------------------

    def set_logic(self, fn: Logic) -> None:
        """Use ``fn(*slot_lists, policy_message, worker_state)`` as this routine's logic."""
        if not callable(fn):
            raise ConfigurationError(f"set_logic needs a callable, got {fn!r}")
        self._logic = fn

    def get_logic(self) -> Logic | None:
        """The logic set with :meth:`set_logic`, else a ``logic`` method, else None."""
        if self._logic is not None:
            return self._logic
        method = getattr(self, "logic", None)
        return method if callable(method) else None

    def set_activation_policy(self, policy: ActivationPolicy) -> None:
        """Decide when this routine runs and what data it gets (see ``activation_policies``)."""
        if not callable(policy):
            raise ConfigurationError(f"an activation policy must be callable, got {policy!r}")
        self._policy = policy

    @property
    def activation_policy(self) -> ActivationPolicy:
        return self._policy

    def set_error_handler(self, handler: ErrorHandler | None) -> None:
        """Override the flow's error handler for this routine (None to use the flow's)."""
        self._error_handler = handler

    @property
    def error_handler(self) -> ErrorHandler | None:
        return self._error_handler

    # -- configuration -------------------------------------------------------------------

    def set_config(self, **config: Any) -> None:
        """Store configuration values (read them in logic with :meth:`get_config`)."""
        self._config.update(config)

    def get_config(self, key: str, default: Any = None) -> Any:
        return self._config.get(key, default)

    @property
    def config(self) -> dict[str, Any]:
        """A copy of the configuration."""
        return copy.deepcopy(self._config)

    # -- running -------------------------------------------------------------------------

    def emit(
        self,
        event: str,
        runtime: Any = None,
        worker_state: WorkerState | None = None,
        **data: Any,
    ) -> None:
        """Send ``data`` (the keyword arguments) out of ``event`` to every connected slot.

        Call it from logic: the running activation is found from context, so nothing else
        is needed. ``runtime=`` and ``worker_state=`` are accepted for older code; they pick
        the worker when emitting from outside logic and are never sent as data.
        """
        if emit_in_context(self, event, data):
            return  # the common case: from this routine's own logic
        activation = current_activation.get()
        worker = _worker_for(self, activation, worker_state)
        node = worker.node_for(self)
        worker.route(activation, node, event, data)

    def validate_logic(self) -> str | None:
        """Describe why the logic cannot take this routine's slots, or return None."""
        logic = self.get_logic()
        if logic is None:
            return f"routine {self.routine_id!r} has no logic (set_logic or a logic method)"
        return check_logic_signature(logic, len(self._slots), self.routine_id)


def _worker_for(routine: Routine, activation: Any, worker_state: Any) -> Any:
    if worker_state is not None and getattr(worker_state, "_worker", None) is not None:
        return worker_state._worker
    if activation is not None:
        # Emitting on behalf of another routine of the same flow, from inside logic.
        return activation._node.worker
    raise StateError(
        f"{routine!r}.emit() was called outside of logic; emit from inside a routine's logic "
        "or pass worker_state= to pick the worker"
    )


def check_logic_signature(logic: Logic, n_slots: int, routine_id: str | None) -> str | None:
    """Describe why ``logic`` cannot be called with ``n_slots + 2`` positional arguments."""
    try:
        signature = inspect.signature(logic)
    except (TypeError, ValueError):
        return None  # builtins and C callables: nothing to check
    needed = n_slots + 2
    try:
        signature.bind(*range(needed))
    except TypeError as exc:
        params = ", ".join(str(p) for p in signature.parameters.values())
        return (
            f"logic of routine {routine_id!r} cannot be called as "
            f"logic(*{n_slots} slot lists, policy_message, worker_state): it takes ({params}); "
            f"{exc}"
        )
    return None


def _check_name(kind: str, name: str) -> None:
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"a {kind} name must be a non-empty string, got {name!r}")
