"""routilux: an event-driven workflow engine you can see and step through in Jupyter.

Routines declare input slots and output events, a Flow wires events to slots, and a
Runtime runs jobs through it. See ``routilux.activation_policies`` for when routines run.
"""

from routilux.core.activation import ActivationRecord
from routilux.core.connection import Connection
from routilux.core.error_handler import ErrorHandler, ErrorStrategy
from routilux.core.errors import (
    ConfigurationError,
    ExecutionError,
    RoutiluxError,
    SerializationError,
    SlotHandlerError,
    SlotQueueFullError,
    StateError,
)
from routilux.core.event import Event
from routilux.core.flow import Flow
from routilux.core.hooks import Observer
from routilux.core.job import JobContext, JobStatus, get_current_job
from routilux.core.output import get_job_output, install_routed_stdout, uninstall_routed_stdout
from routilux.core.policies import Decision
from routilux.core.registry import FlowRegistry
from routilux.core.routine import Routine
from routilux.core.slot import Slot
from routilux.core.state import WorkerState, WorkerStatus
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
