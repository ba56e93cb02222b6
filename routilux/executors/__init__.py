"""Where routine logic runs besides the driver's threads: a process pool, or a Dask cluster.

Importing this package imports nothing optional: :mod:`routilux.executors.processes` needs
the ``routilux[processes]`` extra (cloudpickle) and :mod:`routilux.executors.dask` the
``routilux[dask]`` extra; the runtime loads one the first time a flow with a remote routine
on it (``routine.set_remote(...)``, ``Runtime(executor="processes")`` or ``"dask"``) starts.
"""

from __future__ import annotations

from typing import Any

__all__ = ["make_executor"]

_EXTRAS = {"cloudpickle": "processes", "distributed": "dask", "dask": "dask"}


def make_executor(kind: str) -> Any:
    """The executor for ``kind``: ``"processes"``, ``"dask"`` (a LocalCluster started on
    first use) or ``"dask://host:port"`` (an existing scheduler).

    Raises:
        ImportError: The extra ``kind`` needs is not installed (the message names it).
    """
    try:
        if kind == "processes":
            from routilux.executors.processes import ProcessExecutor

            return ProcessExecutor()
        from routilux.executors.dask import DaskExecutor

        address = None if kind == "dask" else kind.removeprefix("dask://")
        return DaskExecutor(address)
    except ModuleNotFoundError as exc:
        extra = _EXTRAS.get((exc.name or "").partition(".")[0])
        if extra is None:
            raise
        raise ImportError(
            f"executor {kind!r} needs {exc.name}: pip install 'routilux[{extra}]'"
        ) from exc
