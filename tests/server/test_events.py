"""The WebSocket stream: a posted job's events in order, control events, slow clients."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

from websockets.sync.client import ClientConnection, connect

from routilux.server.events import EventHub
from tests.server.conftest import TOKEN, Serve, Served, chain


def open_stream(served: Served, **options: Any) -> ClientConnection:
    return connect(
        served.ws_url, additional_headers={"Authorization": f"Bearer {TOKEN}"}, **options
    )


def events_until(stream: ClientConnection, last_type: str) -> list[dict[str, Any]]:
    """Read messages until an event of ``last_type`` arrives; returns every event read."""
    seen: list[dict[str, Any]] = []
    while not any(e["type"] == last_type for e in seen):
        seen.extend(json.loads(stream.recv(timeout=10))["events"])
    return seen


def test_the_stream_carries_a_posted_jobs_events_in_order(serve: Serve) -> None:
    # One thread: activations finish in the order they run, so the order is exact.
    served = serve([chain("pipeline", 3)], threads=1)
    with open_stream(served) as stream:
        job = served.post("/api/flows/pipeline/jobs", json={"data": {"n": 0}}).json()
        events = events_until(stream, "job_finished")
    mine = [e for e in events if e.get("job_id") == job["job_id"]]
    assert [(e["type"], e.get("routine_id")) for e in mine] == [
        ("activation_started", "r0"),
        ("emitted", "r0"),
        ("activation_finished", "r0"),
        ("activation_started", "r1"),
        ("emitted", "r1"),
        ("activation_finished", "r1"),
        ("activation_started", "r2"),
        ("emitted", "r2"),
        ("activation_finished", "r2"),
        ("activation_started", "sink"),
        ("activation_finished", "sink"),
        ("job_finished", None),
    ]
    assert [e["data"] for e in mine if e["type"] == "emitted"] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert mine[-1]["status"] == "completed"
    numbers = [e["n"] for e in mine]
    assert numbers == sorted(numbers)


def test_the_stream_tells_of_pauses_and_steps(served: Served) -> None:
    with open_stream(served) as stream:
        served.post("/api/flows/pipeline/pause")
        served.post("/api/flows/pipeline/jobs", json={"data": {"n": 0}})
        served.post("/api/flows/pipeline/step")
        events = events_until(stream, "stepped")
    kinds = [e["type"] for e in events]
    assert kinds.index("paused") < kinds.index("activation_finished") < kinds.index("stepped")
    stepped = events[kinds.index("stepped")]
    assert (stepped["flow"], stepped["paused"]) == ("pipeline", True)


def test_a_client_that_never_reads_loses_events_and_never_slows_the_run(serve: Serve) -> None:
    flow = chain("long", 4)
    served = serve([flow], store=False, client_buffer=64)
    hub: EventHub = served.app.state.hub
    # A tiny receive window, never read: the server's writes to it back up at once.
    raw = socket.create_connection(("127.0.0.1", int(served.url.rsplit(":", 1)[1])))
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    with open_stream(served, sock=raw):
        jobs = [
            served.runtime.post(flow, "r0", "input", {"n": i})[1] for i in range(2_000)
        ]  # 2,000 jobs x 5 routines: 10,000 activations
        assert all(job.wait(timeout=60) for job in jobs)
        assert all(str(job.status) == "completed" for job in jobs)
        hub.drain()
        assert hub.dropped > 0  # lost by this client, counted
        metrics = served.get("/metrics").text
        assert "routilux_stream_events_dropped_total" in metrics
        [line] = [x for x in metrics.splitlines() if x.startswith("routilux_stream_events_dr")]
        assert float(line.split()[-1]) > 0


def test_the_hub_observes_the_runtime_only_while_a_client_is_connected(served: Served) -> None:
    hub: EventHub = served.app.state.hub
    assert not hub.observing  # nobody streams: the engine pays nothing per activation
    with open_stream(served) as stream:
        served.post("/api/flows/pipeline/jobs", json={"data": {"n": 0}})
        events_until(stream, "job_finished")
        assert hub.observing
    deadline = time.monotonic() + 10
    while hub.observing and time.monotonic() < deadline:
        time.sleep(0.01)  # the server notices the close on its own loop; nothing to wait on
    assert not hub.observing
