"""Checking what requests send: ApiError, body shapes, and engine errors as 4xx."""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterator
from typing import Any

from routilux.core.errors import RoutiluxError, StateError

__all__ = ["ApiError", "as_api_errors", "check_str", "json_kind", "object_body"]


class ApiError(Exception):
    """A request the service refuses: ``status`` is the HTTP status, the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@contextlib.contextmanager
def as_api_errors() -> Iterator[None]:
    """Engine errors become 4xx: bad names and values 422, wrong state 409."""
    try:
        yield
    except StateError as error:
        raise ApiError(409, str(error)) from error
    except (RoutiluxError, ValueError, TypeError) as error:
        raise ApiError(422, str(error)) from error


def object_body(body: Any, allowed: tuple[str, ...], what: str) -> dict[str, Any]:
    """``body`` as a JSON object with only ``allowed`` keys (None is an empty one).

    Raises:
        ApiError: 422 naming a wrong type, or an unknown key and the closest allowed one.
    """
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(422, f"{what} must be a JSON object, got {json_kind(body)}")
    for key in body:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ApiError(
                422, f"unknown key {key!r} in {what} (allowed: {', '.join(allowed)}){hint}"
            )
    return body


def check_str(value: Any, key: str) -> None:
    """422 unless ``value`` (the body's ``key``) is a non-empty string."""
    if not isinstance(value, str) or not value:
        raise ApiError(422, f'"{key}" must be a non-empty string, got {json_kind(value)}')


def json_kind(value: Any) -> str:
    """How JSON calls ``value``'s type: "an object", "a string", "null"..."""
    if value is None:
        return "null"
    name = {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), "number" if isinstance(value, (int, float)) else type(value).__name__
    )
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"
