"""Finding a flow the way users keep one: a spec file, or ``package.module:flow_object``."""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from routilux.core.errors import ConfigurationError
from routilux.core.flow import Flow
from routilux.spec import load_flow

__all__ = ["SPEC_SUFFIXES", "import_module", "load_flow_ref"]

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def load_flow_ref(ref: str) -> Flow:
    """The flow that ``ref`` names.

    Args:
        ref: A YAML or JSON spec file (``flows/pipeline.yaml``), an importable object
            (``package.module:flow`` or ``path/to/file.py:flow``), where the object is a Flow
            or a function taking no arguments that returns one.

    Returns:
        The flow.

    Raises:
        ConfigurationError: The file, module or object does not exist, or is not a flow;
            the message says which and why.
    """
    if not isinstance(ref, str) or not ref.strip():
        raise ConfigurationError("a flow is named as SPEC.yaml, SPEC.json or module:object")
    if ref.lower().endswith(SPEC_SUFFIXES):
        return _load_spec(ref)
    module_name, sep, attribute = ref.rpartition(":")
    if not sep or not module_name or not attribute:
        raise ConfigurationError(
            f"cannot tell what flow {ref!r} names: give a spec file (.yaml, .yml, .json) "
            "or module:object, such as mypackage.flows:pipeline"
        )
    module = import_module(module_name)
    target: Any = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ConfigurationError(
                f"{module_name!r} has no attribute {attribute!r}"
                + _closest(part, [n for n in dir(target) if not n.startswith("_")])
            ) from None
    if callable(target) and not isinstance(target, Flow):
        target = target()
    if not isinstance(target, Flow):
        raise ConfigurationError(f"{ref!r} is a {type(target).__name__}, not a Flow")
    return target


def _load_spec(path: str) -> Flow:
    if not Path(path).is_file():
        raise ConfigurationError(f"no flow spec file {path!r}")
    try:
        flow = load_flow(path)
    except ConfigurationError:
        raise
    except Exception as error:  # a spec reader's own errors (YAML syntax...) name the file
        raise ConfigurationError(f"cannot read flow spec {path!r}: {error}") from error
    if not isinstance(flow, Flow):
        raise ConfigurationError(f"{path!r} did not give a Flow")
    return flow


def import_module(module_name: str) -> Any:
    """Import ``package.module`` (the current directory comes first) or ``path/file.py``.

    Raises:
        ConfigurationError: No such module or file.
    """
    if module_name.endswith(".py"):
        return _import_file(module_name)
    # Like `python -m`: modules in the current directory are found.
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name.startswith(error.name):
            raise ConfigurationError(
                f"no module named {module_name!r} (looked in the current directory and "
                "sys.path; is the package installed, or PYTHONPATH set?)"
            ) from None
        raise


def _import_file(path: str) -> Any:
    file = Path(path)
    if not file.is_file():
        raise ConfigurationError(f"no Python file {path!r}")
    name = f"routilux_flow_{abs(hash(str(file.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ConfigurationError(f"cannot import {path!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    spec.loader.exec_module(module)
    return module


def _closest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
