"""The tracked containers behind ``WorkerState.shared_data`` and ``shared_log``.

They report every write to the state's listener (see ``StateListener`` in ``state.py``), so a
store can checkpoint exactly what each activation wrote.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, SupportsIndex

if TYPE_CHECKING:
    from routilux.core.state import WorkerState

__all__ = ["DELETED", "SharedData", "SharedLog"]

DELETED: Any = type("Deleted", (), {"__repr__": lambda self: "DELETED"})()
"""The value a :data:`StateListener` gets for a ``shared_data`` key that was deleted."""

_LOG_KEY = ("log", None)


class SharedData(dict[Any, Any]):
    """``WorkerState.shared_data``: a dict that reports key writes to the state's listener.

    Copies (``copy.copy``, ``copy.deepcopy``, pickling) are plain dicts.
    """

    __slots__ = ("_state",)

    def __init__(self, state: WorkerState) -> None:
        super().__init__()
        self._state = state

    def __reduce__(self) -> Any:
        return (dict, (dict(self),))

    def __copy__(self) -> dict[Any, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[Any, Any]:
        return copy.deepcopy(dict(self), memo)

    def _read(self, key: Any) -> None:
        state = self._state
        if state._listener is not None:
            with state.lock:
                state._tell("read", ("data", key), None)

    def __getitem__(self, key: Any) -> Any:
        self._read(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._read(key)
        return super().get(key, default)

    def __setitem__(self, key: Any, value: Any) -> None:
        state = self._state
        with state.lock:
            super().__setitem__(key, value)
            if state._listener is not None:
                state._tell("write", ("data", key), value)

    def __delitem__(self, key: Any) -> None:
        state = self._state
        with state.lock:
            super().__delitem__(key)
            if state._listener is not None:
                state._tell("write", ("data", key), DELETED)

    def update(self, *args: Any, **kwargs: Any) -> None:
        with self._state.lock:
            for key, value in dict(*args, **kwargs).items():
                self[key] = value

    def __ior__(self, other: Any) -> SharedData:  # type: ignore[misc]
        self.update(other)
        return self

    def setdefault(self, key: Any, default: Any = None) -> Any:
        with self._state.lock:
            if key in self:
                return self[key]
            self[key] = default
            return default

    def pop(self, key: Any, *default: Any) -> Any:
        with self._state.lock:
            if key in self:
                value = super().__getitem__(key)
                del self[key]
                return value
            if default:
                return default[0]
            raise KeyError(key)

    def popitem(self) -> tuple[Any, Any]:
        with self._state.lock:
            key, value = super().popitem()
            super().__setitem__(key, value)
            del self[key]
            return key, value

    def clear(self) -> None:
        with self._state.lock:
            for key in list(self):
                del self[key]


class SharedLog(list[Any]):
    """``WorkerState.shared_log``: a list that reports appends (and any other change, as a
    replacement of the whole list) to the state's listener.

    Copies (``copy.copy``, ``copy.deepcopy``, pickling) are plain lists.
    """

    __slots__ = ("_state",)

    def __init__(self, state: WorkerState) -> None:
        super().__init__()
        self._state = state

    def __reduce__(self) -> Any:
        return (list, (list(self),))

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return copy.deepcopy(list(self), memo)

    def append(self, item: Any) -> None:
        state = self._state
        with state.lock:
            super().append(item)
            if state._listener is not None:
                state._tell("append", _LOG_KEY, item)

    def extend(self, items: Iterable[Any]) -> None:
        with self._state.lock:
            for item in list(items):
                self.append(item)

    def __iadd__(self, items: Iterable[Any]) -> SharedLog:  # type: ignore[misc]
        self.extend(items)
        return self

    def _reset(self) -> None:
        state = self._state
        if state._listener is not None:
            state._tell("reset", _LOG_KEY, list(self))

    def insert(self, index: SupportsIndex, item: Any) -> None:
        with self._state.lock:
            super().insert(index, item)
            self._reset()

    def remove(self, item: Any) -> None:
        with self._state.lock:
            super().remove(item)
            self._reset()

    def pop(self, index: SupportsIndex = -1) -> Any:
        with self._state.lock:
            item = super().pop(index)
            self._reset()
            return item

    def clear(self) -> None:
        with self._state.lock:
            super().clear()
            self._reset()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        with self._state.lock:
            super().sort(*args, **kwargs)
            self._reset()

    def reverse(self) -> None:
        with self._state.lock:
            super().reverse()
            self._reset()

    def __setitem__(self, index: Any, value: Any) -> None:
        with self._state.lock:
            super().__setitem__(index, value)
            self._reset()

    def __delitem__(self, index: Any) -> None:
        with self._state.lock:
            super().__delitem__(index)
            self._reset()

    def __imul__(self, n: SupportsIndex) -> SharedLog:
        with self._state.lock:
            super().__imul__(n)
            self._reset()
        return self
