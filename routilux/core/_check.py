"""Checks for numbers and keyword arguments given to the public API."""

from __future__ import annotations

import difflib
import functools
import inspect
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, cast

from routilux.core.errors import ConfigurationError, ConfigurationTypeError


def count(name: str, value: object, *, minimum: int = 1) -> int:
    """``value`` as an int of at least ``minimum``; bools and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationTypeError(
            f"{name} must be an integer, got {type(value).__name__} {value!r}"
        )
    if value < minimum:
        raise ConfigurationError(f"{name} must be >= {minimum}, got {value!r}")
    return value


def seconds(name: str, value: object, *, allow_zero: bool = True, minimum: float = 0.0) -> float:
    """``value`` as a finite float of at least ``minimum`` (above it if not ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationTypeError(
            f"{name} must be a number, got {type(value).__name__} {value!r}"
        )
    number = float(value)
    if not math.isfinite(number):
        raise ConfigurationError(f"{name} must be a finite number, got {value!r}")
    if number < minimum or (not allow_zero and number == minimum):
        bound = ">=" if allow_zero else ">"
        raise ConfigurationError(f"{name} must be {bound} {minimum:g}, got {value!r}")
    return number


def timeout(value: object) -> float | None:
    """A wait's ``timeout``: None (or an infinity) waits for ever; a number of seconds, as
    ``threading``'s waits take it (zero or less: do not wait). Anything else is refused."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationTypeError(
            f"timeout must be a number of seconds or None, got {type(value).__name__} {value!r}"
        )
    number = float(value)
    if math.isnan(number):
        raise ConfigurationError("timeout must be a number of seconds or None, got nan")
    return None if number == math.inf else number


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name closest to ``name``, or None if none is close."""
    matches = difflib.get_close_matches(name, list(known), n=1)
    return matches[0] if matches else None


def no_unknown_keywords(where: str, given: Mapping[str, Any], valid: Iterable[str]) -> None:
    """Raise TypeError for the first keyword of ``given`` that ``valid`` does not list."""
    valid = list(valid)
    for key in given:
        if key not in valid:
            raise unexpected_keyword(where, key, valid)


def unexpected_keyword(where: str, key: str, valid: Iterable[str]) -> TypeError:
    """The TypeError for an unknown keyword, suggesting the closest valid one."""
    valid = sorted(valid)
    message = f"{where} got an unexpected keyword argument {key!r}"
    match = closest(key, valid)
    if match is not None:
        message += f"; did you mean {match!r}?"
    message += f" (valid: {', '.join(valid) or 'none'})"
    return TypeError(message)


F = TypeVar("F", bound=Callable[..., Any])


def suggests_keywords(fn: F) -> F:
    """Make a misspelt keyword argument to ``fn`` a TypeError naming the closest valid one.

    Python's own error says only that the keyword is unexpected. The wrapper costs one
    call; the signature is read only when such an error happens.
    """

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TypeError as exc:
            tb = exc.__traceback__
            # Raised by the call itself (binding the arguments), not inside fn.
            if kwargs and tb is not None and tb.tb_next is None:
                valid = [
                    p.name
                    for p in inspect.signature(fn).parameters.values()
                    if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                    and p.name not in ("self", "cls")
                ]
                for key in kwargs:
                    if key not in valid:
                        raise unexpected_keyword(f"{fn.__qualname__}()", key, valid) from None
            raise

    return cast(F, call)
