"""RemoteExecutors: the executors one engine runs remote routines on, one per kind.

The engine imports nothing above ``routilux.core``: executors of a kind (``"processes"``,
``"dask"``) come from a factory the runtime passes in, and a default executor object may be
handed over as it is (``Runtime(executor=DaskExecutor())``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, cast

from routilux.core.errors import ConfigurationError, ConfigurationTypeError
from routilux.core.remote import RemoteExecutor, check_kind, is_remote_executor

if TYPE_CHECKING:
    from routilux.core.flow import Flow

__all__ = ["RemoteExecutors", "split_executor"]

_ENGINE_ALONE = "the engine alone runs logic in its threads and on its event loop"


def split_executor(
    executor: object, make: Callable[[str], Any] | None
) -> tuple[Executor | None, str | RemoteExecutor | None]:
    """``Engine(executor=...)`` as (the executor of drainer threads, the default executor
    of remote routines); ``make`` is the factory of executor kinds, if any.

    Raises:
        ConfigurationError: An unknown kind, or a kind with no factory to make it.
        TypeError: Something that is no executor (a ConfigurationError too).
    """
    if executor is None or executor == "threads":
        return None, None
    if isinstance(executor, Executor):
        return executor, None
    if isinstance(executor, str):
        kind = check_kind(executor, "executor")
        if make is None:
            raise ConfigurationError(f"executor={kind!r} needs routilux.Runtime: {_ENGINE_ALONE}")
        return None, kind
    if is_remote_executor(executor):
        return None, cast("RemoteExecutor", executor)
    raise ConfigurationTypeError(
        "executor must be a concurrent.futures.Executor (for drainer threads), "
        "'processes', 'dask', 'dask://host:port' or a remote executor (with prepare, submit "
        f"and close methods, e.g. DaskExecutor()), got {type(executor).__name__} {executor!r}"
    )


class RemoteExecutors:
    """The default executor (a kind, an object or None) and one executor per kind, made by
    ``make`` on first use (so its extra, cloudpickle or Dask, loads only then)."""

    def __init__(
        self, default: str | RemoteExecutor | None, make: Callable[[str], Any] | None
    ) -> None:
        self._default = default
        self._make = make
        self._lock = threading.Lock()
        self._made: dict[str, Any] = {}  # kind -> executor

    def prepare(self, flow: Flow, flow_name: str) -> None:
        """Get ``flow``'s remote routines ready on their executors (they are pickled now, so
        an unpicklable routine fails here, naming the attribute).

        Raises:
            ConfigurationError: Remote routines name no executor and there is no default
                (all of them are named), or a routine cannot run remotely.
        """
        remote = {rid: r for rid, r in flow.routines.items() if r.remote is not None}
        if self._default is None:
            orphans = [rid for rid, r in remote.items() if r.executor is None]
            if orphans:
                raise ConfigurationError(
                    f"flow {flow_name!r} has remote routines with no executor: "
                    f"{', '.join(map(repr, orphans))}; give the runtime one "
                    "(Runtime(executor='processes' | 'dask' | DaskExecutor(...))) or name one "
                    "in their options (RemoteOptions(executor=...))"
                )
        for routine_id, routine in remote.items():
            self.get(routine.executor).prepare(routine, routine_id)

    def get(self, kind: str | None) -> Any:
        """The executor of routines whose options name ``kind`` (None: the default)."""
        if kind is None:
            default = self._default
            if default is None:
                raise ConfigurationError(
                    "a remote routine names no executor and the runtime has none: "
                    "Runtime(executor=...)"
                )
            if not isinstance(default, str):
                return default
            kind = default
        executor = self._made.get(kind)
        if executor is None:
            if self._make is None:
                raise ConfigurationError(
                    f"routines on executor {kind!r} need routilux.Runtime: {_ENGINE_ALONE}"
                )
            with self._lock:
                executor = self._made.get(kind)
                if executor is None:
                    try:
                        executor = self._made[kind] = self._make(kind)
                    except ImportError as exc:
                        raise ConfigurationError(str(exc)) from exc
        return executor

    def close(self, wait: bool) -> None:
        """Close every executor made here, and a default executor object (it was handed to
        the runtime to run its routines, so it closes with it)."""
        with self._lock:
            made = list(self._made.values())
        for executor in made:
            executor.close(wait)
        if self._default is not None and not isinstance(self._default, str):
            self._default.close(wait)
