"""The Starlette application: routes, the event stream, the live page, metrics and health."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterable
from importlib import resources
from typing import Any

import uvicorn
from prometheus_client import CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from routilux import __version__
from routilux.core.flow import Flow
from routilux.runtime import Runtime
from routilux.server.api import ENDPOINTS, json_response
from routilux.server.auth import TokenAuth
from routilux.server.checks import ApiError
from routilux.server.events import EventHub, Subscriber, as_events
from routilux.server.metrics import CONTENT_TYPE, RuntimeCollector
from routilux.server.openapi import openapi_document
from routilux.server.service import FlowService

__all__ = ["create_app", "serve_flows"]

STATIC = ("page.js", "page.css")
_STATIC_DIR = resources.files("routilux.server").joinpath("static")
_MEDIA = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


def create_app(
    runtime: Runtime,
    flows: Iterable[Flow],
    *,
    token: str,
    max_body: int = 1 << 20,
    client_buffer: int = 2048,
    durations: bool = False,
) -> Starlette:
    """The server's ASGI application over ``runtime`` (which the caller shuts down).

    Args:
        runtime: Runs the flows; its store (if any) backs the store routes.
        flows: The flows to serve, by ``flow_id``.
        token: Required on every request (``Authorization: Bearer`` or ``?token=``).
        max_body: Largest request body accepted, in bytes (413 past it).
        client_buffer: Events a WebSocket client may fall behind by before losing the oldest.
        durations: Observe every activation for the duration histogram of ``/metrics``
            (it costs the engine a record per activation). Otherwise activations are
            observed only while a WebSocket client (such as the live page) is connected.

    Returns:
        The application; its event hub observes ``runtime`` while it runs (lifespan).
    """
    served = {}
    for flow in flows:
        if flow.flow_id in served:
            raise ValueError(f"two served flows are named {flow.flow_id!r}")
        served[flow.flow_id] = flow
    hub = EventHub(client_buffer=client_buffer)
    service = FlowService(runtime, served, hub)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RuntimeCollector(runtime, hub))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        hub.bind(runtime, always=durations)
        pump = asyncio.get_running_loop().create_task(hub.run())
        try:
            yield
        finally:
            pump.cancel()
            hub.unbind()

    async def metrics(request: Request) -> Response:
        body = await asyncio.to_thread(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE)

    async def health(request: Request) -> Response:
        report = await asyncio.to_thread(service.health)
        return json_response(report, 200 if report["ok"] else 503)

    async def events(websocket: WebSocket) -> None:
        subscriber = hub.subscribe()
        loop = asyncio.get_running_loop()
        try:
            # Observing before the handshake completes: a client that posts as soon as it
            # is connected sees that job's events.
            await asyncio.to_thread(hub.settle)
            await websocket.accept()
            sender = loop.create_task(_send_events(websocket, subscriber))
            try:
                while True:  # a client says nothing; this notices when it leaves
                    message = await websocket.receive()
                    if message["type"] == "websocket.disconnect":
                        break
            except WebSocketDisconnect:
                pass
            finally:
                sender.cancel()
        finally:
            hub.unsubscribe(subscriber)
            # Not awaited: detaching may wait for workers' locks, and the client is gone.
            loop.run_in_executor(None, hub.settle)

    document = openapi_document(ENDPOINTS, __version__)

    async def openapi(request: Request) -> Response:
        return json_response(document)

    routes: list[BaseRoute] = [
        Route(e.path, e.handler, methods=[e.method], name=e.handler.__name__) for e in ENDPOINTS
    ]
    routes += [
        Route("/", _page, methods=["GET"]),
        *(Route(f"/static/{name}", _static(name), methods=["GET"]) for name in STATIC),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        WebSocketRoute("/api/events", events),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(TokenAuth, token=token)],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.hub = hub
    app.state.max_body = max_body
    return app


async def _send_events(websocket: WebSocket, subscriber: Subscriber) -> None:
    try:
        while True:
            await subscriber.ready.wait()
            batch = [e for number, item in subscriber.take() for e in as_events(number, item)]
            message = {"events": batch, "dropped": subscriber.dropped}
            # Waits while the client does not read: meanwhile its buffer drops the oldest.
            await websocket.send_text(json.dumps(message, default=repr))
    except (WebSocketDisconnect, RuntimeError, OSError):
        return  # the client left; the receiving side unsubscribes it


def _static(name: str) -> Callable[[Request], Any]:
    media = _MEDIA[name[name.rindex(".") :]]

    async def serve_file(request: Request) -> Response:
        text = (
            resources.files("routilux.server").joinpath("static").joinpath(name).read_text("utf-8")
        )
        return Response(text, media_type=media, headers={"cache-control": "no-store"})

    return serve_file


async def _page(request: Request) -> Response:
    # One document with its script and styles inline: the browser's requests for separate
    # files would not carry the token, which the page only knows from its own URL.
    html = _STATIC_DIR.joinpath("page.html").read_text("utf-8")
    css = _STATIC_DIR.joinpath("page.css").read_text("utf-8")
    js = _STATIC_DIR.joinpath("page.js").read_text("utf-8")
    html = html.replace('<link rel="stylesheet" href="static/page.css">', f"<style>\n{css}</style>")
    html = html.replace('<script src="static/page.js"></script>', f"<script>\n{js}</script>")
    return Response(html, media_type="text/html", headers={"cache-control": "no-store"})


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return json_response({"error": exc.message}, exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"no route {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    return json_response({"error": message}, exc.status_code)


def serve_flows(
    flows: Iterable[Flow],
    *,
    token: str,
    host: str = "127.0.0.1",
    port: int = 8000,
    store: str | None = None,
    threads: int | None = None,
    max_body: int = 1 << 20,
    durations: bool = False,
    grace: float = 10.0,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve ``flows`` until interrupted (what ``routilux serve`` runs).

    Args:
        flows: The flows.
        token: The token clients must send.
        host: Address to bind (127.0.0.1: this machine only).
        port: Port (0: any free one).
        store: A store file to checkpoint jobs into.
        threads: Thread pool size of the runtime.
        max_body: Largest request body accepted, in bytes.
        durations: Observe every activation for the duration histogram (see create_app).
        grace: On stop, seconds running jobs get to finish before the rest are cancelled.
        announce: Called with the live page's URL (token included) once listening.
    """
    runtime = Runtime(thread_pool_size=threads, store=store)
    app = create_app(runtime, flows, token=token, max_body=max_body, durations=durations)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        ws="websockets-sansio",
        ws_max_size=64 * 1024,  # clients only listen; nothing they send is read
        lifespan="on",
    )
    server = uvicorn.Server(config)

    async def main() -> None:
        serving = asyncio.get_running_loop().create_task(server.serve())
        while not server.started and not serving.done():
            await asyncio.sleep(0.05)
        if server.started:
            bound = server.servers[0].sockets[0].getsockname()
            shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
            announce(f"http://{shown}:{bound[1]}/?token={token}")
        await serving

    try:
        asyncio.run(main())
    finally:
        runtime.shutdown(wait=True, timeout=grace)
