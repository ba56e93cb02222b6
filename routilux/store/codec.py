"""The JSON codec of the store: plain data in, the same plain data out, or a clear error.

What it accepts: dicts with string keys, lists (tuples come back as lists), str, int,
float, bool and None. Anything else, a dict key that is not a string (JSON would turn
``{1: 2}`` into ``{"1": 2}``), NaN or an infinity (not JSON) is refused with a
:class:`~routilux.core.errors.SerializationError` that says where the data came from and
the path of the bad value inside it.

>>> decode(encode({"a": [1, 2.5, None]}, "example"), "example")
{'a': [1, 2.5, None]}
>>> encode({1: 2}, "data posted to 'src'")
Traceback (most recent call last):
...
routilux.core.errors.SerializationError: data posted to 'src': cannot be stored as JSON: \
$ has the key 1 (int), and JSON keys are strings; the store keeps plain data only (dict \
with str keys, list, str, int, float, bool, None)
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

from routilux.core.errors import SerializationError

__all__ = ["decode", "encode", "encode_or_none", "encode_str", "find_problem", "try_encode"]

encode_str = encode_basestring
"""A string as JSON text (quoted and escaped)."""

# Compact separators keep rows small; ensure_ascii=False keeps text readable in sqlite3.
_checked = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def _not_plain(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _c_encoder() -> Callable[[Any], str]:
    """The encoding of ``_checked`` through json's C encoder, made once.

    ``JSONEncoder.encode`` builds a new C encoder for every call, which costs more than
    encoding a small dict. This one does not look for circular references: a reference
    cycle ends in RecursionError, which ``_refusal`` tells apart with ``_checked``.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython has it; other Pythons take the long way
        return _checked
    chunks = make(None, _not_plain, encode_basestring, None, ":", ",", False, False, False)

    def encode(value: Any) -> str:
        return "".join(chunks(value, 0))

    return encode


_encode = _c_encoder()
_PLAIN = "dict with str keys, list, str, int, float, bool, None"


def _keys_ok(value: Any) -> bool:
    """Whether every dict inside ``value`` has string keys only (the encoder checks the rest)."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                return False
            kind = type(item)
            if (kind is dict or kind is list or kind is tuple) and not _keys_ok(item):
                return False
    elif kind is list or kind is tuple:
        for item in value:
            kind = type(item)
            if (kind is dict or kind is list or kind is tuple) and not _keys_ok(item):
                return False
    return True


def encode(value: Any, where: object) -> str:
    """``value`` as compact JSON text.

    Args:
        value: Plain data (see the module docstring).
        where: What the data is, for the error message (``"routine 'r1' slot 'inp'"``); any
            object whose ``str()`` says it, formatted only if the data is refused.

    Returns:
        The JSON text.

    Raises:
        SerializationError: The value is not plain JSON data; the message gives the path of
            the first bad value (``$.items[3]``).
    """
    text = try_encode(value)
    if text is None:
        raise _refusal(value, where)
    return text


def try_encode(value: Any) -> str | None:
    """``value`` as compact JSON text, or None if :func:`encode` would refuse it (call it
    then, for the error): the fast path for data whose context is costly to describe."""
    try:
        text = _encode(value)
    except (TypeError, ValueError, RecursionError):
        return None
    kind = type(value)
    if (kind is dict or kind is list or kind is tuple) and not _keys_ok(value):
        return None
    return text


def _refusal(value: Any, where: object) -> SerializationError:
    """Why ``value`` cannot be stored. Encoding it again with the checked encoder tells a
    reference cycle from data nested too deeply, and gives the error its cause."""
    try:
        _checked(value)
    except (TypeError, ValueError, RecursionError) as exc:
        error = _refused(value, where, exc)
        error.__cause__ = exc
        return error
    return _refused(value, where, None)  # a dict key that is not a string


def encode_or_none(value: Any, where: str) -> str | None:
    """Like :func:`encode`, but None stays None (SQL NULL)."""
    return None if value is None else encode(value, where)


def decode(text: str | bytes | None, where: str) -> Any:
    """Parse JSON text written by :func:`encode`; None (SQL NULL) gives None.

    Args:
        text: The JSON text.
        where: What it is, for the error message.

    Returns:
        The data.

    Raises:
        SerializationError: The text is not valid JSON (a corrupt row or file).
    """
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError, TypeError) as exc:
        raise SerializationError(f"{where}: stored JSON is corrupt ({exc})") from exc


def find_problem(value: Any, path: str = "$", depth: int = 0) -> str | None:
    """The first reason ``value`` is not plain JSON data, with its path, or None.

    >>> find_problem({"a": [1, float("nan")]})
    '$.a[1] is nan, which JSON cannot hold'
    """
    if depth > 900:
        return f"{path} is nested more than 900 levels deep"
    kind = type(value)
    if value is None or kind is str or kind is bool or kind is int:
        return None
    if kind is float:
        return None if math.isfinite(value) else f"{path} is {value}, which JSON cannot hold"
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                return (
                    f"{path} has the key {key!r} ({type(key).__name__}), and JSON keys are strings"
                )
            problem = find_problem(item, f"{path}.{key}", depth + 1)
            if problem:
                return problem
        return None
    if kind is list or kind is tuple:
        for i, item in enumerate(value):
            problem = find_problem(item, f"{path}[{i}]", depth + 1)
            if problem:
                return problem
        return None
    return f"{path} is a {kind.__module__}.{kind.__qualname__}, not plain data"


def _refused(value: Any, where: object, exc: BaseException | None) -> SerializationError:
    try:
        problem = find_problem(value) or (str(exc) if exc is not None else "not plain data")
    except RecursionError:
        problem = "it refers to itself or is nested too deeply"
    if isinstance(exc, ValueError) and "Circular reference" in str(exc):
        problem = "it contains itself (a circular reference)"
    return SerializationError(
        f"{where}: cannot be stored as JSON: {problem}; the store keeps plain data only ({_PLAIN})"
    )
