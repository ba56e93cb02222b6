"""Activation policies: pure decisions over a routine's slot queues.

A policy is called with the routine's queues (``{slot_name: SlotQueue}``, in definition
order) and the worker's :class:`~routilux.WorkerState`, under the worker's lock. It returns a
:class:`Decision` (a plain ``(activate, data_slice, message)`` tuple also works). Whatever it
consumed from the queues becomes the activation's input; when it declines, anything it
consumed is put back.

>>> from routilux.core.queue import QueuedItem, SlotQueue
>>> a, b = SlotQueue("join", "a"), SlotQueue("join", "b")
>>> a.append(QueuedItem({"x": 1}, None))
>>> all_slots_ready_policy()({"a": a, "b": b}, None).activate
False
>>> b.append(QueuedItem({"y": 2}, None))
>>> all_slots_ready_policy()({"a": a, "b": b}, None).data_slice
{'a': [{'x': 1}], 'b': [{'y': 2}]}
"""

from __future__ import annotations

import time
from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from routilux.core import _check
from routilux.core.errors import ConfigurationError

if TYPE_CHECKING:
    from routilux.core.queue import SlotQueue
    from routilux.core.state import WorkerState

__all__ = [
    "ActivationPolicy",
    "Decision",
    "all_slots_ready_policy",
    "batch_size_policy",
    "breakpoint_policy",
    "custom_policy",
    "immediate_policy",
    "time_interval_policy",
]

Slots = Mapping[str, "SlotQueue"]


_DecisionFields = namedtuple(  # a plain namedtuple, so Decision.__new__ can check
    "_DecisionFields", ["activate", "data_slice", "message", "retry_after", "hold"]
)


class Decision(_DecisionFields):
    """What a policy decided.

    Attributes:
        activate: Run the routine now.
        data_slice: Input per slot name; slots left out get ``[]``.
        message: Passed to logic as ``policy_message``.
        retry_after: When declining, ask to be asked again after this many seconds even if
            no new data arrives (time-based policies); a finite number >= 0.
        hold: Park the activation and pause the worker before it runs (breakpoints).
    """

    __slots__ = ()

    activate: bool
    data_slice: dict[str, list[Any]] | None
    message: Any
    retry_after: float | None
    hold: bool

    def __new__(
        cls,
        activate: bool,
        data_slice: dict[str, list[Any]] | None = None,
        message: Any = None,
        retry_after: float | None = None,
        hold: bool = False,
    ) -> Decision:
        if retry_after is not None:
            # Checked here, where the policy made it: a NaN would reach the timer thread.
            retry_after = _check.seconds("Decision(retry_after=)", retry_after)
        return super().__new__(cls, activate, data_slice, message, retry_after, hold)


NO = Decision(False)


class ActivationPolicy(Protocol):
    """Anything callable as ``policy(slots, worker_state) -> Decision``."""

    def __call__(self, slots: Slots, worker_state: WorkerState) -> Decision | tuple[Any, ...]: ...


class _Policy:
    """Base of the built-in policies: a name for diagrams and reprs."""

    label = "policy"

    def to_spec(self) -> str | dict[str, Any] | None:
        """This policy as plain data for a flow spec, or None if it cannot be written so."""
        return None

    def __repr__(self) -> str:
        return f"<{self.label}>"

    def __str__(self) -> str:
        return self.label


class _Immediate(_Policy):
    label = "immediate"

    def to_spec(self) -> str:
        return "immediate"

    def __call__(self, slots: Slots, worker_state: WorkerState) -> Decision:
        data_slice = {name: [q.consume_one()] for name, q in slots.items() if q._items}
        if not data_slice:
            return NO
        return Decision(True, data_slice, None)


class _AllSlotsReady(_Policy):
    label = "all_slots_ready"

    def to_spec(self) -> str:
        return "all_slots_ready"

    def __call__(self, slots: Slots, worker_state: WorkerState) -> Decision:
        for q in slots.values():
            if not len(q):
                return NO
        return Decision(True, {name: [q.consume_one()] for name, q in slots.items()}, None)


