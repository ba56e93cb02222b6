"""DaskExecutor: routine logic on a Dask cluster, replayed in the driver like the pool's.

Everything but where the task runs is :class:`ProcessExecutor`'s: the routine pickled once
per worker start, inputs and a state snapshot per activation, a callback that replays the
result and completes the activation. Activations go to the cluster in batches and come back
through one results thread (see :mod:`routilux.executors._dask_dispatch`), so drainers never
wait on the cluster and remote activations in flight are not bounded by the runtime's
threads. With no address a ``LocalCluster`` (processes, one per core unless told otherwise,
loopback, its HTTP server on a free port) starts on first use and closes with the runtime.
Dask's own task retries stay off, so RETRY attempts stay visible; a ``KilledWorker`` (a task
whose workers kept dying) reaches the routine's error strategy with its cause.
"""

from __future__ import annotations

import os
import pickle
from typing import TYPE_CHECKING, Any, ClassVar

import cloudpickle
from distributed import Client, LocalCluster

from routilux.executors._dask_dispatch import Dispatch
from routilux.executors.processes import ProcessExecutor

if TYPE_CHECKING:
    from routilux.core.activation import ActivationRecord

__all__ = ["DaskExecutor"]

_SCATTER_ABOVE = 64 * 1024


def _positive_int(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"DaskExecutor({name}=...) must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"DaskExecutor({name}=...) must be >= 1, got {value}")
    return value


class DaskExecutor(ProcessExecutor):
    """Runs activations as Dask tasks (``Runtime(executor=DaskExecutor(...))``).

    Args:
        address: A Dask scheduler's address (``"host:8786"``); None starts a LocalCluster.
        n_workers: Worker processes of the LocalCluster (default: one per core).
        threads_per_worker: Threads per worker of the LocalCluster (default 1; more for
            logic that waits rather than computes).
        scatter_above: Routines that pickle larger than this many bytes are scattered to the
            workers once instead of travelling with each task.

    Raises:
        ValueError: A LocalCluster setting given with an address, or out of range.
        TypeError: A setting of the wrong type.
    """

    #: ``RemoteOptions.resources`` become the tasks' Dask worker resources.
    takes_resources: ClassVar[bool] = True

    def __init__(
        self,
        address: str | None = None,
        *,
        n_workers: int | None = None,
        threads_per_worker: int | None = None,
        scatter_above: int = _SCATTER_ABOVE,
    ) -> None:
        super().__init__()
        self._n_workers = _positive_int("n_workers", n_workers)
        self._threads_per_worker = _positive_int("threads_per_worker", threads_per_worker)
        if address is not None and (n_workers is not None or threads_per_worker is not None):
            raise ValueError(
                "DaskExecutor(n_workers=..., threads_per_worker=...) set up the LocalCluster "
                "started when there is no address; with an address the cluster is yours to size"
            )
        if isinstance(scatter_above, bool) or not isinstance(scatter_above, int):
            raise TypeError("DaskExecutor(scatter_above=...) must be an int (bytes)")
        self._address = address
        self._spawns = "a Dask LocalCluster" if address is None else None
        self._scatter_above = scatter_above
        self._cluster: LocalCluster | None = None
        self._dispatch: Dispatch | None = None

    def __repr__(self) -> str:
        return f"DaskExecutor({self._address!r})" if self._address else "DaskExecutor()"

    def _start_pool(self) -> Any:
        if self._address is not None:
            client = Client(self._address, set_as_default=False)  # type: ignore[no-untyped-call]
            # Its workers may not be reachable from here: large results come through the
            # scheduler, as Dask's own gather does by default.
            self._dispatch = Dispatch(client, self._scatter_above, direct=False, push=True)
            return client
        self._cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=self._n_workers or os.cpu_count() or 1,
            threads_per_worker=self._threads_per_worker or 1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # a free port: never a clash
        )
        client = Client(self._cluster, set_as_default=False)  # type: ignore[no-untyped-call]
        # Workers on this machine: results come straight from them, sparing the scheduler
        # (which runs in this process) a hop per result.
        self._dispatch = Dispatch(client, self._scatter_above, direct=True, push=True)
        return client

    def _send(self, pool: Any, activation: ActivationRecord, *args: Any) -> Any:
        dispatch = self._dispatch
        assert dispatch is not None  # made with the client
        token, blob, *per_activation = args
        # Pickled here, in the drainer: inputs that cannot travel fail this attempt now, and
        # Dask carries one bytes object instead of walking nested data at every hop.
        packed = cloudpickle.dumps(tuple(per_activation), protocol=pickle.HIGHEST_PROTOCOL)
        options = activation._node.remote
        resources = options.resources if options is not None else None
        return dispatch.send(activation.routine_id, [token, blob, packed], resources)

    def _lost(self, pool: Any, exc: BaseException) -> None:
        pass  # Dask reschedules on its own; the client stays usable

    def _stop_pool(self, pool: Any, wait: bool) -> None:
        pool.close()
        if self._dispatch is not None:
            self._dispatch.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
