"""The LocalCluster that ``set_executor("dask")`` starts leaves the ports of other Dask
clusters alone."""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator

import pytest

from routilux import Flow, JobStatus, Runtime
from tests.flows import Collect, Relay

pytest.importorskip("distributed", reason="routilux[dask] not installed")

DASK_DASHBOARD_PORT = 8787


@pytest.fixture
def dashboard_port_taken() -> Iterator[None]:
    """Holds Dask's default dashboard port on loopback, as a running Dask cluster would."""
    with socket.socket() as taken:
        try:
            taken.bind(("127.0.0.1", DASK_DASHBOARD_PORT))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            yield  # something else holds it already: just as good
            return
        taken.listen()
        yield


@pytest.mark.usefixtures("dashboard_port_taken")
def test_a_local_cluster_starts_quietly_while_another_holds_the_dashboard_port() -> None:
    # Warnings are errors in this suite: Dask's "Port 8787 is already in use" would fail it.
    relay = Relay()
    relay.set_executor("dask")
    flow = Flow("dask-port")
    flow.add_routine(relay, "relay")
    flow.add_routine(Collect(), "sink")
    flow.connect("relay", "output", "sink", "input")
    with Runtime(thread_pool_size=2) as runtime:
        state, job = runtime.post(flow, "relay", "input", {"n": 1})
        assert job.wait(60)
        assert job.status is JobStatus.COMPLETED, job.error
        assert state.shared_log == [{"n": 2}]
