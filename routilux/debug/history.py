"""History: the recent activations of a session, bounded by count and by age."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from routilux.core.activation import ActivationRecord
from routilux.core.errors import ConfigurationError

__all__ = ["History"]


class History:
    """Keeps at most ``max_size`` records, and none older than ``ttl_seconds`` (if set).

    ``clock`` is the wall clock the records' ``started_at`` uses; injectable for tests.
    """

    def __init__(
        self,
        max_size: int = 1000,
        ttl_seconds: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_size < 1:
            raise ConfigurationError(f"max_history_size must be >= 1, got {max_size}")
        if ttl_seconds is not None and ttl_seconds <= 0:
            raise ConfigurationError(f"history_ttl_seconds must be > 0, got {ttl_seconds}")
        self.max_size = max_size
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._records: deque[ActivationRecord] = deque(maxlen=max_size)
        self._lock = threading.Lock()
        # Runs once per activation, so it is the deque's own append: atomic, no lock, and
        # no Python call in between. The oldest record falls out when the deque is full.
        self.append: Callable[[ActivationRecord], None] = self._records.append

    def records(self) -> list[ActivationRecord]:
        """The kept records, oldest first (expired ones are dropped now)."""
        with self._lock:
            self._expire()
            # deque.copy() runs without releasing the GIL, so appends cannot interleave.
            return list(self._records.copy())

    def recent(self, n: int) -> list[ActivationRecord]:
        records = self.records()
        return records[-n:] if n else []

    def clear(self) -> None:
        self._records.clear()

    def __len__(self) -> int:
        return len(self.records())

    def _expire(self) -> None:
        if self.ttl_seconds is None:
            return
        horizon = self._clock() - self.ttl_seconds
        records = self._records
        while records and (records[0].started_at or 0.0) < horizon:
            records.popleft()
