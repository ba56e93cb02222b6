"""``routilux.job_state`` as seed code imports it: the JobState of the store package."""

from routilux.store.job_state import JobState, QueuedData, StepRecord

__all__ = ["JobState", "QueuedData", "StepRecord"]
