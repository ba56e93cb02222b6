"""State files: strict JSON documents of plain data, written atomically, loaded with clear errors.

Used by ``WorkerState.save`` / ``load`` and the store's ``JobState``. Every problem is a
:class:`~routilux.core.errors.SerializationError` naming the file and, for bad data, the path
of the bad value inside it (``$.shared_data.rate``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from routilux.core.errors import SerializationError

__all__ = ["MAX_DEPTH", "check_plain", "read_document", "write_atomically", "write_document"]

MAX_DEPTH = 900
"""Nesting deeper than this is refused (Python's JSON parser recurses, and gives up near 1000)."""


def check_plain(value: Any, where: str = "$", *, tagged: bool = False) -> str | None:
    """The first reason ``value`` cannot go into a state file, with its path; None if it can.

    Args:
        value: The data.
        where: The path of ``value`` in the document, for the message.
        tagged: Dicts may carry a ``"_type"`` tag (serilux documents): it must be a string.

    >>> check_plain({"a": [1, float("inf")]})
    '$.a[1] is inf (JSON has no NaN or infinity)'
    """
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    open_containers: set[int] = set()
    exits: list[tuple[int, int]] = []  # (stack length, id) at which a container is left
    while stack:
        while exits and len(stack) <= exits[-1][0]:
            open_containers.discard(exits.pop()[1])
        item, path, depth = stack.pop()
        kind = type(item)
        if item is None or kind is str or kind is bool:
            continue
        if kind is int:
            if item.bit_length() > 14_000:  # about 4,300 decimal digits
                return f"{path} is an integer of over 4,300 digits"
            continue
        if kind is float:
            if not math.isfinite(item):
                return f"{path} is {item} (JSON has no NaN or infinity)"
            continue
        if kind is not dict and kind is not list and kind is not tuple:
            return f"{path} is a {kind.__module__}.{kind.__qualname__}, not plain data"
        if depth >= MAX_DEPTH:
            return f"{path} is nested more than {MAX_DEPTH} levels deep"
        if id(item) in open_containers:
            return f"{path} contains itself (a circular reference)"
        open_containers.add(id(item))
        exits.append((len(stack), id(item)))
        if kind is dict:
            if tagged and "_type" in item and type(item["_type"]) is not str:
                return f"{path}._type is {item['_type']!r}; a type tag is a string"
            for key, child in reversed(list(item.items())):
                if type(key) is not str:
                    return f"{path} has the key {key!r} ({type(key).__name__}); keys are strings"
                stack.append((child, f"{path}.{key}", depth + 1))
        else:
            for index in range(len(item) - 1, -1, -1):
                stack.append((item[index], f"{path}[{index}]", depth + 1))
    return None


def write_document(path: str | os.PathLike[str], document: Any, what: str) -> None:
    """Write ``document`` to ``path`` as JSON, atomically (temp file, fsync, rename).

    Args:
        path: The file.
        document: Plain data (checked with :func:`check_plain`).
        what: What the file holds, for messages (``"worker state"``).

    Raises:
        SerializationError: The data is not plain, or the file cannot be written; the file
            at ``path`` is left as it was.
    """
    target = Path(path)
    problem = check_plain(document, tagged=True)
    if problem is not None:
        raise SerializationError(f"cannot save {what} to {target}: {problem}")
    try:
        text = json.dumps(document, indent=1, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise SerializationError(f"cannot save {what} to {target}: {exc}") from exc
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise SerializationError(
            f"cannot save {what} to {target}: the directory {directory} does not exist"
        )
    write_atomically(target, text.encode("utf-8"), f"cannot save {what} to {target}")


def write_atomically(path: Path, payload: bytes, failure: str) -> None:
    """Write ``payload`` to ``path`` so that readers see the old file or the new one, never
    half of one, even after a crash (temporary file, fsync, rename, fsync of the directory).

    Raises:
        SerializationError: ``failure: <the OS error>``; ``path`` is left as it was.
    """
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise SerializationError(f"{failure}: {exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise SerializationError(f"{failure}: {exc}") from exc
        raise
    # The rename is durable only once the directory entry is on disk too.
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_document(path: str | os.PathLike[str], what: str) -> Any:
    """The JSON document in ``path``, checked to be plain data (tags must be strings).

    Raises:
        SerializationError: The file is missing, unreadable, not UTF-8 JSON, nested too
            deeply, holds an integer of over 4,300 digits, NaN or infinity, or a non-string
            type tag.
    """
    source = Path(path)
    try:
        text = source.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SerializationError(f"cannot read {what} {source}: {exc}") from exc
    try:
        document = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise SerializationError(
            f"{source} is not valid JSON (truncated or corrupt?): {exc.msg} at line "
            f"{exc.lineno} column {exc.colno}"
        ) from exc
    except RecursionError as exc:
        raise SerializationError(f"{source}: nested too deeply to read") from exc
    except ValueError as exc:  # an integer past Python's 4,300-digit limit, NaN, Infinity
        raise SerializationError(f"{source}: {exc}") from exc
    problem = check_plain(document, tagged=True)
    if problem is not None:
        raise SerializationError(f"{source}: {problem}")
    return document


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON data (JSON has no NaN or infinity)")
