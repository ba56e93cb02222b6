"""Activation policies, under the module name the seed API uses."""

from routilux.core.policies import (
    ActivationPolicy,
    Decision,
    all_slots_ready_policy,
    batch_size_policy,
    breakpoint_policy,
    custom_policy,
    immediate_policy,
    time_interval_policy,
)

__all__ = [
    "ActivationPolicy",
    "Decision",
    "all_slots_ready_policy",
    "batch_size_policy",
    "breakpoint_policy",
    "custom_policy",
    "immediate_policy",
    "time_interval_policy",
]
