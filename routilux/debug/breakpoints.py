"""Breakpoint: where a debug session pauses, and the test of whether it matches."""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from routilux.core.errors import ConfigurationError

__all__ = ["Breakpoint", "BreakpointKind", "matching"]

BreakpointKind = Literal["before", "after", "slot", "event"]
_ids = itertools.count(1)


@dataclass(eq=False)
class Breakpoint:
    """A place to pause. Created by :meth:`DebugSession.add_breakpoint`.

    Attributes:
        routine_id: The routine it belongs to.
        kind: ``before`` / ``after`` an activation, ``slot`` receiving data, ``event`` emitted.
        slot: The slot name for slot breakpoints.
        event: The event name for event breakpoints.
        condition: ``condition(data)`` or ``condition(data, worker_state)``; the breakpoint
            only fires when it returns true. ``data`` is the data point (slot and event
            breakpoints) or the inputs per slot as a dict (routine breakpoints).
        enabled: Disabled breakpoints never fire.
        hits: How many times it fired.
        id: Unique within the process, for display.
    """

    routine_id: str
    kind: BreakpointKind = "before"
    slot: str | None = None
    event: str | None = None
    condition: Callable[..., Any] | None = None
    enabled: bool = True
    hits: int = 0
    id: int = field(default_factory=lambda: next(_ids))
    once: bool = False
    _wants_state: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        if self.condition is not None:
            if not callable(self.condition):
                raise ConfigurationError(
                    "a breakpoint condition must be a function of the data (and optionally "
                    "the WorkerState), such as lambda data: data['input'][0]['n'] > 2; got "
                    f"{type(self.condition).__name__} {self.condition!r:.60}"
                )
            self._wants_state = _takes_two_arguments(self.condition)

    def __str__(self) -> str:
        where = {
            "before": f"before {self.routine_id}",
            "after": f"after {self.routine_id}",
            "slot": f"{self.routine_id}.{self.slot} receives",
            "event": f"{self.routine_id}.{self.event} emitted",
        }[self.kind]
        flags = "" if self.enabled else " (disabled)"
        return f"#{self.id} {where}{self.condition_text}{flags}"

    @property
    def condition_text(self) -> str:
        """`` if <condition>`` for display ('' without one): the expression's text when the
        condition carries it (a ``source`` attribute, as the widget's conditions do), else
        the function's name."""
        if self.condition is None:
            return ""
        source = getattr(self.condition, "source", None)
        if isinstance(source, str):
            return f" if {source}"
        return f" if {getattr(self.condition, '__name__', 'condition')}()"

    def enable(self) -> None:
        self.enabled = True

    def disable(self) -> None:
        self.enabled = False

    def matches(self, data: Any, worker_state: Any) -> bool:
        """Whether the condition holds for ``data``; raises what the condition raises."""
        if self.condition is None:
            return True
        if self._wants_state:
            return bool(self.condition(data, worker_state))
        return bool(self.condition(data))


def matching(
    breakpoints: Iterable[Breakpoint],
    kinds: tuple[str, ...],
    routine_id: str,
    name: str | None,
    data: Any,
    worker_state: Any,
    errors: list[tuple[Breakpoint, BaseException]],
) -> list[Breakpoint]:
    """The enabled breakpoints of ``kinds`` at this place whose condition holds for ``data``.

    Args:
        breakpoints: The candidates.
        kinds: Breakpoint kinds that apply (``("before",)``, ``("slot",)``...).
        routine_id: Where it happens.
        name: The slot or event name for slot and event breakpoints, else None.
        data: What the conditions get.
        worker_state: The WorkerState, for conditions that take two arguments.
        errors: A condition that raises anything (user code) is appended here with its
            exception and does not match; it never stops the others being tried.

    Returns:
        The matching breakpoints, in their order.
    """
    hits = []
    for bp in breakpoints:
        if not bp.enabled or bp.kind not in kinds or bp.routine_id != routine_id:
            continue
        if name is not None and name != (bp.slot if bp.kind == "slot" else bp.event):
            continue
        try:
            matched = bp.matches(data, worker_state)
        except BaseException as exc:  # user code: whatever it raises must not wedge a run
            errors.append((bp, exc))
            continue
        if matched:
            hits.append(bp)
    return hits


def _takes_two_arguments(fn: Callable[..., Any]) -> bool:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    try:
        signature.bind(None, None)
    except TypeError:
        return False
    return True
