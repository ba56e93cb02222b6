"""How a routine's logic wants to be called, decided once when a worker starts.

The engine always calls ``fn(*slot_lists, policy_message, worker_state)``. Positional logic
is that function itself, so the hot path pays nothing; keyword-style logic (Routilux 1.x
and v2: keyword-only ``policy_message`` / ``worker_state`` / ``job_state``, or ``**kwargs``)
gets a small adapter.
"""

from __future__ import annotations

import functools
import inspect
import threading
import types
import warnings
import weakref
from collections.abc import Callable
from typing import Any

from routilux.core.errors import ConfigurationError

Logic = Callable[..., Any]

_NAMES = ("policy_message", "worker_state", "job_state")
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
ACCEPTED_FORMS = (
    "accepted forms (one list of data points per slot, in slot order):\n"
    "    def logic(a, b, policy_message, worker_state)\n"
    "    def logic(a, b, *, policy_message=None, worker_state=None)\n"
    "    def logic(*slot_lists, policy_message=None, worker_state=None)\n"
    "    def logic(a, b, **kwargs)   # policy_message and worker_state arrive in kwargs"
)


def calling_form(logic: Logic, n_slots: int, routine_id: str | None, *, warn: bool = True) -> Logic:
    """A callable taking ``(*slot_lists, policy_message, worker_state)`` that runs ``logic``.

    Args:
        logic: The routine's logic.
        n_slots: How many slot lists it gets.
        routine_id: For messages.
        warn: Issue the DeprecationWarning for a ``job_state`` keyword (off when only
            validating, so a flow start warns once).

    Returns:
        ``logic`` itself when it already takes that form, else an adapter.

    Raises:
        ConfigurationError: The signature fits no accepted form, is ambiguous, or the logic
            is a generator or an async generator function.
    """
    function, bound = _function_of(logic)
    verdict = None
    if function is not None:
        with _verdicts_lock:
            verdict = _verdicts.get(function, {}).get((n_slots, bound))
    if verdict is None:
        verdict = _decide(logic, n_slots)
        if function is not None:
            with _verdicts_lock:
                _verdicts.setdefault(function, {})[(n_slots, bound)] = verdict
    where = f"logic of routine {routine_id!r}"
    if isinstance(verdict, str):
        raise ConfigurationError(f"{where} {verdict}")
    if verdict is _POSITIONAL_FORM:
        return logic
    if warn and "job_state" in verdict:
        warnings.warn(
            f"{where} names its keyword-only parameter 'job_state'; it receives the "
            "WorkerState, whose preferred name is 'worker_state'",
            DeprecationWarning,
            stacklevel=4,
        )
    return _keyword_adapter(logic, verdict)


# A verdict: _POSITIONAL_FORM, the names passed by keyword, or why the logic is refused
# (a message that follows "logic of routine 'x'").
_Verdict = frozenset[str] | str
_POSITIONAL_FORM: frozenset[str] = frozenset()
# Verdicts per plain function (a method by its function): a flow of thousands of routines
# of one class inspects that class's logic once.
_verdicts: weakref.WeakKeyDictionary[Any, dict[tuple[int, bool], _Verdict]] = (
    weakref.WeakKeyDictionary()
)
_verdicts_lock = threading.Lock()  # workers may start from several threads at once


def _function_of(logic: Logic) -> tuple[Any, bool]:
    """The plain function behind ``logic`` and whether it is bound, or (None, False)."""
    if isinstance(logic, types.FunctionType):
        return logic, False
    if isinstance(logic, types.MethodType) and isinstance(logic.__func__, types.FunctionType):
        return logic.__func__, True
    return None, False


def _decide(logic: Logic, n_slots: int) -> _Verdict:
    """How ``logic`` is called with ``n_slots`` slot lists (see :data:`_Verdict`)."""
    refused = _generator_problem(logic)
    if refused is not None:
        return refused
    try:
        signature = inspect.signature(logic)
    except (TypeError, ValueError):
        return _POSITIONAL_FORM  # builtins and C callables: nothing to inspect
    params = list(signature.parameters.values())
    var_positional = any(p.kind is p.VAR_POSITIONAL for p in params)
    var_keyword = any(p.kind is p.VAR_KEYWORD for p in params)
    by_keyword = [p.name for p in params if p.kind is p.KEYWORD_ONLY and p.name in _NAMES]
    by_position = [p.name for p in params if p.kind in _POSITIONAL and p.name in _NAMES]
    shown = f"it takes ({', '.join(str(p) for p in params)})"
    if by_keyword and by_position:
        return (
            f"is ambiguous: {shown}, naming {', '.join(by_position)} as positional and "
            f"{', '.join(by_keyword)} as keyword-only; {ACCEPTED_FORMS}"
        )
    if not by_keyword and not (var_keyword and not by_position):
        try:
            signature.bind(*range(n_slots + 2))
        except TypeError as exc:
            return (
                f"cannot be called as logic(*{n_slots} slot lists, policy_message, "
                f"worker_state): {shown}; {exc}; {ACCEPTED_FORMS}"
            )
        return _POSITIONAL_FORM
    if var_positional and var_keyword and not by_keyword:
        return (
            f"is ambiguous: {shown} could take policy_message and worker_state either way; "
            f"{ACCEPTED_FORMS}"
        )
    passed = set(by_keyword)
    if var_keyword:
        passed |= {"policy_message", "worker_state"}
    try:
        signature.bind(*range(n_slots), **dict.fromkeys(passed))
    except TypeError as exc:
        return (
            f"cannot take {n_slots} slot lists and {', '.join(sorted(passed))} by keyword: "
            f"{shown}; {exc}; {ACCEPTED_FORMS}"
        )
    return frozenset(passed)


def _keyword_adapter(logic: Logic, passed: frozenset[str]) -> Logic:
    """Call ``logic(*slot_lists, name=value, ...)`` from the engine's positional call."""
    message_names = tuple(n for n in ("policy_message",) if n in passed)
    state_names = tuple(n for n in ("worker_state", "job_state") if n in passed)
    if message_names == ("policy_message",) and state_names == ("worker_state",):

        @functools.wraps(logic)
        def call(*args: Any) -> Any:
            return logic(*args[:-2], policy_message=args[-2], worker_state=args[-1])

        return call

    @functools.wraps(logic)
    def call_named(*args: Any) -> Any:
        named = dict.fromkeys(message_names, args[-2])
        named.update(dict.fromkeys(state_names, args[-1]))
        return logic(*args[:-2], **named)

    return call_named


def _generator_problem(logic: Logic) -> str | None:
    target: Any = logic
    if not (inspect.isroutine(logic) or isinstance(logic, functools.partial)):
        target = type(logic).__call__  # a callable object: what runs is its __call__
    if inspect.isgeneratorfunction(target):
        return (
            "is a generator function: it would return a generator without running. "
            f"Emit with self.emit(...) instead of yield; {ACCEPTED_FORMS}"
        )
    if inspect.isasyncgenfunction(target):
        return (
            "is an async generator function: it would return an async generator without "
            f"running. Emit with self.emit(...) instead of yield; {ACCEPTED_FORMS}"
        )
    return None


def is_async(logic: Logic) -> bool:
    """Whether ``logic`` is a coroutine function (``async def``), which the runtime awaits
    on its event loop instead of calling in a drainer thread."""
    target: Any = logic
    while isinstance(target, functools.partial):
        target = target.func
    if not inspect.isroutine(target):
        target = type(target).__call__  # a callable object: what runs is its __call__
    return inspect.iscoroutinefunction(target)
