"""routilux: an event-driven workflow engine you can see and step through in Jupyter.

Routines declare input slots and output events, a Flow wires events to slots, and a
Runtime runs jobs through it. See ``routilux.activation_policies`` for when routines run.
"""

from routilux.activation_policies import (
    all_slots_ready_policy,
    batch_size_policy,
    breakpoint_policy,
    custom_policy,
    immediate_policy,
    time_interval_policy,
)
from routilux.core import (
    ActivationRecord,
    ConfigurationError,
    Connection,
    Decision,
    ErrorHandler,
    ErrorStrategy,
    Event,
    ExecutionError,
    Flow,
    FlowBuilder,
    FlowRegistry,
    JobContext,
    JobStatus,
    Observer,
    RoutiluxError,
    Routine,
    RoutineFactory,
    SerializationError,
    Slot,
    SlotHandlerError,
    SlotQueueFullError,
    StateError,
    WorkerState,
    WorkerStatus,
    get_current_job,
    get_job_output,
    install_routed_stdout,
    register_routine,
    uninstall_routed_stdout,
)
from routilux.job_state import JobState
from routilux.runtime import Runtime
from routilux.spec import load_flow, save_flow
from routilux.store.sqlite import SqliteStore

__version__ = "2.0.0.dev0"

__all__ = [
    "ActivationRecord",
    "ConfigurationError",
    "Connection",
    "Decision",
    "ErrorHandler",
    "ErrorStrategy",
    "Event",
    "ExecutionError",
    "Flow",
    "FlowBuilder",
    "FlowRegistry",
    "JobContext",
    "JobState",
    "JobStatus",
    "Observer",
    "RoutiluxError",
    "Routine",
    "RoutineFactory",
    "Runtime",
    "SerializationError",
    "Slot",
    "SlotHandlerError",
    "SlotQueueFullError",
    "SqliteStore",
    "StateError",
    "WorkerState",
    "WorkerStatus",
    "__version__",
    "all_slots_ready_policy",
    "batch_size_policy",
    "breakpoint_policy",
    "custom_policy",
    "get_current_job",
    "get_job_output",
    "immediate_policy",
    "install_routed_stdout",
    "load_flow",
    "register_routine",
    "save_flow",
    "time_interval_policy",
    "uninstall_routed_stdout",
]
