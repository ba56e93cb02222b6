"""Helpers that turn an unknown name into an error message that suggests the right one."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def unknown(kind: str, name: str, known: Iterable[str], where: str = "") -> str:
    """Describe an unknown ``kind`` called ``name``, listing what exists and the closest match."""
    names = sorted(known)
    place = f" in {where}" if where else ""
    message = f"unknown {kind} {name!r}{place}"
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        message += f"; did you mean {close[0]!r}?"
    message += f" (known: {', '.join(map(repr, names)) or 'none'})"
    return message
