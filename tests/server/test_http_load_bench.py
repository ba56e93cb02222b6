"""``bench/http_load.py`` on a small load: every post is accepted and completes (no timing)."""

from __future__ import annotations

from bench.http_load import measure_posts


def test_the_load_bench_sees_every_posted_job_complete_exactly_once() -> None:
    result = measure_posts(posts=40, clients=4)
    assert result["errors"] == []
    assert (result["accepted"], result["completed"], result["sink_activations"]) == (40, 40, 40)
    assert result["ok"] is True
