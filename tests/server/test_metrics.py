"""``/metrics`` (Prometheus text, computed on scrape) and ``/health``."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from routilux import Flow
from tests.server.conftest import Fails, Serve, Served, chain


def samples(served: Served) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = served.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def test_metrics_count_activations_failures_and_jobs_per_flow_and_routine(serve: Serve) -> None:
    failing = Flow("failing")
    failing.add_routine(Fails(), "boom")
    served = serve([chain("pipeline", 2), failing], durations=True)
    for n in range(3):
        served.post("/api/flows/pipeline/jobs", json={"data": {"n": n}})
    served.post("/api/flows/failing/jobs", json={"data": 1})
    assert served.runtime.wait_until_all_jobs_finished(timeout=10)
    served.app.state.hub.drain()
    got = samples(served)
    assert got[("routilux_activations_total", (("flow", "pipeline"), ("routine", "r1")))] == 3
    assert got[("routilux_activations_total", (("flow", "failing"), ("routine", "boom")))] == 1
    failures = ("routilux_activation_failures_total", (("flow", "failing"), ("routine", "boom")))
    assert got[failures] == 1
    done = ("routilux_jobs_finished_total", (("flow", "pipeline"), ("status", "completed")))
    assert got[done] == 3
    failed = ("routilux_jobs_finished_total", (("flow", "failing"), ("status", "failed")))
    assert got[failed] == 1
    histogram = (
        "routilux_activation_duration_seconds_count",
        (("flow", "pipeline"), ("routine", "r0")),
    )
    assert got[histogram] == 3
    assert ("routilux_store_read_seconds", ()) in got
    # Group commit: at least one transaction, at most one per activation (4 jobs, 7 of them).
    commits = got[("routilux_store_commit_seconds_count", ())]
    assert 1 <= commits <= 3 * 3 + 1 + 4 * 2
    assert got[("routilux_store_commit_seconds_bucket", (("le", "+Inf"),))] == commits
    assert got[("routilux_store_commit_seconds_sum", ())] > 0


def test_queue_depth_and_unfinished_jobs_show_a_paused_worker(served: Served) -> None:
    served.post("/api/flows/pipeline/pause")
    for n in range(2):
        served.post("/api/flows/pipeline/jobs", json={"data": {"n": n}})
    got = samples(served)
    depth = (
        "routilux_queue_depth",
        (("flow", "pipeline"), ("routine", "r0"), ("slot", "input"), ("worker", "pipeline-1")),
    )
    assert got[depth] == 2
    assert got[("routilux_jobs", (("flow", "pipeline"), ("status", "pending")))] == 2
    assert got[("routilux_workers", (("flow", "pipeline"), ("status", "paused")))] == 1


def test_health_reports_the_engine_and_the_store(served: Served) -> None:
    report = served.get("/health")
    assert report.status_code == 200
    body = report.json()
    assert body["ok"] is True
    assert body["store"]["configured"] is True
    assert body["engine"]["workers"] == 0


def test_health_is_503_when_the_store_fails(served: Served) -> None:
    store = served.runtime.store
    assert store is not None
    store.close()
    report = served.get("/health")
    assert report.status_code == 503
    body = report.json()
    assert body["ok"] is False
    assert "closed" in body["store"]["error"]
