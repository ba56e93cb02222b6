"""The context variables that tell emit(), print() and get_current_job() where they run."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from routilux.core.activation import ActivationRecord
    from routilux.core.job import JobContext

current_activation: ContextVar[ActivationRecord | None] = ContextVar(
    "routilux_current_activation", default=None
)
remote_job: ContextVar[JobContext | None] = ContextVar("routilux_remote_job", default=None)
"""The job of remote logic running here (a pool process, a Dask worker), which runs without
an activation of this process: a copy of the driver's job with its data as it was sent."""
