"""A real uvicorn serving test flows on a free localhost port, and clients for it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from routilux import Flow, Routine, Runtime
from routilux.server import create_app
from tests.flows import Relay

TOKEN = "test-token-0123456789"


class Sink(Routine):
    """Takes what it gets."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        pass


class Fails(Routine):
    """Raises for every input."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        raise RuntimeError("no")


def chain(name: str, length: int) -> Flow:
    """``r0 -> r1 -> ... -> r{length-1} -> sink``."""
    flow = Flow(name)
    for i in range(length):
        flow.add_routine(Relay(), f"r{i}")
        if i:
            flow.connect(f"r{i - 1}", "output", f"r{i}", "input")
    flow.add_routine(Sink(), "sink")
    flow.connect(f"r{length - 1}", "output", "sink", "input")
    return flow


class _Server(uvicorn.Server):
    """Tells the test when it listens."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = threading.Event()

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        self.listening.set()


@dataclass
class Served:
    """A running server: its URL, its runtime (in this process) and an authorised client."""

    url: str
    runtime: Runtime
    client: httpx.Client
    app: Any

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/api/events"

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.delete(path, **kwargs)


Serve = Callable[..., Served]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """``serve(flows, store=True, threads=4, **create_app_options)`` starts a server; all stop
    at the end."""
    started: list[tuple[_Server, threading.Thread, Runtime, httpx.Client]] = []

    def start(flows: list[Flow], *, store: bool = True, threads: int = 4, **options: Any) -> Served:
        runtime = Runtime(thread_pool_size=threads, store=tmp_path / "jobs.db" if store else None)
        app = create_app(runtime, flows, token=TOKEN, **options)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", ws="websockets-sansio"
        )
        server = _Server(config)
        thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
        thread.start()
        if not server.listening.wait(30):
            pytest.fail("uvicorn did not start")
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        client = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        )
        started.append((server, thread, runtime, client))
        return Served(url, runtime, client, app)

    yield start
    for server, thread, runtime, client in started:
        client.close()
        server.should_exit = True
        thread.join(30)
        runtime.shutdown(wait=False)


@pytest.fixture
def served(serve: Serve) -> Served:
    """Two flows: ``pipeline`` (r0 -> r1 -> r2 -> sink) and ``short`` (r0 -> sink)."""
    return serve([chain("pipeline", 3), chain("short", 1)])
