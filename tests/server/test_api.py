"""Every HTTP route against a real uvicorn, and bad input that gets a clear 4xx."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from routilux.server.api import ENDPOINTS
from tests.server.conftest import Fails, Serve, Served, chain


def finished(served: Served) -> None:
    assert served.runtime.wait_until_all_jobs_finished(timeout=10)


def post(served: Served, flow: str = "pipeline", **body: Any) -> httpx.Response:
    return served.post(f"/api/flows/{flow}/jobs", json=body)


def test_flows_lists_each_served_flow_with_its_routines_and_entry_slots(served: Served) -> None:
    flows = served.get("/api/flows").json()
    assert [f["flow_id"] for f in flows] == ["pipeline", "short"]
    pipeline = served.get("/api/flows/pipeline").json()
    assert [r["id"] for r in pipeline["routines"]] == ["r0", "r1", "r2", "sink"]
    assert pipeline["entry_slots"] == ["r0.input"]
    assert {"from": "r0.output", "to": "r1.input"} in pipeline["connections"]


def test_an_unknown_flow_is_404_naming_the_served_ones(served: Served) -> None:
    response = served.get("/api/flows/nope")
    assert response.status_code == 404
    assert response.json()["error"] == "unknown flow 'nope' (served: 'pipeline', 'short')"
    assert post(served, "nope", data={"n": 1}).status_code == 404


def test_the_diagram_is_svg_and_the_live_one_highlights_the_last_routine(served: Served) -> None:
    static = served.get("/api/flows/pipeline/diagram.svg")
    assert static.headers["content-type"].startswith("image/svg+xml")
    assert 'id="routine&#45;r0"' in static.text
    served.post("/api/flows/pipeline/pause")
    post(served, data={"n": 0})
    served.post("/api/flows/pipeline/step")
    live = served.get("/api/flows/pipeline/diagram.svg", params={"live": "1"}).text
    assert 'class="node routine state&#45;done highlight"' in live
    assert "highlight" not in static.text


def test_a_post_goes_to_the_entry_slot_and_its_job_completes(served: Served) -> None:
    response = post(served, data={"n": 1}, metadata={"user": "ada"})
    assert response.status_code == 201
    job = response.json()
    assert (job["flow"], job["metadata"]) == ("pipeline", {"user": "ada"})
    finished(served)
    shown = served.get(f"/api/jobs/{job['job_id']}").json()
    assert shown["status"] == "completed"
    assert shown["finished_at"] >= shown["created_at"]


def test_a_post_may_name_the_routine_slot_and_job_id(served: Served) -> None:
    response = post(served, routine="r1", slot="input", data={"n": 5}, job_id="my-job")
    assert response.status_code == 201
    assert response.json()["job_id"] == "my-job"
    finished(served)
    view = served.get("/api/flows/pipeline/worker").json()
    assert view["stats"]["r0"]["activations"] == 0
    assert view["stats"]["r1"]["activations"] == 1


def test_jobs_can_be_listed_by_flow_and_status(served: Served) -> None:
    post(served, data={"n": 1})
    post(served, "short", data={"n": 1})
    finished(served)
    assert len(served.get("/api/jobs").json()) == 2
    assert [j["flow"] for j in served.get("/api/jobs", params={"flow": "short"}).json()] == [
        "short"
    ]
    assert served.get("/api/jobs", params={"status": "failed"}).json() == []
    assert served.get("/api/jobs", params={"colour": "red"}).status_code == 422
    unknown = served.get("/api/jobs", params={"status": "done"})
    assert unknown.status_code == 422
    assert "unknown status 'done' (one of: pending, running, completed" in unknown.json()["error"]
    assert len(served.get("/api/jobs", params={"limit": "1"}).json()) == 1
    assert served.get("/api/jobs", params={"limit": "0"}).status_code == 422
    assert served.get("/api/jobs/nope").status_code == 404


def test_a_job_can_be_cancelled_once(served: Served) -> None:
    served.post("/api/flows/pipeline/pause")
    job = post(served, data={"n": 1}).json()
    response = served.post(f"/api/jobs/{job['job_id']}/cancel")
    assert response.json()["status"] == "cancelled"
    again = served.post(f"/api/jobs/{job['job_id']}/cancel")
    assert again.status_code == 409
    assert "already cancelled" in again.json()["error"]


def test_pause_step_and_resume_drive_the_worker_one_activation_at_a_time(served: Served) -> None:
    assert served.post("/api/flows/pipeline/pause").json()["paused"] is True
    post(served, data={"n": 0})
    stepped = [served.post("/api/flows/pipeline/step").json() for _ in range(2)]
    assert [s["stepped"]["routine_id"] for s in stepped] == ["r0", "r1"]
    assert stepped[1]["stepped"]["emitted"] == [["output", {"n": 2}]]
    assert stepped[1]["queues"]["r2"]["input"] == {"length": 1, "items": [{"n": 2}]}
    resumed = served.post("/api/flows/pipeline/resume").json()
    assert resumed["paused"] is False
    finished(served)
    idle = served.post("/api/flows/pipeline/step").json()  # pauses again: nothing to run
    assert idle["stepped"] is None


def test_a_breakpoint_parks_the_activation_until_it_is_removed(served: Served) -> None:
    added = served.post("/api/flows/pipeline/breakpoints", json={"routine": "r1"})
    assert added.status_code == 201
    bp = added.json()
    assert (bp["routine"], bp["kind"]) == ("r1", "before")
    post(served, data={"n": 0})
    view = served.get("/api/flows/pipeline/worker").json()
    while not view["held"]:  # the hold happens on a worker thread; the debugger waits on it
        served.app.state.service.session("pipeline").wait_until_paused(timeout=10)
        view = served.get("/api/flows/pipeline/worker").json()
    assert view["held"][0]["routine_id"] == "r1"
    assert view["paused"] is True
    listed = served.get("/api/flows/pipeline/breakpoints").json()
    assert [b["hits"] for b in listed] == [1]
    assert served.delete(f"/api/flows/pipeline/breakpoints/{bp['id']}").status_code == 204
    assert served.delete(f"/api/flows/pipeline/breakpoints/{bp['id']}").status_code == 404
    served.post("/api/flows/pipeline/resume")
    finished(served)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"routine": "nope"}, "unknown routine 'nope'"),
        ({"routine": "r0", "slot": "in"}, "unknown slot 'in'"),
        ({"routine": "r0", "when": "during"}, "when must be 'before' or 'after'"),
        ({"routine": "r0", "colour": 1}, "unknown key 'colour'"),
        ({"slot": "input"}, '"routine" must be a non-empty string'),
    ],
)
def test_a_bad_breakpoint_is_422_with_the_reason(
    served: Served, body: dict[str, Any], message: str
) -> None:
    response = served.post("/api/flows/pipeline/breakpoints", json=body)
    assert response.status_code == 422
    assert message in response.json()["error"]


def test_the_store_routes_show_history_and_fork(served: Served) -> None:
    job = post(served, data={"n": 0}).json()
    finished(served)
    rows = served.get("/api/store/jobs").json()
    assert [(r["job_id"], r["status"]) for r in rows] == [(job["job_id"], "completed")]
    assert served.get("/api/store/jobs", params={"unfinished": "1"}).json() == []
    stored = served.get(f"/api/store/jobs/{job['job_id']}").json()
    assert [s["routine_id"] for s in stored["history"]] == ["r0", "r1", "r2", "sink"]
    fork = served.post(f"/api/store/jobs/{job['job_id']}/fork", json={"step": 2})
    assert fork.status_code == 201
    finished(served)
    forked = served.get(f"/api/store/jobs/{fork.json()['job_id']}").json()
    assert forked["job"]["parent_job_id"] == job["job_id"]
    assert [s["routine_id"] for s in forked["history"]] == ["r2", "sink"]
    bad_step = served.post(f"/api/store/jobs/{job['job_id']}/fork", json={"step": -1})
    assert bad_step.status_code == 422
    past_end = served.post(f"/api/store/jobs/{job['job_id']}/fork", json={"step": 99})
    assert past_end.status_code == 422
    assert "steps 0..4" in past_end.json()["error"]
    assert served.get("/api/store/jobs/nope").status_code == 404
    assert served.post("/api/store/jobs/nope/fork", json={"step": 0}).status_code == 404


def test_store_routes_say_when_the_server_has_no_store(serve: Serve) -> None:
    served = serve([chain("pipeline", 1)], store=False)
    response = served.get("/api/store/jobs")
    assert response.status_code == 409
    assert "--store" in response.json()["error"]


def test_workers_lists_each_running_worker(served: Served) -> None:
    post(served, data={"n": 0})
    finished(served)
    workers = served.get("/api/workers").json()
    assert [(w["flow"], w["paused"]) for w in workers] == [("pipeline", False)]


def test_the_openapi_document_lists_every_route(served: Served) -> None:
    document = served.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    for endpoint in ENDPOINTS:
        assert endpoint.method.lower() in document["paths"][endpoint.path]
    assert {"/health", "/metrics", "/api/events", "/"} <= set(document["paths"])


def test_the_live_page_and_its_files_are_served(served: Served) -> None:
    page = served.get("/")
    assert page.headers["content-type"].startswith("text/html")
    assert 'class="routilux-step"' in page.text
    assert "WebSocket" in served.get("/static/page.js").text
    assert served.get("/static/page.css").status_code == 200


def test_unknown_routes_and_methods_get_json_errors(served: Served) -> None:
    missing = served.get("/api/nothing")
    assert missing.status_code == 404
    assert missing.json() == {"error": "no route GET /api/nothing"}
    wrong = served.delete("/api/flows")
    assert wrong.status_code == 405
    assert "DELETE is not allowed" in wrong.json()["error"]


BAD_POSTS: list[tuple[Any, int, str]] = [
    (b"{not json", 400, "request body is not JSON"),
    (b"[1, 2]", 422, "a post must be a JSON object, got an array"),
    (b'{"routine": "nope", "slot": "input"}', 422, "unknown routine 'nope'"),
    (b'{"routine": "r0", "slot": "nope"}', 422, "unknown slot 'nope'"),
    (b'{"routine": "r0", "slot": 3}', 422, '"slot" must be a non-empty string, got a number'),
    (b'{"data": 1, "metadata": [1]}', 422, '"metadata" must be an object'),
    (b'{"dat": 1}', 422, "did you mean 'data'?"),
    (b"\xff\xfe", 400, "request body is not JSON"),
]


def test_bad_input_gets_a_clear_4xx_and_never_touches_the_running_job(served: Served) -> None:
    served.post("/api/flows/pipeline/pause")
    job = post(served, data={"n": 0}).json()
    served.post("/api/flows/pipeline/step")
    before = served.get("/api/flows/pipeline/worker").json()
    for body, status, message in BAD_POSTS:
        response = served.post(
            "/api/flows/pipeline/jobs", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == status, body
        assert message in response.json()["error"], body
    huge = served.post("/api/flows/pipeline/jobs", content=b"[" + b"1," * 600_000 + b"1]")
    assert huge.status_code == 413
    assert "over the 1048576-byte limit" in huge.json()["error"]

    def chunks() -> Any:  # no Content-Length: the limit applies while reading
        for _ in range(200):
            yield b" " * 10_000

    streamed = served.post("/api/flows/pipeline/jobs", content=chunks())
    assert streamed.status_code == 413
    after = served.get("/api/flows/pipeline/worker").json()
    assert after["queues"] == before["queues"]
    assert [j["job_id"] for j in after["jobs"]] == [job["job_id"]]
    served.post("/api/flows/pipeline/resume")
    finished(served)
    assert served.get(f"/api/jobs/{job['job_id']}").json()["status"] == "completed"


def test_the_live_diagram_shows_done_and_failed_routines_without_a_stream(serve: Serve) -> None:
    flow = chain("mixed", 1)
    flow.add_routine(Fails(), "boom")
    flow.connect("r0", "output", "boom", "input")
    served = serve([flow], store=False)
    served.post("/api/flows/mixed/jobs", json={"data": {"n": 0}})
    finished(served)
    assert not served.app.state.hub.observing
    live = served.get("/api/flows/mixed/diagram.svg", params={"live": "1"}).text
    assert 'id="routine&#45;r0" class="node routine state&#45;done"' in live
    assert 'id="routine&#45;boom" class="node routine state&#45;failed"' in live
    assert 'id="routine&#45;sink" class="node routine state&#45;done"' in live
