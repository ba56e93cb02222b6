"""Prometheus metrics computed on scrape from counters the engine and the hub already keep.

Nothing here runs per activation: a scrape reads ``Worker.inspect()`` (per-routine
activation and failure counters, queue lengths, unfinished jobs), the WorkerStates' job
tallies, the hub's duration histograms (of the activations it observed: all of them with
``durations=True``, else those while a WebSocket client was connected), and times one
store read.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from routilux.runtime import Runtime
from routilux.server.events import DURATION_BUCKETS, EventHub
from routilux.store.commit_times import BUCKETS as COMMIT_BUCKETS

__all__ = ["CONTENT_TYPE", "RuntimeCollector", "render_metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class RuntimeCollector(Collector):
    """Reads a runtime's state on every scrape.

    Args:
        runtime: The runtime whose workers are read.
        hub: The event hub (duration histograms, dropped stream events).
    """

    def __init__(self, runtime: Runtime, hub: EventHub) -> None:
        self.runtime = runtime
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
        activations = CounterMetricFamily(
            "routilux_activations",
            "Activations finished, per flow and routine.",
            labels=["flow", "routine"],
        )
        failures = CounterMetricFamily(
            "routilux_activation_failures",
            "Activations whose logic raised, per flow and routine.",
            labels=["flow", "routine"],
        )
        depth = GaugeMetricFamily(
            "routilux_queue_depth",
            "Data points waiting in a slot.",
            labels=["flow", "worker", "routine", "slot"],
        )
        jobs = GaugeMetricFamily(
            "routilux_jobs", "Unfinished jobs, by status.", labels=["flow", "status"]
        )
        finished = CounterMetricFamily(
            "routilux_jobs_finished",
            "Jobs finished, by outcome.",
            labels=["flow", "status"],
        )
        workers = GaugeMetricFamily(
            "routilux_workers", "Workers, by status.", labels=["flow", "status"]
        )
        per_routine: dict[tuple[str, str], list[int]] = {}
        unfinished: dict[tuple[str, str], int] = {}
        outcomes: dict[tuple[str, str], int] = {}
        statuses: dict[tuple[str, str], int] = {}
        for worker in self.runtime.workers:
            view = worker.inspect(max_items=0)
            flow = view.flow_name
            for routine, stats in view.stats.items():
                counts = per_routine.setdefault((flow, routine), [0, 0])
                counts[0] += stats.activations
                counts[1] += stats.failures
            for routine, slots in view.queues.items():
                for slot, queue in slots.items():
                    depth.add_metric([flow, view.worker_id, routine, slot], queue.length)
            for job in view.jobs:
                key = (flow, str(job.status))
                unfinished[key] = unfinished.get(key, 0) + 1
            state = worker.state
            for status, n in (("completed", state.jobs_completed), ("failed", state.jobs_failed)):
                outcomes[(flow, status)] = outcomes.get((flow, status), 0) + n
            key = (flow, str(view.status))
            statuses[key] = statuses.get(key, 0) + 1
        for (flow, routine), (n, failed) in sorted(per_routine.items()):
            activations.add_metric([flow, routine], n)
            failures.add_metric([flow, routine], failed)
        for (flow, status), n in sorted(unfinished.items()):
            jobs.add_metric([flow, status], n)
        for (flow, status), n in sorted(outcomes.items()):
            finished.add_metric([flow, status], n)
        for (flow, status), n in sorted(statuses.items()):
            workers.add_metric([flow, status], n)
        yield from (activations, failures, depth, jobs, finished, workers)
        yield self._durations()
        yield CounterMetricFamily(
            "routilux_stream_events_dropped",
            "Events connected WebSocket clients lost by falling behind.",
            value=self.hub.dropped,
        )
        store = self._store_latency()
        if store is not None:
            yield store
        commits = self._commit_times()
        if commits is not None:
            yield commits

    def _durations(self) -> Metric:
        histogram = HistogramMetricFamily(
            "routilux_activation_duration_seconds",
            "How long activations' logic took.",
            labels=["flow", "routine"],
        )
        bounds = [str(b) for b in DURATION_BUCKETS] + ["+Inf"]
        for (flow, routine), h in sorted(self.hub.durations().items()):
            cumulative, running = [], 0
            for bound, count in zip(bounds, h.buckets, strict=True):
                running += count
                cumulative.append((bound, running))
            histogram.add_metric([flow, routine], cumulative, h.total)
        return histogram

    def _store_latency(self) -> Metric | None:
        store = self.runtime.store
        if store is None:
            return None
        started = time.perf_counter()
        try:
            store.job_key("")
        except Exception:  # a failing store shows in /health; the gauge is simply absent
            return None
        return GaugeMetricFamily(
            "routilux_store_read_seconds",
            "How long one indexed read of the store took at scrape time.",
            value=time.perf_counter() - started,
        )

    def _commit_times(self) -> Metric | None:
        store = self.runtime.store
        if store is None:
            return None
        times = store.commit_times.snapshot()
        histogram = HistogramMetricFamily(
            "routilux_store_commit_seconds",
            "How long the store's commits took (one per group of activations).",
        )
        bounds = [str(b) for b in COMMIT_BUCKETS] + ["+Inf"]
        cumulative, running = [], 0
        for bound, count in zip(bounds, times.counts, strict=True):
            running += count
            cumulative.append((bound, running))
        histogram.add_metric([], cumulative, times.total_seconds)
        return histogram


def render_metrics(collector: Any) -> bytes:
    """The Prometheus text format of ``collector`` (in a registry of its own)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry)
