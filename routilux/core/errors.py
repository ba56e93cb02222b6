"""The exception hierarchy shared by every routilux layer.

Configuration errors are also ``ValueError`` and state errors also ``RuntimeError``, as the
earlier Routilux raised them, so ``except ValueError`` in existing code still catches them.
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "ExecutionError",
    "RoutiluxError",
    "SerializationError",
    "SlotHandlerError",
    "SlotQueueFullError",
    "StateError",
]


class RoutiluxError(Exception):
    """Base class of every error routilux raises on purpose."""


class ConfigurationError(RoutiluxError, ValueError):
    """A flow, routine, policy or runtime was set up wrongly (unknown name, bad signature)."""


class ConfigurationTypeError(ConfigurationError, TypeError):
    """A setting has the wrong type (``'3'`` or ``True`` where a count is expected)."""


class ExecutionError(RoutiluxError):
    """Something failed while a job was running."""


class SerializationError(RoutiluxError):
    """State could not be written or read back (corrupt file, unregistered type)."""


class StateError(RoutiluxError, RuntimeError):
    """An operation does not fit the current state (emit outside logic, post after shutdown)."""


class SlotHandlerError(ExecutionError):
    """User logic raised; the original exception is chained as ``__cause__``."""


class SlotQueueFullError(ExecutionError):
    """A slot's queue reached its ``max_queue_length``; the data was not accepted."""