class _BatchSize(_Policy):
    def __init__(self, n: int) -> None:
        self.n = _check.count("batch_size_policy(n)", n)
        self.label = f"batch_size({n})"

    def to_spec(self) -> dict[str, Any]:
        return {"name": "batch_size", "n": self.n}

    def __call__(self, slots: Slots, worker_state: WorkerState) -> Decision:
        n = self.n
        for q in slots.values():
            if len(q) < n:
                return NO
        return Decision(True, {name: q.consume(n) for name, q in slots.items()}, {"batch_size": n})


class _TimeInterval(_Policy):
    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self.seconds = _check.seconds("time_interval_policy(seconds)", seconds, allow_zero=False)
        if not callable(clock):
            raise ConfigurationError(
                f"time_interval_policy(clock=) must be callable, got {clock!r}"
            )
        self.clock = clock
        self.label = f"time_interval({seconds:g}s)"

    def to_spec(self) -> dict[str, Any] | None:
        # A test clock cannot be written down; only the default one round-trips.
        if self.clock is not time.monotonic:
            return None
        return {"name": "time_interval", "seconds": self.seconds}

    def __call__(self, slots: Slots, worker_state: WorkerState) -> Decision:
        if not any(len(q) for q in slots.values()):
            return NO
        memory = worker_state.policy_memory(self)
        now = self.clock()
        last = memory.get("last")
        if last is not None and now - last < self.seconds:
            return Decision(False, retry_after=self.seconds - (now - last))
        memory["last"] = now
        data_slice = {name: q.consume() for name, q in slots.items()}
        return Decision(True, data_slice, {"interval": self.seconds})


class _Custom(_Policy):
    def __init__(self, fn: Callable[..., Any]) -> None:
        if not callable(fn):
            raise ConfigurationError(f"custom_policy needs a callable, got {fn!r}")
        self.fn = fn
        self.label = f"custom({getattr(fn, '__name__', 'policy')})"

    def __call__(self, slots: Slots, worker_state: WorkerState) -> Decision:
        return as_decision(self.fn(slots, worker_state), self.label)


class _Breakpoint(_Policy):
    def __init__(self, inner: ActivationPolicy, condition: Callable[..., bool] | None) -> None:
        self.inner = inner
        self.condition = condition
        self.label = f"breakpoint({inner})"

    def __call__(self, slots: Slots, worker_state: WorkerState) -> Decision:
        decision = as_decision(self.inner(slots, worker_state), self.label)
        if not decision.activate:
            return decision
        if self.condition is not None and not self.condition(decision.data_slice or {}):
            return decision
        return decision._replace(hold=True)


def is_immediate(policy: object) -> bool:
    """Whether ``policy`` is the built-in immediate policy (which workers decide inline)."""
    return type(policy) is _Immediate


def is_all_slots_ready(policy: object) -> bool:
    """Whether ``policy`` is the built-in all-slots-ready policy (decided inline too)."""
    return type(policy) is _AllSlotsReady


def as_decision(result: Any, label: str = "policy") -> Decision:
    """Accept a :class:`Decision`, a bool, or an ``(activate, data_slice, message)`` tuple."""
    if isinstance(result, Decision):
        return result
    if isinstance(result, bool):
        return Decision(result)
    if isinstance(result, tuple) and 1 <= len(result) <= 3:
        activate, data_slice, message = (*result, None, None)[:3]
        if data_slice is not None and not isinstance(data_slice, dict):
            raise ConfigurationError(
                f"{label} returned a data slice of type {type(data_slice).__name__}; "
                "expected a dict of slot name -> list"
            )
        return Decision(bool(activate), data_slice, message)
    raise ConfigurationError(
        f"{label} returned {result!r}; expected a Decision or (activate, data_slice, message)"
    )


def immediate_policy() -> ActivationPolicy:
    """Run as soon as any slot has data, taking the oldest data point of each non-empty slot.

    One data point per slot per activation, so logic written as ``data[0]`` never misses
    anything; use :func:`batch_size_policy` to take several at once.
    """
    return _Immediate()


