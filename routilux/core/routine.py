"""Routine: a unit of work with input slots, output events, a policy and logic."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from routilux.core import _check
from routilux.core._context import current_activation
from routilux.core._convention import calling_form
from routilux.core._names import unknown
from routilux.core.error_handler import check_handler
from routilux.core.errors import ConfigurationError, ConfigurationTypeError, StateError
from routilux.core.event import Event
from routilux.core.policies import ActivationPolicy, immediate_policy
from routilux.core.remote import Choice, RemoteOptions, check_kind, choice
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
    :meth:`set_logic` or define a ``logic`` method on the subclass. Keyword-only
    ``policy_message`` / ``worker_state`` parameters (or ``**kwargs``) get them by keyword,
    as earlier Routilux versions wrote logic. A routine without logic is a *stub*: a flow
    with stubs runs, and data sent to a stub waits in its slots.

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

    # Set by the @remote class decorator (routilux.core.remote) for every instance.
    _class_remote: ClassVar[RemoteOptions | None] = None

    def __init__(self) -> None:
        self._slots: dict[str, Slot] = {}
        self._events: dict[str, Event] = {}
        self._config: dict[str, Any] = {}
        self._logic: Logic | None = None
        self._policy: ActivationPolicy = immediate_policy()
        self._error_handler: ErrorHandler | None = None
        self._max_concurrency: int | None = None
        self._remote_choice: Choice = None  # set_remote(): options, False (local) or none
        self.routine_id: str | None = None
        self.flow: Any = None

    def __repr__(self) -> str:
        name = self.routine_id or "unattached"
        return f"<{type(self).__name__} {name}>"

    # -- ports ---------------------------------------------------------------------------

    def add_slot(
        self,
        name: str,
        max_queue_length: int | None = None,
        *,
        on_full: str = "raise",
        block_timeout: float | None = None,
        **legacy: Any,
    ) -> Slot:
        """Declare an input slot.

        Args:
            name: Unique among this routine's slots.
            max_queue_length: Positive bound on queued data per worker (None: unbounded).
            on_full: When that bound is reached: ``"raise"`` (the default),
                ``"block"`` (wait for room: backpressure) or ``"drop_oldest"``; see
                :class:`Slot`.
            block_timeout: With ``on_full="block"``, the longest a post or emit waits.

        Returns:
            The :class:`Slot`.

        ``handler=`` and ``merge_strategy=`` of Routilux 1.x are accepted with a
        DeprecationWarning and have no effect (activation policies decide what logic gets);
        any other keyword is a TypeError.
        """
        for key in legacy:
            if key not in _LEGACY_SLOT_KEYWORDS:
                raise _check.unexpected_keyword(
                    "add_slot()",
                    key,
                    [
                        "name",
                        "max_queue_length",
                        "on_full",
                        "block_timeout",
                        *_LEGACY_SLOT_KEYWORDS,
                    ],
                )
            warnings.warn(
                f"add_slot({key}=...) has no effect and is deprecated: set the logic with "
                "set_logic() and decide activation with set_activation_policy()",
                DeprecationWarning,
                stacklevel=2,
            )
        _check_name("slot", name)
        if name in self._slots:
            raise ConfigurationError(f"{self!r} already has a slot named {name!r}")
        slot = Slot(name, max_queue_length, on_full, block_timeout)
        self._slots[name] = slot
        return slot

    @_check.suggests_keywords
    def add_event(self, name: str, params: Iterable[str] | None = None) -> Event:
        """Declare an output event, optionally naming the keywords it is emitted with."""
        _check_name("event", name)
        if name in self._events:
            raise ConfigurationError(f"{self!r} already has an event named {name!r}")
        if isinstance(params, str):
            raise ConfigurationTypeError(
                f"the params of event {name!r} are a list of names, not one string: "
                f"write [{params!r}]"
            )
        names = tuple(params or ())
        for param in names:
            if not isinstance(param, str) or not param:
                raise ConfigurationError(
                    f"the params of event {name!r} must be non-empty strings, got {param!r}"
                )
        event = Event(name, names)
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

    @_check.suggests_keywords
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

    @property
    def is_stub(self) -> bool:
        """True while the routine has no logic: it can be wired and drawn, but never runs."""
        return self.get_logic() is None

    def resolve_logic(self) -> Logic | None:
        """The logic in the form the engine calls: ``fn(*slot_lists, policy_message,
        worker_state)``. Called once per worker start.

        Returns:
            The logic itself when it takes that form (no cost per call), a small adapter for
            keyword-style logic, or None for a stub.

        Raises:
            ConfigurationError: The signature fits no accepted form or is ambiguous, or the
                logic is a generator or an async generator; the message shows the accepted
                forms. (``async def`` logic is fine: the runtime awaits it.)
        """
        logic = self.get_logic()
        if logic is None:
            return None
        return calling_form(logic, len(self._slots), self.routine_id)

    @_check.suggests_keywords
    def set_activation_policy(self, policy: ActivationPolicy) -> None:
        """Decide when this routine runs and what data it gets (see ``activation_policies``)."""
        if not callable(policy):
            raise ConfigurationError(f"an activation policy must be callable, got {policy!r}")
        self._policy = policy

    @property
    def activation_policy(self) -> ActivationPolicy:
        return self._policy

    @_check.suggests_keywords
    def set_error_handler(self, handler: ErrorHandler | None) -> None:
        """Override the flow's error handler for this routine (None to use the flow's)."""
        check_handler(handler)
        self._error_handler = handler

    @property
    def error_handler(self) -> ErrorHandler | None:
        return self._error_handler

    @_check.suggests_keywords
    def set_max_concurrency(self, limit: int | None) -> None:
        """How many activations of this routine's ``async def`` logic may be awaited at
        once, or of its remote logic may run at once (:meth:`set_remote`; a
        ``RemoteOptions.max_inflight`` overrides it), per worker (None, the default: no limit
        beyond what is queued).

        Raises:
            TypeError: ``limit`` is not an int or None.
            ValueError: ``limit`` is below 1.
        """
        if limit is not None:
            if not isinstance(limit, int) or isinstance(limit, bool):
                raise TypeError(f"limit must be an int or None, got {limit!r}")
            if limit < 1:
                raise ConfigurationError(f"limit must be >= 1 or None, got {limit}")
        self._max_concurrency = limit

    @property
    def max_concurrency(self) -> int | None:
        return self._max_concurrency

    @_check.suggests_keywords
    def set_remote(self, remote: bool | RemoteOptions | None) -> None:
        """Run this routine's logic elsewhere: in a pool of processes or on Dask.

        Args:
            remote: ``True`` (on the runtime's executor, ``Runtime(executor=...)``), a
                :class:`~routilux.RemoteOptions` (which executor, how many at once, a
                timeout per attempt, Dask resources), ``False`` (in the runtime's threads,
                whatever its class or flow say) or None (the default: no choice of its own;
                its class's ``@remote``, else its flow's ``set_remote()``, decides).

        Remote logic gets a pickled copy of the routine (without its flow), its inputs and a
        snapshot of the worker state; its emits, state writes and printed text take effect
        when it returns. ``step()`` runs it in this process. See the guide's "Running logic
        in processes or on Dask".

        Raises:
            TypeError: ``remote`` is none of those (a ConfigurationError too).
        """
        self._remote_choice = choice(remote, "remote")

    @property
    def remote(self) -> RemoteOptions | None:
        """The options this routine runs remotely with, or None if it runs in the runtime's
        threads: its own choice (:meth:`set_remote`), else its class's (``@remote``), else
        its flow's (``Flow.set_remote``)."""
        chosen = getattr(self, "_remote_choice", None)  # routines pickled by older versions
        if chosen is None:
            chosen = type(self)._class_remote
        if chosen is None and self.flow is not None:
            chosen = getattr(self.flow, "remote", None)
        return chosen or None

    @_check.suggests_keywords
    def set_executor(self, executor: str | None) -> None:
        """Shorthand for :meth:`set_remote`: ``"processes"``, ``"dask"`` or
        ``"dask://host:8786"`` is ``set_remote(RemoteOptions(executor=executor))``;
        ``"threads"`` is ``set_remote(False)`` and None is ``set_remote(None)``.

        Raises:
            ConfigurationError: ``executor`` is not one of those.
        """
        if executor is None:
            self.set_remote(None)
        elif executor == "threads":
            self.set_remote(False)
        else:
            try:
                kind = check_kind(executor)
            except ConfigurationError:
                raise ConfigurationError(
                    "executor must be 'processes', 'dask', 'dask://host:port', 'threads' or "
                    f"None, got {executor!r}"
                ) from None
            self.set_remote(RemoteOptions(executor=kind))

    @property
    def executor(self) -> str | None:
        """The executor this routine's options name (see :meth:`set_remote`), or None: it
        runs in the runtime's threads, or remotely on the runtime's executor."""
        options = self.remote
        return options.executor if options is not None else None

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
        is needed. From outside logic, ``worker_state=`` (that worker) or ``runtime=`` (the
        flow's running worker in that runtime, started if none runs) picks the worker and
        the data starts a new job. Neither is ever sent as data.
        """
        if emit_in_context(self, event, data):
            return  # the common case: from this routine's own logic
        activation = current_activation.get()
        worker = _worker_for(self, activation, worker_state, runtime)
        node = worker.node_for(self)
        worker.route(activation, node, event, data)

    def validate_logic(self) -> str | None:
        """Describe why the logic cannot take this routine's slots, or return None.

        A stub (no logic) is not a problem here; :meth:`Flow.warnings` lists stubs.
        """
        logic = self.get_logic()
        if logic is None:
            return None
        try:
            calling_form(logic, len(self._slots), self.routine_id, warn=False)
        except ConfigurationError as exc:
            return str(exc)
        return None


_LEGACY_SLOT_KEYWORDS = ("handler", "merge_strategy")


def _worker_for(routine: Routine, activation: Any, worker_state: Any, runtime: Any) -> Any:
    if worker_state is not None and getattr(worker_state, "_worker", None) is not None:
        return worker_state._worker
    if activation is not None:
        # Emitting on behalf of another routine of the same flow, from inside logic.
        return activation._node.worker
    if runtime is not None:
        if routine.flow is None:
            raise StateError(f"{routine!r}.emit(runtime=...) needs the routine to be in a flow")
        return runtime.worker_for(routine.flow)
    raise StateError(
        f"{routine!r}.emit() was called outside of logic; emit from inside a routine's logic "
        "or pass worker_state= or runtime= to pick the worker"
    )


def _check_name(kind: str, name: str) -> None:
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"a {kind} name must be a non-empty string, got {name!r}")
