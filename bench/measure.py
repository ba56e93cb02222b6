"""The driver: times one scenario on one engine's topology, the same way for every engine."""

from __future__ import annotations

import queue
import statistics
import time
from typing import Any, Protocol

from bench.probe import DeliveryError, Message, Probe
from bench.scenarios import BURST_CHAIN, FANOUT, FANOUT_JOIN, Scenario

# Posted before the latency samples, so first-message costs (thread start-up) stay out.
LATENCY_WARMUP = 20
TIMEOUT_S = 120.0


class Topology(Protocol):
    """A built flow, ready to take posts: what each engine module's ``build`` returns."""

    def post(self, message: Message) -> None: ...

    def wait_quiet(self, timeout: float) -> bool:
        """Wait until the engine has nothing left to run; False on timeout."""
        ...

    def close(self) -> None: ...


class Engine(Protocol):
    """An engine module: ``build(shape, probe)`` wires the probe into a topology."""

    def build(self, shape: str, probe: Probe) -> Topology: ...


def new_probe(scenario: Scenario, n: int) -> Probe:
    """The probe for ``n`` messages of ``scenario`` (latency runs add the warm-up posts)."""
    expected = n + LATENCY_WARMUP if scenario.latency else n
    branches = FANOUT if scenario.shape == FANOUT_JOIN else 0
    return Probe(expected, scenario.hops(), branches)


def run(engine: Engine, scenario: Scenario, n: int) -> dict[str, Any]:
    """Build, measure, verify and close; raise DeliveryError if any message went astray."""
    probe = new_probe(scenario, n)
    topology = engine.build(scenario.shape, probe)
    try:
        if scenario.latency:
            result = _latency(topology, probe, n)
        else:
            result = _throughput(topology, probe, scenario, n)
        if not topology.wait_quiet(TIMEOUT_S):
            raise DeliveryError(f"the engine did not go quiet within {TIMEOUT_S:g}s")
        probe.verify()
        expected = scenario.expected_activations(probe.expected)
        if probe.activations != expected:
            raise DeliveryError(f"{probe.activations} activations, expected {expected}")
    finally:
        topology.close()
    result["activations"] = probe.activations
    result["messages"] = probe.arrived
    return result


def post_all(topology: Topology, scenario: Scenario, n: int) -> None:
    """Put ``n`` messages in: ``n`` posts, or for BURST_CHAIN one post that emits them all."""
    if scenario.shape == BURST_CHAIN:
        topology.post({"count": n, "id": 0, "hops": 0, "t0": 0.0})
    else:
        for i in range(n):
            topology.post({"id": i, "hops": 0, "t0": 0.0})


def _throughput(topology: Topology, probe: Probe, scenario: Scenario, n: int) -> dict[str, Any]:
    start = time.perf_counter()
    post_all(topology, scenario, n)
    if not probe.done.wait(TIMEOUT_S):
        raise DeliveryError(f"only {probe.arrived} of {n} messages arrived within {TIMEOUT_S:g}s")
    elapsed = time.perf_counter() - start
    return {
        "elapsed_s": elapsed,
        "activations_per_s": scenario.expected_activations(n) / elapsed,
        "messages_per_s": n / elapsed,
    }


def _latency(topology: Topology, probe: Probe, n: int) -> dict[str, Any]:
    samples: list[float] = []
    for i in range(LATENCY_WARMUP + n):
        # One message in flight at a time: this measures the path, not queueing.
        topology.post({"id": i, "hops": 0, "t0": time.perf_counter()})
        try:
            latency = probe.latencies.get(timeout=TIMEOUT_S)
        except queue.Empty:
            raise DeliveryError(f"message {i} did not arrive within {TIMEOUT_S:g}s") from None
        if i >= LATENCY_WARMUP:
            samples.append(latency)
    return {
        "latency_median_us": statistics.median(samples) * 1e6,
        "latency_p95_us": statistics.quantiles(samples, n=20)[18] * 1e6,
    }
