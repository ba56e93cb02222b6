"""Flow spec files: ``load_flow`` reads a flow from YAML, JSON or a dict; ``save_flow``
writes one.

YAML needs PyYAML (``pip install routilux[yaml]``), imported only when a YAML file is read
or written. Loading never imports code: routine classes are looked up by the name they were
registered under (:func:`routilux.register_routine`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from routilux.core.errors import ConfigurationError, SerializationError
from routilux.core.factory import RoutineFactory
from routilux.core.flow import Flow
from routilux.core.state_file import write_atomically

__all__ = ["load_flow", "save_flow"]

_YAML = (".yaml", ".yml")
_JSON = (".json",)


def load_flow(
    source: str | os.PathLike[str] | dict[str, Any], *, factory: RoutineFactory | None = None
) -> Flow:
    """Build a flow from a spec file (``.yaml``, ``.yml``, ``.json``) or a spec dict.

    Args:
        source: A path, or the spec itself as a dict (see :meth:`Flow.to_dict`).
        factory: Where routine classes are looked up (default: the process-wide one).

    Returns:
        The flow (not registered anywhere; ``FlowRegistry.get_instance().register(flow)``
        makes it reachable by name).

    Raises:
        SerializationError: The file cannot be read or parsed.
        ConfigurationError: The spec has problems; one error lists them all.
    """
    if isinstance(source, dict):
        return Flow.from_dict(source, factory)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"load_flow needs a path or a dict, got {type(source).__name__} {source!r:.60}"
        )
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix not in _YAML + _JSON:
        raise ConfigurationError(
            f"{path}: unknown spec format {suffix or '(no suffix)'!r}; use .yaml, .yml or .json"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SerializationError(f"cannot read flow spec {path}: {exc}") from exc
    spec = _parse_yaml(text, path) if suffix in _YAML else _parse_json(text, path)
    try:
        return Flow.from_dict(spec, factory)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{path}: {exc}") from None


def save_flow(
    flow: Flow, path: str | os.PathLike[str], *, factory: RoutineFactory | None = None
) -> None:
    """Write ``flow`` as a spec file, YAML or JSON by the suffix, atomically.

    Raises:
        SerializationError: The flow cannot be written as a spec, or the file not written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _YAML + _JSON:
        raise ConfigurationError(
            f"{path}: unknown spec format {suffix or '(no suffix)'!r}; use .yaml, .yml or .json"
        )
    spec = flow.to_dict(factory)
    try:
        if suffix in _YAML:
            text = _yaml().safe_dump(spec, sort_keys=False, allow_unicode=True)
        else:
            text = json.dumps(spec, indent=2, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise SerializationError(f"cannot write flow {flow.flow_id!r} to {path}: {exc}") from exc
    except Exception as exc:  # PyYAML's RepresenterError for objects it cannot write
        raise SerializationError(f"cannot write flow {flow.flow_id!r} to {path}: {exc}") from exc
    write_atomically(path, text.encode("utf-8"), f"cannot write {path}")


def _parse_json(text: str, path: Path) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SerializationError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except RecursionError as exc:
        raise SerializationError(f"{path} is nested too deeply") from exc


def _parse_yaml(text: str, path: Path) -> Any:
    yaml = _yaml()
    try:
        return yaml.safe_load(text)  # safe_load builds plain data only, never objects
    except yaml.YAMLError as exc:
        raise SerializationError(f"{path} is not valid YAML: {exc}") from exc
    except RecursionError as exc:
        raise SerializationError(f"{path} is nested too deeply") from exc


def _yaml() -> Any:
    try:
        import yaml  # optional dependency: routilux[yaml]
    except ImportError:
        raise ConfigurationError(
            "YAML flow specs need PyYAML: pip install 'routilux[yaml]' (or use .json)"
        ) from None
    return yaml
