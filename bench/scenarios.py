"""The benchmark scenarios: which topology, how many messages, what to measure."""

from __future__ import annotations

from dataclasses import dataclass

CHAIN_LENGTH = 10
FANOUT = 8

# Topologies every engine builds (see bench/engines/*.py).
CHAIN = "chain"  # r0 -> r1 -> ... -> r9; each post is one message
BURST_CHAIN = "burst_chain"  # the same chain; one post makes r0 emit every message
FANOUT_JOIN = "fanout_join"  # src -> b0..b7 -> join (all slots ready)


@dataclass(frozen=True)
class Scenario:
    """One measurement.

    Attributes:
        name: Command-line name.
        label: What the table shows.
        shape: The topology (CHAIN, BURST_CHAIN or FANOUT_JOIN).
        latency: Measure post -> sink latency one message at a time instead of throughput.
        size: Messages (throughput) or latency samples in a full run.
        quick_size: The same for ``--quick``.
    """

    name: str
    label: str
    shape: str
    latency: bool
    size: int
    quick_size: int

    def hops(self) -> int:
        """Routines each message passes, the sink included."""
        return 3 if self.shape == FANOUT_JOIN else CHAIN_LENGTH

    def expected_activations(self, n: int) -> int:
        """Logic invocations a run of ``n`` messages must cause, no more, no less."""
        if self.shape == BURST_CHAIN:
            return 1 + (CHAIN_LENGTH - 1) * n
        if self.shape == FANOUT_JOIN:
            return (1 + FANOUT + 1) * n
        return CHAIN_LENGTH * n


SCENARIOS = (
    Scenario("chain_posts", "(a) chain of 10, one post per message", CHAIN, False, 2000, 300),
    Scenario("chain_emits", "(b) chain of 10, one job emits all", BURST_CHAIN, False, 2000, 300),
    Scenario("fanout_join", "(c) fan-out 1->8 then join", FANOUT_JOIN, False, 2000, 300),
    Scenario("latency", "(d) post -> sink latency, chain of 10", CHAIN, True, 300, 50),
)

BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}

# Scenarios (a) to (c) carry the throughput targets.
TARGET_VS_V110 = 10.0
TARGET_VS_PLAIN = 0.5
