"""The HTTP endpoints, listed once in :data:`ENDPOINTS` for the router and the OpenAPI document.

Each reads the request, calls :class:`FlowService` off the event loop (it takes workers'
locks, and a post may run observers' hooks) and answers JSON."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from routilux.server.checks import ApiError
from routilux.server.service import FlowService
from routilux.server.shapes import describe_breakpoint, describe_job

__all__ = ["ENDPOINTS", "Endpoint", "json_response", "read_json"]

Handler = Callable[[Request], Awaitable[Response]]


def json_response(value: Any, status: int = 200) -> Response:
    """``value`` as JSON; what JSON cannot hold is written as its ``repr``."""
    return Response(
        json.dumps(value, default=repr), status_code=status, media_type="application/json"
    )


async def read_json(request: Request) -> Any:
    """The request body as JSON, at most ``app.state.max_body`` bytes (413 past it)."""
    limit: int = request.app.state.max_body
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"request body of {declared} bytes is over the {limit}-byte limit")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"request body is over the {limit}-byte limit")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ApiError(400, f"request body is not JSON: {error}") from None


def _service(request: Request) -> FlowService:
    service: FlowService = request.app.state.service
    return service


def _flow(request: Request) -> str:
    name: str = request.path_params["flow"]
    return name


def _query(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    params = {k: v for k, v in request.query_params.items() if k != "token"}
    for key in params:
        if key not in allowed:
            listed = ", ".join(allowed) or "none"
            raise ApiError(422, f"unknown query parameter {key!r} (allowed: {listed})")
    return params


@dataclass(frozen=True)
class Endpoint:
    """One route: what the router calls and what the OpenAPI document says of it."""

    method: str
    path: str
    summary: str
    handler: Handler
    body: dict[str, Any] | None = None
    query: tuple[str, ...] = ()
    status: int = 200
    response: str = "application/json"
    tags: tuple[str, ...] = field(default=())


async def list_flows(request: Request) -> Response:
    service = _service(request)
    flows = await run_in_threadpool(
        lambda: [service.describe_flow(n) for n in sorted(service.flows)]
    )
    return json_response(flows)


async def show_flow(request: Request) -> Response:
    return json_response(await run_in_threadpool(_service(request).describe_flow, _flow(request)))


async def flow_diagram(request: Request) -> Response:
    live = _query(request, ("live",)).get("live", "0") not in ("0", "false", "")
    svg = await run_in_threadpool(_service(request).diagram, _flow(request), live)
    return Response(svg, media_type="image/svg+xml")


async def post_job(request: Request) -> Response:
    body = await read_json(request)
    # Off the event loop: a post may run observers' hooks (user code, or the store's write).
    job = await run_in_threadpool(_service(request).post, _flow(request), body)
    return json_response(describe_job(job), 201)


async def list_jobs(request: Request) -> Response:
    params = _query(request, ("flow", "status", "limit"))
    raw_limit = params.get("limit", "1000")
    if not raw_limit.isdigit() or int(raw_limit) < 1:
        raise ApiError(422, f"limit must be a positive integer, got {raw_limit!r}")
    jobs = await run_in_threadpool(_service(request).jobs, params.get("flow"), params.get("status"))
    return json_response([describe_job(job) for job in jobs[-int(raw_limit) :]])


async def show_job(request: Request) -> Response:
    job = await run_in_threadpool(_service(request).job, request.path_params["job_id"])
    return json_response(describe_job(job))


async def cancel_job(request: Request) -> Response:
    job = await run_in_threadpool(_service(request).cancel, request.path_params["job_id"])
    return json_response(describe_job(job))


async def store_jobs(request: Request) -> Response:
    params = _query(request, ("unfinished",))
    unfinished = params.get("unfinished", "0") not in ("0", "false", "")
    return json_response(await run_in_threadpool(_service(request).store_jobs, unfinished))


async def store_job(request: Request) -> Response:
    job_id = request.path_params["job_id"]
    return json_response(await run_in_threadpool(_service(request).store_job, job_id))


async def fork_job(request: Request) -> Response:
    body = await read_json(request)
    job_id = request.path_params["job_id"]
    job = await run_in_threadpool(_service(request).fork, job_id, body)
    return json_response(describe_job(job), 201)


async def list_breakpoints(request: Request) -> Response:
    bps = await run_in_threadpool(_service(request).breakpoints, _flow(request))
    return json_response([describe_breakpoint(bp) for bp in bps])


async def add_breakpoint(request: Request) -> Response:
    body = await read_json(request)
    bp = await run_in_threadpool(_service(request).add_breakpoint, _flow(request), body)
    return json_response(describe_breakpoint(bp), 201)


async def remove_breakpoint(request: Request) -> Response:
    raw = request.path_params["bp_id"]
    if not raw.isdigit():
        raise ApiError(422, f"breakpoint ids are integers, got {raw!r}")
    await run_in_threadpool(_service(request).remove_breakpoint, _flow(request), int(raw))
    return Response(status_code=204)


async def show_worker(request: Request) -> Response:
    return json_response(await run_in_threadpool(_service(request).worker_view, _flow(request)))


async def pause(request: Request) -> Response:
    return json_response(await run_in_threadpool(_service(request).pause, _flow(request)))


async def step(request: Request) -> Response:
    return json_response(await run_in_threadpool(_service(request).step, _flow(request)))


async def resume(request: Request) -> Response:
    return json_response(await run_in_threadpool(_service(request).resume, _flow(request)))


async def list_workers(request: Request) -> Response:
    return json_response(await run_in_threadpool(_service(request).workers))


_POST_BODY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "routine": {"type": "string", "description": "Target routine (default: entry slot)."},
        "slot": {"type": "string", "description": "Target slot of that routine."},
        "data": {"description": "Any JSON value: the data posted."},
        "metadata": {"type": "object", "description": "Free-form per-job data."},
        "job_id": {"type": "string", "description": "The new job's id (default: random)."},
    },
}
_BREAKPOINT_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["routine"],
    "properties": {
        "routine": {"type": "string"},
        "slot": {"type": "string", "description": "Pause when this slot receives data."},
        "event": {"type": "string", "description": "Pause when this event is emitted."},
        "when": {"type": "string", "enum": ["before", "after"], "default": "before"},
    },
}
_FORK_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["step"],
    "properties": {"step": {"type": "integer", "minimum": 0}},
}

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/api/flows", "The served flows", list_flows, tags=("flows",)),
    Endpoint("GET", "/api/flows/{flow}", "One flow", show_flow, tags=("flows",)),
    Endpoint(
        "GET",
        "/api/flows/{flow}/diagram.svg",
        "The flow as SVG (live=1: with the run state drawn on top)",
        flow_diagram,
        query=("live",),
        response="image/svg+xml",
        tags=("flows",),
    ),
    Endpoint(
        "POST",
        "/api/flows/{flow}/jobs",
        "Post data to the flow as a new job",
        post_job,
        body=_POST_BODY,
        status=201,
        tags=("jobs",),
    ),
    Endpoint(
        "GET",
        "/api/jobs",
        "Jobs posted here and every unfinished job, oldest first (the newest `limit`)",
        list_jobs,
        query=("flow", "status", "limit"),
        tags=("jobs",),
    ),
    Endpoint("GET", "/api/jobs/{job_id}", "One job", show_job, tags=("jobs",)),
    Endpoint(
        "POST", "/api/jobs/{job_id}/cancel", "Cancel an unfinished job", cancel_job, tags=("jobs",)
    ),
    Endpoint(
        "GET",
        "/api/store/jobs",
        "Jobs checkpointed in the store",
        store_jobs,
        query=("unfinished",),
        tags=("store",),
    ),
    Endpoint(
        "GET",
        "/api/store/jobs/{job_id}",
        "A stored job with its history and data points",
        store_job,
        tags=("store",),
    ),
    Endpoint(
        "POST",
        "/api/store/jobs/{job_id}/fork",
        "Run a new job from the state a stored job had after a step",
        fork_job,
        body=_FORK_BODY,
        status=201,
        tags=("store",),
    ),
    Endpoint(
        "GET",
        "/api/flows/{flow}/breakpoints",
        "The flow's breakpoints",
        list_breakpoints,
        tags=("debug",),
    ),
    Endpoint(
        "POST",
        "/api/flows/{flow}/breakpoints",
        "Add a breakpoint",
        add_breakpoint,
        body=_BREAKPOINT_BODY,
        status=201,
        tags=("debug",),
    ),
    Endpoint(
        "DELETE",
        "/api/flows/{flow}/breakpoints/{bp_id}",
        "Remove a breakpoint",
        remove_breakpoint,
        status=204,
        tags=("debug",),
    ),
    Endpoint(
        "GET",
        "/api/flows/{flow}/worker",
        "The flow's worker: held activation, queues, jobs, counters",
        show_worker,
        tags=("debug",),
    ),
    Endpoint("POST", "/api/flows/{flow}/pause", "Pause the worker", pause, tags=("debug",)),
    Endpoint(
        "POST",
        "/api/flows/{flow}/step",
        "Run exactly one activation (pausing first)",
        step,
        tags=("debug",),
    ),
    Endpoint("POST", "/api/flows/{flow}/resume", "Continue the worker", resume, tags=("debug",)),
    Endpoint("GET", "/api/workers", "Every worker", list_workers, tags=("debug",)),
)
