"""ErrorHandler: what happens when a routine's logic raises."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from routilux.core.errors import ConfigurationError

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


@dataclass(frozen=True)
class ErrorHandler:
    """Set on a flow (``flow.set_error_handler``) or a routine (``routine.set_error_handler``).

    Args:
        strategy: One of :class:`ErrorStrategy`.
        max_retries: With RETRY, how many more attempts after the first failure.
        retry_delay: Seconds before the first retry.
        backoff: Each further retry waits this many times longer.
    """

    strategy: ErrorStrategy = ErrorStrategy.STOP
    max_retries: int = 3
    retry_delay: float = 0.0
    backoff: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.strategy, ErrorStrategy):
            raise ConfigurationError(f"unknown error strategy {self.strategy!r}")
        if self.max_retries < 0 or self.retry_delay < 0 or self.backoff < 1:
            raise ConfigurationError(
                "ErrorHandler needs max_retries >= 0, retry_delay >= 0 and backoff >= 1"
            )

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before ``attempt`` (2 is the first retry)."""
        return float(self.retry_delay * self.backoff ** max(0, attempt - 2))
