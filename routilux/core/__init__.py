"""The engine: routines, slots, events, flows, policies, workers and the runtime engine.

Imports only the standard library, so everything above it (debugger, store, notebook)
is optional. Users create ``routilux.Runtime`` (the engine with the debugger and the store
as parts); :class:`Engine` is the engine alone.
"""

from routilux.core.activation import ActivationRecord
from routilux.core.builder import FlowBuilder
from routilux.core.connection import Connection
from routilux.core.engine import Engine
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
from routilux.core.hooks import HOLD, Observer
from routilux.core.inspection import QueueView, RoutineStats, WorkerView
from routilux.core.job import JobContext, JobStatus, get_current_job
from routilux.core.output import get_job_output, install_routed_stdout, uninstall_routed_stdout
from routilux.core.policies import Decision
from routilux.core.queue import QueuedItem, SlotQueue
from routilux.core.registry import FlowRegistry
from routilux.core.routine import Routine
from routilux.core.slot import Slot
from routilux.core.state import WorkerState, WorkerStatus

__all__ = [
    "HOLD",
    "ActivationRecord",
    "ConfigurationError",
    "Connection",
    "Decision",
    "Engine",
    "ErrorHandler",
    "ErrorStrategy",
    "Event",
    "ExecutionError",
    "Flow",
    "FlowBuilder",
    "FlowRegistry",
    "JobContext",
    "JobStatus",
    "Observer",
    "QueueView",
    "QueuedItem",
    "RoutiluxError",
    "Routine",
    "RoutineFactory",
    "RoutineStats",
    "SerializationError",
    "Slot",
    "SlotHandlerError",
    "SlotQueue",
    "SlotQueueFullError",
    "StateError",
    "WorkerState",
    "WorkerStatus",
    "WorkerView",
    "get_current_job",
    "get_job_output",
    "install_routed_stdout",
    "register_routine",
    "uninstall_routed_stdout",
]
