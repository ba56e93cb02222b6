"""Remote routines: where a routine's logic runs if not in the runtime's threads, and how.

A routine opts in with ``routine.set_remote(True | RemoteOptions(...))``, a whole flow with
``flow.set_remote(...)``, every instance of a class with the :func:`remote` decorator.
The most specific choice wins: the routine's own, then its class's, then its flow's. The
executors themselves live in :mod:`routilux.executors`; this module only describes them.

>>> options = RemoteOptions(executor="processes", max_inflight=1, timeout=30)
>>> options
RemoteOptions(executor='processes', max_inflight=1, timeout=30.0)
>>> choice(True)
RemoteOptions()
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias, TypeVar, overload

from routilux.core import _check
from routilux.core.errors import ConfigurationError, ConfigurationTypeError

if TYPE_CHECKING:
    from routilux.core._attempts import Attempts
    from routilux.core.activation import ActivationRecord
    from routilux.core.routine import Routine

__all__ = [
    "RemoteExecutor",
    "RemoteOptions",
    "check_kind",
    "choice",
    "from_spec",
    "is_remote_executor",
    "remote",
    "to_spec",
]

_KINDS = "'processes', 'dask' or 'dask://host:port'"


def check_kind(kind: object, name: str = "executor") -> str:
    """``kind`` if it names a remote executor: ``"processes"``, ``"dask"`` or
    ``"dask://host:port"``.

    Raises:
        ConfigurationError: It names none (a TypeError too if it is not a string).
    """
    if not isinstance(kind, str):
        raise ConfigurationTypeError(f"{name} must be {_KINDS}, got {type(kind).__name__} {kind!r}")
    if kind in ("processes", "dask") or (kind.startswith("dask://") and kind[7:]):
        return kind
    raise ConfigurationError(f"{name} must be {_KINDS}, got {kind!r}")


@dataclass(frozen=True, repr=False)
class RemoteOptions:
    """How a remote routine's logic runs. Every field is checked when it is made.

    Args:
        executor: ``"processes"`` (a pool of processes, one per core; needs
            ``routilux[processes]``), ``"dask"`` (a Dask LocalCluster started on first use)
            or ``"dask://host:8786"`` (an existing Dask scheduler; both need
            ``routilux[dask]``). None, the default: the runtime's executor
            (``Runtime(executor=...)``).
        max_inflight: At most this many activations of the routine run remotely at once, per
            worker (default: its ``max_concurrency``, else no limit). ``1`` makes the
            routine's state writes exact: each activation sees the previous one's writes.
        timeout: Seconds one attempt may take, counted from when it is handed to the
            executor (so waiting for a free process counts). When they pass, the attempt
            fails with ``TimeoutError`` (its error strategy decides what follows: RETRY runs
            it again) and whatever it returns later is dropped.
        resources: Dask worker resources each activation needs, e.g. ``{"GPU": 1}`` (see
            Dask's "worker resources"); refused at ``exec()`` with ``"processes"``.

    Raises:
        ConfigurationError: A value is out of range or of the wrong type (a TypeError too);
            the message names the field.

    >>> RemoteOptions(executor="dask", resources={"GPU": 1})
    RemoteOptions(executor='dask', resources={'GPU': 1})
    >>> RemoteOptions(max_inflight=0)
    Traceback (most recent call last):
    ...
    routilux.core.errors.ConfigurationError: max_inflight must be >= 1, got 0
    """

    executor: str | None = None
    max_inflight: int | None = None
    timeout: float | None = None
    # Read-only (a mappingproxy); not hashed, so options stay usable as dict keys.
    resources: Mapping[str, float] | None = field(default=None, hash=False)

    def __post_init__(self) -> None:
        if self.executor is not None:
            check_kind(self.executor, "executor")
        if self.max_inflight is not None:
            _check.count("max_inflight", self.max_inflight)
        if self.timeout is not None:
            timeout = _check.seconds("timeout", self.timeout, allow_zero=False)
            object.__setattr__(self, "timeout", timeout)
        if self.resources is not None:
            object.__setattr__(self, "resources", MappingProxyType(_resources(self.resources)))

    def __repr__(self) -> str:
        given = [
            f"{f.name}={_plain(getattr(self, f.name))!r}"
            for f in fields(self)
            if getattr(self, f.name) is not None
        ]
        return f"RemoteOptions({', '.join(given)})"

    def __reduce__(self) -> tuple[Any, ...]:
        # A mappingproxy cannot be pickled: rebuild from a plain dict (routines travel to
        # processes and Dask workers with their options).
        resources = None if self.resources is None else dict(self.resources)
        return (RemoteOptions, (self.executor, self.max_inflight, self.timeout, resources))

    def __copy__(self) -> RemoteOptions:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> RemoteOptions:
        return self  # immutable


def _plain(value: object) -> object:
    return dict(value) if isinstance(value, MappingProxyType) else value


def _resources(value: object) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise ConfigurationTypeError(
            f"resources must be a mapping of resource name to amount, got "
            f"{type(value).__name__} {value!r}"
        )
    checked: dict[str, float] = {}
    for key, amount in value.items():
        if not isinstance(key, str) or not key:
            raise ConfigurationTypeError(
                f"resources must be keyed by non-empty resource names, got key {key!r}"
            )
        if isinstance(amount, bool) or not isinstance(amount, (int, float)):
            raise ConfigurationTypeError(
                f"resources[{key!r}] must be a number, got {type(amount).__name__} {amount!r}"
            )
        if not math.isfinite(amount) or amount < 0:
            raise ConfigurationError(
                f"resources[{key!r}] must be a finite number >= 0, got {amount!r}"
            )
        checked[key] = amount
    return checked


Choice: TypeAlias = "RemoteOptions | Literal[False] | None"


def choice(value: object, name: str = "remote") -> Choice:
    """What ``set_remote(value)`` chose: options, ``False`` (stay local) or None (no choice).

    ``True`` is ``RemoteOptions()``: remote, on the runtime's executor.

    Raises:
        ConfigurationTypeError: ``value`` is none of True, False, None or RemoteOptions.
    """
    if value is True:
        return RemoteOptions()
    if value is False or value is None or isinstance(value, RemoteOptions):
        return value
    raise ConfigurationTypeError(
        f"{name} must be True, False, None or a RemoteOptions, got {type(value).__name__} {value!r}"
    )


def to_spec(chosen: RemoteOptions | Literal[False]) -> bool | dict[str, Any]:
    """A choice as plain data for flow specs: ``False``, ``True`` (the default options) or
    the fields that are set.

    >>> to_spec(RemoteOptions(max_inflight=1, resources={"GPU": 1}))
    {'max_inflight': 1, 'resources': {'GPU': 1}}
    """
    if chosen is False:
        return False
    given = {
        f.name: _plain(getattr(chosen, f.name))
        for f in fields(chosen)
        if getattr(chosen, f.name) is not None
    }
    return given or True


def from_spec(data: object) -> Choice:
    """What :func:`to_spec` wrote, as a choice (None stays None: no choice).

    Raises:
        ConfigurationError: An unknown field, a bad value (the message names the field), or
            neither a bool nor a mapping (a TypeError too).
    """
    if isinstance(data, Mapping):
        names = [f.name for f in fields(RemoteOptions)]
        for key in data:
            if key not in names:
                hint = _check.closest(str(key), names)
                raise ConfigurationError(
                    f"unknown field {key!r}"
                    + (f"; did you mean {hint!r}?" if hint else "")
                    + f" (fields: {', '.join(names)})"
                )
        return RemoteOptions(**data)
    if data is None or isinstance(data, bool):
        return choice(data)
    raise ConfigurationTypeError(
        f"must be true, false or a mapping of RemoteOptions fields, got {data!r:.60}"
    )


class RemoteExecutor(Protocol):
    """What the runtime needs of an executor that runs logic elsewhere (processes, Dask).

    ``Runtime(executor=...)`` takes any object with these three methods as the executor of
    remote routines whose options name none.
    """

    def prepare(self, routine: Routine, routine_id: str) -> None:
        """Get ``routine`` ready when its flow starts; raise ConfigurationError if it
        cannot run here (e.g. it cannot be pickled)."""

    def submit(self, scheduler: Attempts, activation: ActivationRecord) -> None:
        """Run ``activation`` (all its attempts) and complete it through the scheduler."""

    def close(self, wait: bool = True) -> None:
        """Stop; activations not yet started fail and are completed."""


def is_remote_executor(value: object) -> bool:
    """True if ``value`` has the methods of :class:`RemoteExecutor`."""
    return all(callable(getattr(value, name, None)) for name in ("prepare", "submit", "close"))


R = TypeVar("R", bound=type)


@overload
def remote(target: R, /) -> R: ...
@overload
def remote(target: RemoteOptions | None = None, /) -> Callable[[R], R]: ...


def remote(target: object = None, /) -> Any:
    """Class decorator: every instance of the decorated Routine subclass is remote.

    ``@remote`` runs them on the runtime's executor, ``@remote(RemoteOptions(...))`` with
    those options. A routine's own ``set_remote()`` overrides it; it overrides the flow's.
    Subclasses inherit it.

    >>> from routilux import Routine
    >>> @remote(RemoteOptions(max_inflight=2))
    ... class Crunch(Routine):
    ...     pass
    >>> Crunch().remote
    RemoteOptions(max_inflight=2)

    Raises:
        TypeError: What it decorates is not a Routine subclass, or the argument is not a
            RemoteOptions.
    """
    if isinstance(target, type):
        return _decorate(target, RemoteOptions())
    if target is not None and not isinstance(target, RemoteOptions):
        raise ConfigurationTypeError(
            "remote takes a Routine subclass (@remote) or a RemoteOptions "
            f"(@remote(RemoteOptions(...))), got {type(target).__name__} {target!r}"
        )
    options = target if target is not None else RemoteOptions()
    return lambda cls: _decorate(cls, options)


def _decorate(cls: object, options: RemoteOptions) -> Any:
    # Routine declares _class_remote (None); this module cannot import Routine (routine.py
    # imports it), so a Routine subclass is recognised by that attribute.
    if not isinstance(cls, type) or not hasattr(cls, "_class_remote"):
        raise ConfigurationTypeError(f"@remote decorates Routine subclasses, got {cls!r}")
    cls._class_remote = options
    return cls
