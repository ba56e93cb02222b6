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


def __getattr__(name: str) -> object:
    # Decision's home is routilux; the older spelling keeps working, loudly.
    if name == "Decision":
        import warnings

        from routilux.core.policies import Decision

        warnings.warn(
            "routilux.activation_policies.Decision is deprecated; import routilux.Decision",
            DeprecationWarning,
            stacklevel=2,
        )
        return Decision
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
