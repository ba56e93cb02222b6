"""Activation policies, under the module name the seed API uses: the home of the policy
constructors. A policy returns a :class:`routilux.Decision`."""

from routilux.core.policies import (
    ActivationPolicy,
    all_slots_ready_policy,
    batch_size_policy,
    breakpoint_policy,
    custom_policy,
    immediate_policy,
    time_interval_policy,
)

__all__ = [
    "ActivationPolicy",
    "all_slots_ready_policy",
    "batch_size_policy",
    "breakpoint_policy",
    "custom_policy",
    "immediate_policy",
    "time_interval_policy",
]
