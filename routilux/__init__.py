"""routilux: an event-driven workflow engine you can see and step through in Jupyter.

Routines declare input slots and output events, a Flow wires events to slots, and a
Runtime runs jobs through it. See ``routilux.activation_policies`` for when routines run.
"""

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
    FlowRegistry,
    JobContext,
    JobStatus,
    Observer,
    RoutiluxError,
    Routine,
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
    uninstall_routed_stdout,
)
from routilux.job_state import JobState
from routilux.runtime import Runtime
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
    "FlowRegistry",
    "JobContext",
    "JobState",
    "JobStatus",
    "Observer",
    "RoutiluxError",
    "Routine",
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
    "get_current_job",
    "get_job_output",
    "install_routed_stdout",
    "uninstall_routed_stdout",
]
