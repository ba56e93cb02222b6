"""The benchmark's topologies deliver every message exactly once (no timing here)."""

from __future__ import annotations

from types import ModuleType

import pytest

from bench import measure, report
from bench.engines import ours, plain
from bench.probe import DeliveryError, Probe
from bench.scenarios import SCENARIOS, Scenario

SMALL = 40
THROUGHPUT = [s for s in SCENARIOS if not s.latency]


def deliver(engine: ModuleType, scenario: Scenario, n: int) -> Probe:
    """Run ``n`` messages through ``engine``'s topology for ``scenario`` and verify them."""
    probe = measure.new_probe(scenario, n)
    topology = engine.build(scenario.shape, probe)
    try:
        measure.post_all(topology, scenario, n)
        assert probe.done.wait(30), f"{probe.arrived} of {n} messages arrived"
        assert topology.wait_quiet(30)
    finally:
        topology.close()
    probe.verify()
    return probe


@pytest.mark.parametrize("scenario", THROUGHPUT, ids=lambda s: s.name)
@pytest.mark.parametrize("engine", [ours, plain], ids=["ours", "plain"])
def test_every_message_reaches_the_sink_exactly_once(engine: ModuleType, scenario: Scenario):
    probe = deliver(engine, scenario, SMALL)
    assert probe.arrived == SMALL
    assert probe.activations == scenario.expected_activations(SMALL)


def test_our_engine_counts_the_same_activations_as_the_plain_baseline():
    for scenario in THROUGHPUT:
        assert deliver(ours, scenario, 7).activations == deliver(plain, scenario, 7).activations


def test_probe_reports_a_lost_message():
    probe = Probe(expected=3, hops=1)
    for i in (0, 1):
        probe.arrive({"id": i, "hops": 0, "t0": 0.0})
    with pytest.raises(DeliveryError, match="1 missing"):
        probe.verify()


def test_probe_reports_a_duplicated_message():
    probe = Probe(expected=2, hops=1)
    for i in (0, 1, 1):
        probe.arrive({"id": i, "hops": 0, "t0": 0.0})
    with pytest.raises(DeliveryError, match="1 duplicated"):
        probe.verify()


def test_probe_reports_a_message_that_skipped_a_routine():
    probe = Probe(expected=1, hops=3)
    probe.arrive({"id": 0, "hops": 1, "t0": 0.0})
    with pytest.raises(DeliveryError, match="wrong hop count"):
        probe.verify()


def test_report_divides_ours_by_the_others_and_checks_the_targets():
    runs = [
        {"scenario": "chain_posts", "engine": engine, "n": 10, "activations_per_s": rate}
        for engine, rate in (("ours", 100.0), ("v110", 10.0), ("plain", 400.0))
    ]
    runs.append({"scenario": "chain_posts", "engine": "ours", "error": "lost a message"})
    row = report.ratios(report.summarise(runs))["chain_posts"]
    assert row["vs_v110"] == pytest.approx(10.0)
    assert row["vs_plain"] == pytest.approx(0.25)
    assert row["meets_vs_v110"]
    assert not row["meets_vs_plain"]


def test_the_store_breakdown_cuts_the_store_down_as_its_rungs_say(tmp_path):
    from bench import store_speed
    from routilux import SqliteStore

    for name in store_speed.RUNGS:
        assert store_speed.rung(name, 5, tmp_path / f"{name}.db", 2) > 0
    assert not (tmp_path / "headless.db").exists()
    for name in ("jobs", "python"):  # SQLite wrote nothing
        with SqliteStore(tmp_path / f"{name}.db") as store:
            assert store.jobs() == []
    with SqliteStore(tmp_path / "full.db") as store:
        assert [len(store.history(j.job_id)) for j in store.jobs()] == [10] * 5


def test_the_store_floor_logs_every_post_activation_and_job_end(tmp_path):
    import sqlite3

    from bench import store_floor

    for inline in (False, True):
        path = tmp_path / f"floor-{inline}.db"
        assert store_floor.chain(6, 2, store_floor.LogRecorder(path, inline=inline)) > 0
        with sqlite3.connect(path) as db:
            lines = "\n".join(body for (body,) in db.execute("SELECT body FROM log")).split("\n")
        kinds = [line.split("\t")[0] for line in lines]
        assert (kinds.count("P"), kinds.count("A"), kinds.count("S")) == (6, 60, 6)
        statuses = {line.split("\t")[2] for line in lines if line.startswith("S")}
        assert statuses == {"completed"}
