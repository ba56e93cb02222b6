"""The context variable that tells emit(), print() and get_current_job() where they run."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from routilux.core.activation import ActivationRecord

current_activation: ContextVar[ActivationRecord | None] = ContextVar(
    "routilux_current_activation", default=None
)
