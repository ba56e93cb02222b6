"""Every compatibility path for code written for earlier Routilux (1.x and v2), in one place.

Upstream names we keep as they were are re-exports (no warning): the six policies at the
top level (:data:`REEXPORTED`, served lazily so each object keeps one listed home),
``FlowBuilder``, ``RoutedStdout``, ``clear_job_output``,
``get_job_output(job_id, incremental=)``, ``get_current_job_id``,
``JobContext.set_data`` / ``get_data`` (kept in ``metadata``), ``ErrorHandler("retry",
retry_backoff=, retryable_exceptions=)``, keyword-only ``policy_message`` /
``worker_state`` in logic, and the module paths in :data:`MODULE_PATHS`.

Names that have a preferred spelling here, or no effect, warn with a ``DeprecationWarning``
saying what to use: :data:`DEPRECATED` for top-level names, plus ``ErrorHandler(backoff=)``,
``ErrorHandler(is_critical=)``, ``add_slot(handler=, merge_strategy=)`` and logic naming
its keyword-only parameter ``job_state``.
"""

from __future__ import annotations

import enum
import importlib
import warnings
from typing import Any

from routilux.core.registry import FlowRegistry

__all__ = [
    "DEPRECATED",
    "MODULE_PATHS",
    "REEXPORTED",
    "ExecutionStatus",
    "RoutineStatus",
    "get_flow_registry",
    "top_level_attribute",
]

# Upstream module path -> the names it gives, all re-exported from their one home here.
MODULE_PATHS: dict[str, tuple[str, ...]] = {
    "routilux.activation_policies": (
        "all_slots_ready_policy",
        "batch_size_policy",
        "breakpoint_policy",
        "custom_policy",
        "immediate_policy",
        "time_interval_policy",
    ),
    "routilux.core.context": (
        "JobContext",
        "get_current_job",
        "get_current_job_id",
        "get_current_worker_state",
    ),
    "routilux.flow": ("Flow", "FlowBuilder"),
    "routilux.flow.builder": ("FlowBuilder",),
    "routilux.job_state": ("JobState",),
    "routilux.monitoring.breakpoint_manager": ("Breakpoint", "DebugSession"),
    "routilux.monitoring.flow_registry": ("FlowRegistry",),
    "routilux.runtime": ("Runtime",),
}


class ExecutionStatus(str, enum.Enum):
    """Upstream's status of a worker or job, for comparisons in older code.

    A str enum like ours, so ``worker_state.status == ExecutionStatus.RUNNING`` and
    ``job.status == ExecutionStatus.COMPLETED`` hold exactly when they did upstream.
    Prefer :class:`~routilux.WorkerStatus` and :class:`~routilux.JobStatus`.
    """

    PENDING = "pending"
    RUNNING = "running"
    IDLE = "idle"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class RoutineStatus(str, enum.Enum):
    """Upstream's status of one routine. The engine here keeps no per-routine status;
    ``Worker.inspect().stats`` counts each routine's activations and failures."""

    PENDING = "pending"
    RUNNING = "running"
    IDLE = "idle"
    COMPLETED = "completed"
    FAILED = "failed"
    ERROR_CONTINUED = "error_continued"
    SKIPPED = "skipped"


def get_flow_registry() -> FlowRegistry:
    """Upstream's accessor for the process-wide registry: ``FlowRegistry.get_instance()``."""
    return FlowRegistry.get_instance()


# Deprecated top-level name -> (module, attribute, what to use instead).
DEPRECATED: dict[str, tuple[str, str, str]] = {
    "ExecutionRecord": ("routilux.core.activation", "ActivationRecord", "ActivationRecord"),
    "ExecutionStatus": ("routilux.compat", "ExecutionStatus", "WorkerStatus or JobStatus"),
    "RoutineStatus": ("routilux.compat", "RoutineStatus", "Worker.inspect().stats"),
    "get_flow_registry": ("routilux.compat", "get_flow_registry", "FlowRegistry.get_instance()"),
}


# Top-level names served from their one home without a warning: ``from routilux import
# immediate_policy`` works as upstream wrote it, while routilux.activation_policies stays
# the policies' only listed home.
REEXPORTED: dict[str, str] = dict.fromkeys(
    MODULE_PATHS["routilux.activation_policies"], "routilux.activation_policies"
)


def top_level_attribute(name: str) -> Any:
    """Resolve a top-level name that ``routilux`` does not define itself (PEP 562 hook):
    a re-export from its home, or a deprecated alias (with its warning).

    Raises:
        AttributeError: ``name`` is neither.
    """
    home = REEXPORTED.get(name)
    if home is not None:
        return getattr(importlib.import_module(home), name)
    entry = DEPRECATED.get(name)
    if entry is None:
        raise AttributeError(f"module 'routilux' has no attribute {name!r}")
    module, attribute, preferred = entry
    warnings.warn(
        f"routilux.{name} is deprecated; use {preferred}", DeprecationWarning, stacklevel=3
    )
    return getattr(importlib.import_module(module), attribute)
