"""routilux: an event-driven workflow engine you can see and step through in Jupyter.

Routines declare input slots and output events, a Flow wires events to slots, and a
Runtime runs jobs through it. See ``routilux.activation_policies`` for when routines run.
"""

# The six policies (routilux.activation_policies) and deprecated aliases: see compat.
from routilux.compat import top_level_attribute as __getattr__  # noqa: F401  # PEP 562
from routilux.core.activation import ActivationRecord
from routilux.core.builder import FlowBuilder
from routilux.core.connection import Connection
from routilux.core.context import get_current_job_id, get_current_worker_state
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
from routilux.core.factory import RoutineFactory, register_routine
from routilux.core.flow import Flow
from routilux.core.hooks import Observer
from routilux.core.job import JobContext, JobStatus, get_current_job
from routilux.core.output import (
    RoutedStdout,
    clear_job_output,
    get_job_output,
    install_routed_stdout,
    uninstall_routed_stdout,
)
from routilux.core.policies import Decision
from routilux.core.registry import FlowRegistry
from routilux.core.remote import RemoteOptions, remote
from routilux.core.routine import Routine
from routilux.core.slot import Slot
from routilux.core.state import WorkerState, WorkerStatus
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
    "RemoteOptions",
    "RoutedStdout",
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
    "clear_job_output",
    "get_current_job",
    "get_current_job_id",
    "get_current_worker_state",
    "get_job_output",
    "install_routed_stdout",
    "load_flow",
    "register_routine",
    "remote",
    "save_flow",
    "uninstall_routed_stdout",
]
