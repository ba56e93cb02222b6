"""ErrorHandler: what happens when a routine's logic raises."""

from __future__ import annotations

import enum
import warnings
from typing import Any

from routilux.core import _check
from routilux.core.errors import ConfigurationError, ConfigurationTypeError

__all__ = ["ErrorHandler", "ErrorStrategy"]


class ErrorStrategy(str, enum.Enum):
    """STOP fails the job; CONTINUE records the error and goes on; RETRY runs the logic
    again (then fails the job); SKIP drops the activation quietly and goes on."""

    STOP = "stop"
    CONTINUE = "continue"
    RETRY = "retry"
    SKIP = "skip"

    def __str__(self) -> str:
        return self.value


_FIELDS = ("strategy", "max_retries", "retry_delay", "retry_backoff", "retryable_exceptions")


class ErrorHandler:
    """Set on a flow (``flow.set_error_handler``) or a routine (``routine.set_error_handler``).

    Immutable and hashable, so one handler can be shared by many routines.

    Args:
        strategy: An :class:`ErrorStrategy` or its name (``"retry"``, case-insensitive).
        max_retries: With RETRY, how many more attempts after the first failure.
        retry_delay: Seconds before the first retry.
        retry_backoff: Each further retry waits this many times longer (>= 1).
        retryable_exceptions: With RETRY, only these exception types are retried; others
            fail at once. Default: every ``Exception``.

    >>> handler = ErrorHandler("retry", max_retries=2, retryable_exceptions=(TimeoutError,))
    >>> handler.should_retry(TimeoutError(), attempts=1), handler.should_retry(KeyError(), 1)
    (True, False)
    """

    __slots__ = _FIELDS

    strategy: ErrorStrategy
    max_retries: int
    retry_delay: float
    retry_backoff: float
    retryable_exceptions: tuple[type[BaseException], ...]

    def __init__(
        self,
        strategy: ErrorStrategy | str = ErrorStrategy.STOP,
        max_retries: int = 3,
        retry_delay: float = 0.0,
        retry_backoff: float = 1.0,
        retryable_exceptions: tuple[type[BaseException], ...] | type[BaseException] | None = None,
        **deprecated: Any,
    ) -> None:
        if "backoff" in deprecated:
            warnings.warn(
                "ErrorHandler(backoff=) is deprecated; use retry_backoff=",
                DeprecationWarning,
                stacklevel=2,
            )
            retry_backoff = deprecated.pop("backoff")
        if "is_critical" in deprecated:
            deprecated.pop("is_critical")
            warnings.warn(
                "ErrorHandler(is_critical=) has no effect and is deprecated: a job whose "
                "retries are exhausted always fails",
                DeprecationWarning,
                stacklevel=2,
            )
        _check.no_unknown_keywords("ErrorHandler()", deprecated, _FIELDS)
        set_ = object.__setattr__
        set_(self, "strategy", _strategy(strategy))
        set_(self, "max_retries", _check.count("max_retries", max_retries, minimum=0))
        set_(self, "retry_delay", _check.seconds("retry_delay", retry_delay))
        set_(self, "retry_backoff", _check.seconds("retry_backoff", retry_backoff, minimum=1.0))
        set_(self, "retryable_exceptions", _exception_types(retryable_exceptions))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"ErrorHandler is immutable; make a new one instead of setting {name}")

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ErrorHandler):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        types = ", ".join(t.__name__ for t in self.retryable_exceptions)
        return (
            f"ErrorHandler({self.strategy.value!r}, max_retries={self.max_retries}, "
            f"retry_delay={self.retry_delay:g}, retry_backoff={self.retry_backoff:g}, "
            f"retryable_exceptions=({types},))"
        )

    @property
    def backoff(self) -> float:
        """Deprecated name of :attr:`retry_backoff`."""
        warnings.warn(
            "ErrorHandler.backoff is deprecated; use retry_backoff",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.retry_backoff

    def should_retry(self, exc: BaseException, attempts: int) -> bool:
        """Whether to run the logic again after it raised ``exc`` on attempt ``attempts``.

        Args:
            exc: What the last attempt raised.
            attempts: How many attempts have run so far (1 after the first failure).

        Returns:
            True under RETRY when retries remain and ``exc`` is one of the retryable types.
        """
        return (
            self.strategy is ErrorStrategy.RETRY
            and attempts <= self.max_retries
            and isinstance(exc, self.retryable_exceptions)
        )

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before ``attempt`` (2 is the first retry)."""
        return float(self.retry_delay * self.retry_backoff ** max(0, attempt - 2))

    def to_dict(self) -> dict[str, Any]:
        """The handler as plain data (for flow specs); exception types by name."""
        return {
            "strategy": self.strategy.value,
            "max_retries": self.max_retries,
            "retry_delay": self.retry_delay,
            "retry_backoff": self.retry_backoff,
            "retryable_exceptions": [t.__name__ for t in self.retryable_exceptions],
        }


def _strategy(value: object) -> ErrorStrategy:
    if isinstance(value, ErrorStrategy):
        return value
    if isinstance(value, str):
        try:
            return ErrorStrategy(value.lower())
        except ValueError:
            pass
        names = ", ".join(repr(s.value) for s in ErrorStrategy)
        raise ConfigurationError(f"unknown error strategy {value!r} (known: {names})")
    raise ConfigurationTypeError(
        f"strategy must be an ErrorStrategy or its name, got {type(value).__name__} {value!r}"
    )


def _exception_types(value: object) -> tuple[type[BaseException], ...]:
    if value is None:
        return (Exception,)
    types = (value,) if isinstance(value, type) else value
    if not isinstance(types, (tuple, list)) or not types:
        raise ConfigurationTypeError(
            f"retryable_exceptions must be an exception type or a tuple of them, got {value!r}"
        )
    for t in types:
        if not (isinstance(t, type) and issubclass(t, BaseException)):
            raise ConfigurationTypeError(
                f"retryable_exceptions must hold exception types, got {t!r}"
            )
    return tuple(types)


def check_handler(handler: object) -> None:
    """Refuse what ``set_error_handler`` cannot use: a worker reads the handler only when
    logic fails, too late to say what was wrong with it."""
    if handler is not None and not isinstance(handler, ErrorHandler):
        raise ConfigurationTypeError(
            "set_error_handler() takes an ErrorHandler, such as "
            "ErrorHandler(ErrorStrategy.RETRY, max_retries=3), or None; got "
            f"{type(handler).__name__} {handler!r:.60}"
        )
