"""FlowBuilder: build a flow in one chained expression."""

from __future__ import annotations

from typing import Any

from routilux.core import _check
from routilux.core.error_handler import ErrorHandler
from routilux.core.errors import ConfigurationError
from routilux.core.flow import Flow
from routilux.core.policies import ActivationPolicy
from routilux.core.routine import Routine

__all__ = ["FlowBuilder"]


class FlowBuilder:
    """A fluent way to build a :class:`Flow`: every method but :meth:`build` returns the
    builder.

    >>> from routilux import Routine
    >>> class Step(Routine):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.add_slot("input")
    ...         self.add_event("output")
    ...     def logic(self, input, *, policy_message=None, worker_state=None):
    ...         self.emit("output", **input[0])
    >>> flow = (
    ...     FlowBuilder("pipeline")
    ...     .add_routine(Step(), "first", config={"greeting": "hi"})
    ...     .add_routine(Step(), "second")
    ...     .connect("first", "output", "second", "input")
    ...     .validate()
    ...     .build()
    ... )
    >>> flow.get_routine("first").get_config("greeting")
    'hi'
    """

    @_check.suggests_keywords
    def __init__(self, flow_id: str | None = None) -> None:
        self._flow = Flow(flow_id)

    def __repr__(self) -> str:
        return f"<FlowBuilder {self._flow!r}>"

    @_check.suggests_keywords
    def add_routine(
        self,
        routine: Routine,
        routine_id: str | None = None,
        config: dict[str, Any] | None = None,
        error_handler: ErrorHandler | None = None,
        policy: ActivationPolicy | None = None,
    ) -> FlowBuilder:
        """Add ``routine``, configured.

        Args:
            routine: The routine object.
            routine_id: Its id (derived from the class name if omitted).
            config: Passed to ``routine.set_config(**config)``.
            error_handler: The routine's own error handler.
            policy: Its activation policy.

        Returns:
            The builder.
        """
        if config is not None:
            if not isinstance(config, dict):
                raise ConfigurationError(f"config must be a dict, got {config!r}")
            routine.set_config(**config)
        if error_handler is not None:
            routine.set_error_handler(error_handler)
        if policy is not None:
            routine.set_activation_policy(policy)
        self._flow.add_routine(routine, routine_id)
        return self

    @_check.suggests_keywords
    def connect(self, source_id: str, event: str, target_id: str, slot: str) -> FlowBuilder:
        """Wire ``source_id.event`` to ``target_id.slot``. Returns the builder."""
        self._flow.connect(source_id, event, target_id, slot)
        return self

    @_check.suggests_keywords
    def error_handler(self, handler: ErrorHandler | None) -> FlowBuilder:
        """Set the flow's error handler (for routines without their own). Returns the builder."""
        self._flow.set_error_handler(handler)
        return self

    def validate(self) -> FlowBuilder:
        """Raise ConfigurationError (a ValueError) listing every problem, if there are any.

        Returns:
            The builder.
        """
        problems = self._flow.validate()
        if problems:
            raise ConfigurationError(
                f"flow {self._flow.flow_id!r} is not valid:\n"
                + "\n".join(f"  - {p}" for p in problems)
            )
        return self

    def build(self) -> Flow:
        """The flow that was built."""
        return self._flow
