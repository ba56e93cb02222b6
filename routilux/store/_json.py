"""JSON encoding of user data for the store, with errors that name where the data came from."""

from __future__ import annotations

import json
from typing import Any

from routilux.core.errors import SerializationError

__all__ = ["decode", "encode", "encode_or_none"]

# Compact separators keep rows small; ensure_ascii=False keeps text readable in sqlite3.
_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_encode = _encoder.encode


def encode(value: Any, where: str) -> str:
    """``value`` as JSON text.

    Args:
        value: Plain data (dicts with string keys, lists, str, int, float, bool, None).
        where: What the data is, for the error message (``"routine 'r1' slot 'inp'"``).

    Raises:
        SerializationError: The value is not plain JSON data.
    """
    try:
        return _encode(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise SerializationError(
            f"{where}: data cannot be stored as JSON ({exc}); the store keeps plain data only "
            "(dict, list, str, int, float, bool, None)"
        ) from exc


def encode_or_none(value: Any, where: str) -> str | None:
    """Like :func:`encode`, but None stays None (SQL NULL)."""
    return None if value is None else encode(value, where)


def decode(text: str | None, where: str) -> Any:
    """Parse JSON text written by :func:`encode`; None (SQL NULL) gives None."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise SerializationError(f"{where}: stored JSON is corrupt ({exc})") from exc
