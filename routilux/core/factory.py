"""RoutineFactory: routine classes registered by name, the only ones a flow spec may name."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import ClassVar, TypeVar, overload

from routilux.core._names import unknown
from routilux.core.errors import ConfigurationError
from routilux.core.routine import Routine

__all__ = ["RoutineFactory", "register_routine"]

R = TypeVar("R", bound="type[Routine]")


class RoutineFactory:
    """Routine classes by name.

    Flow specs (``Flow.from_dict``, ``routilux.load_flow``) name classes registered here and
    nothing else: loading a file never imports a module or a dotted path it names.
    ``RoutineFactory.get_instance()`` is the process-wide one that :func:`register_routine`
    fills; create your own to load specs against a different set of classes.

    Registering a name again replaces the class (so re-running a notebook cell works).
    """

    _instance: ClassVar[RoutineFactory | None] = None
    _instance_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self._classes: dict[str, type[Routine]] = {}
        self._names: dict[type[Routine], str] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<RoutineFactory: {', '.join(sorted(self._classes)) or 'no classes'}>"

    @classmethod
    def get_instance(cls) -> RoutineFactory:
        """The process-wide factory (the one ``@register_routine`` fills)."""
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    @overload
    def register(self, cls: R, *, name: str | None = None) -> R: ...

    @overload
    def register(self, cls: None = None, *, name: str | None = None) -> Callable[[R], R]: ...

    def register(self, cls: R | None = None, *, name: str | None = None) -> R | Callable[[R], R]:
        """Register a Routine subclass under ``name`` (default: its class name).

        Works as a call (``factory.register(MyRoutine)``) and as a decorator, with or
        without ``name=``.

        Returns:
            The class (or, without ``cls``, a decorator).
        """
        if cls is None:
            return lambda klass: self.register(klass, name=name)
        if not (isinstance(cls, type) and issubclass(cls, Routine)):
            raise ConfigurationError(f"only Routine subclasses can be registered, got {cls!r}")
        key = cls.__name__ if name is None else name
        if not isinstance(key, str) or not key or "." in key:
            raise ConfigurationError(
                f"a routine class name must be a non-empty string without '.', got {key!r}"
            )
        with self._lock:
            old = self._classes.get(key)
            if old is not None:
                self._names.pop(old, None)
            self._classes[key] = cls
            self._names[cls] = key
        return cls

    def get(self, name: str) -> type[Routine]:
        """The class registered as ``name``; ConfigurationError naming the known ones."""
        with self._lock:
            cls = self._classes.get(name)
            if cls is None:
                raise ConfigurationError(
                    unknown("routine class", name, self._classes, "the routine factory")
                )
            return cls

    def name_of(self, routine_class: type[Routine]) -> str | None:
        """The name ``routine_class`` is registered under, or None."""
        with self._lock:
            return self._names.get(routine_class)

    def create(self, name: str) -> Routine:
        """A new instance of the class registered as ``name``."""
        return self.get(name)()

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._classes)

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._classes

    def unregister(self, name: str) -> None:
        with self._lock:
            cls = self._classes.pop(name, None)
            if cls is not None:
                self._names.pop(cls, None)


@overload
def register_routine(cls: R, *, name: str | None = None) -> R: ...


@overload
def register_routine(cls: None = None, *, name: str | None = None) -> Callable[[R], R]: ...


def register_routine(cls: R | None = None, *, name: str | None = None) -> R | Callable[[R], R]:
    """Register a routine class with the process-wide :class:`RoutineFactory`.

    >>> from routilux import Routine
    >>> @register_routine
    ... class Greeter(Routine):
    ...     pass
    >>> RoutineFactory.get_instance().get("Greeter") is Greeter
    True
    >>> RoutineFactory.get_instance().unregister("Greeter")
    """
    return RoutineFactory.get_instance().register(cls, name=name)
