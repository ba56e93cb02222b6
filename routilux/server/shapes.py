"""What the API answers with: jobs, activation records and breakpoints as JSON-ready data."""

from __future__ import annotations

from typing import Any

from routilux.core.activation import ActivationRecord
from routilux.core.job import JobContext
from routilux.debug.breakpoints import Breakpoint

__all__ = ["describe_breakpoint", "describe_job", "describe_record"]


def describe_job(job: JobContext) -> dict[str, Any]:
    """A job as JSON-ready data."""
    return {
        "job_id": job.job_id,
        "flow": job.flow_name,
        "worker_id": job.worker_id,
        "status": str(job.status),
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "error": repr(job.error) if job.error is not None else None,
        "metadata": job.metadata,
    }


def describe_record(record: ActivationRecord) -> dict[str, Any]:
    """An activation: its routine, job, inputs, emits, duration and error."""
    return {
        "seq": record.seq,
        "routine_id": record.routine_id,
        "job_id": record.job_id,
        "inputs": record.inputs,
        "emitted": [[event, data] for event, data in record.emitted],
        "duration": record.duration,
        "error": repr(record.error) if record.error is not None else None,
    }


def describe_breakpoint(bp: Breakpoint) -> dict[str, Any]:
    """A breakpoint: its id (for DELETE), where it is, and how often it fired."""
    return {
        "id": bp.id,
        "routine": bp.routine_id,
        "kind": bp.kind,
        "slot": bp.slot,
        "event": bp.event,
        "enabled": bp.enabled,
        "hits": bp.hits,
    }
