"""DaskExecutor: routine logic on a Dask cluster, replayed in the driver like the pool's.

Everything but where the task runs is :class:`ProcessExecutor`'s: the routine pickled once
per worker start, inputs and a state snapshot per activation, a callback that replays the
result and completes the activation. With no address a ``LocalCluster`` (processes, one per
core, loopback, no dashboard) starts on first use and closes with the runtime. Dask's own
task retries stay off, so RETRY attempts stay visible; a ``KilledWorker`` (a task whose
workers kept dying) reaches the routine's error strategy with its cause.
"""

from __future__ import annotations

import os
from typing import Any

from distributed import Client, LocalCluster

from routilux.executors._child import run_activation
from routilux.executors.processes import ProcessExecutor

__all__ = ["DaskExecutor"]


class DaskExecutor(ProcessExecutor):
    """Runs activations as Dask tasks.

    Args:
        address: A Dask scheduler's address (``"host:8786"``); None starts a LocalCluster.
    """

    def __init__(self, address: str | None = None) -> None:
        super().__init__()
        self._address = address
        self._cluster: LocalCluster | None = None

    def _start_pool(self) -> Any:
        if self._address is not None:
            return Client(self._address, set_as_default=False)  # type: ignore[no-untyped-call]
        self._cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # a free port: never a clash
        )
        return Client(self._cluster, set_as_default=False)  # type: ignore[no-untyped-call]

    def _send(self, pool: Any, *args: Any) -> Any:
        return pool.submit(run_activation, *args, pure=False, retries=0)

    def _lost(self, pool: Any, exc: BaseException) -> None:
        pass  # Dask reschedules on its own; the client stays usable

    def _stop_pool(self, pool: Any, wait: bool) -> None:
        pool.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