def all_slots_ready_policy() -> ActivationPolicy:
    """Run when every slot has data, taking the oldest data point of each (a join)."""
    return _AllSlotsReady()


@_check.suggests_keywords
def batch_size_policy(n: int) -> ActivationPolicy:
    """Run when every slot has at least ``n`` data points, taking ``n`` from each."""
    return _BatchSize(n)


@_check.suggests_keywords
def time_interval_policy(
    seconds: float, clock: Callable[[], float] = time.monotonic
) -> ActivationPolicy:
    """Run at most once per ``seconds``, taking everything queued since the last run.

    Data that arrives early waits; the worker asks again when the interval is over, so the
    last data point is never left behind. ``clock`` is injectable for tests.
    """
    return _TimeInterval(seconds, clock)


@_check.suggests_keywords
def custom_policy(fn: Callable[..., Any]) -> ActivationPolicy:
    """Wrap ``fn(slots, worker_state)`` returning a Decision or ``(activate, slice, message)``.

    ``fn`` consumes what it uses with ``slots[name].consume(n)`` or ``consume_one()``.
    """
    return _Custom(fn)


@_check.suggests_keywords
def breakpoint_policy(
    inner: ActivationPolicy | None = None,
    condition: Callable[[dict[str, list[Any]]], bool] | None = None,
) -> ActivationPolicy:
    """Behave like ``inner`` (immediate by default) but pause before each activation.

    The activation is parked with its data and the worker pauses; continue it with a
    :class:`~routilux.debug.DebugSession` (``step()`` or ``resume()``). ``condition`` gets the
    inputs per slot and limits the pause to activations it returns true for.
    """
    return _Breakpoint(inner or _Immediate(), condition)


_BY_NAME: dict[str, Callable[..., ActivationPolicy]] = {
    "immediate": immediate_policy,
    "all_slots_ready": all_slots_ready_policy,
    "batch_size": batch_size_policy,
    "time_interval": time_interval_policy,
}
_PARAMS = {
    "immediate": (),
    "all_slots_ready": (),
    "batch_size": ("n",),
    "time_interval": ("seconds",),
}


def policy_to_spec(policy: object) -> str | dict[str, Any] | None:
    """``policy`` as plain data (``"immediate"`` or ``{"name": "batch_size", "n": 5}``), or
    None for a policy that cannot be written down (custom, breakpoint, a test clock)."""
    to_spec = getattr(policy, "to_spec", None) if isinstance(policy, _Policy) else None
    return to_spec() if to_spec is not None else None


def policy_from_spec(spec: object) -> ActivationPolicy:
    """Build a built-in policy from what :func:`policy_to_spec` wrote.

    Args:
        spec: A policy name, or a dict with ``name`` and the policy's parameters.

    Returns:
        The policy. Raises ConfigurationError naming the problem for anything else.
    """
    if isinstance(spec, str):
        name, params = spec, {}
    elif isinstance(spec, dict) and isinstance(spec.get("name"), str):
        name = spec["name"]
        params = {k: v for k, v in spec.items() if k != "name"}
    else:
        raise ConfigurationError(
            f"a policy must be a name or a dict with 'name', got {spec!r} "
            f"(built-in policies: {', '.join(_BY_NAME)})"
        )
    factory = _BY_NAME.get(name)
    if factory is None:
        hint = _check.closest(name, _BY_NAME)
        raise ConfigurationError(
            f"unknown policy {name!r}"
            + (f"; did you mean {hint!r}?" if hint else "")
            + f" (built-in policies: {', '.join(_BY_NAME)})"
        )
    try:
        _check.no_unknown_keywords(f"policy {name!r}", params, _PARAMS[name])
    except TypeError as exc:
        raise ConfigurationError(str(exc)) from None
    missing = [p for p in _PARAMS[name] if p not in params]
    if missing:
        raise ConfigurationError(f"policy {name!r} needs {', '.join(missing)}")
    return factory(**params)
