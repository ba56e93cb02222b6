"""Flows as plain data: the spec dict that Flow.to_dict writes and Flow.from_dict reads.

The shape is upstream Routilux's::

    flow_id: pipeline
    error_handler: {strategy: continue}          # optional, for every routine
    remote: true                                 # optional: RemoteOptions for every routine
    routines:
      reader: {class: Reader, config: {path: in.txt}, remote: false}
      writer: {class: Writer, policy: {name: batch_size, n: 10},
               error_handler: {strategy: retry, max_retries: 2},
               remote: {executor: processes, max_inflight: 1}}
    connections:
      - {from: reader.out, to: writer.in}

``class`` names a class registered with a :class:`~routilux.RoutineFactory`; nothing is
ever imported. Every problem is collected with its place before one error is raised, and
no routine is created unless the structure is sound.
"""

from __future__ import annotations

import builtins
import copy
from typing import TYPE_CHECKING, Any

from routilux.core._check import closest
from routilux.core.error_handler import ErrorHandler
from routilux.core.errors import ConfigurationError, SerializationError
from routilux.core.policies import immediate_policy, policy_from_spec, policy_to_spec
from routilux.core.remote import Choice, from_spec, to_spec

if TYPE_CHECKING:
    from routilux.core.factory import RoutineFactory
    from routilux.core.flow import Flow
    from routilux.core.routine import Routine

TOP_FIELDS = ("flow_id", "routines", "connections", "error_handler", "remote")
ROUTINE_FIELDS = ("class", "config", "error_handler", "policy", "remote")
CONNECTION_FIELDS = ("from", "to")
HANDLER_FIELDS = ("strategy", "max_retries", "retry_delay", "retry_backoff", "retryable_exceptions")


# -- writing ---------------------------------------------------------------------------------


def flow_to_dict(flow: Flow, factory: RoutineFactory) -> dict[str, Any]:
    """``flow`` as a spec dict (see the module docstring)."""
    problems: list[str] = []
    routines: dict[str, Any] = {}
    for routine_id, routine in flow.routines.items():
        if "." in routine_id:
            problems.append(
                f"routines.{routine_id}: an id with '.' cannot be written, since connections "
                "name their ends as 'routine_id.port'"
            )
        entry = _routine_to_dict(routine_id, routine, factory, problems)
        if entry is not None:
            routines[routine_id] = entry
    spec: dict[str, Any] = {"flow_id": flow.flow_id}
    if flow.error_handler is not None:
        spec["error_handler"] = _handler_to_dict(flow.error_handler, "error_handler", problems)
    if flow.remote is not None:
        spec["remote"] = to_spec(flow.remote)
    spec["routines"] = routines
    spec["connections"] = [
        {"from": f"{c.source_id}.{c.event}", "to": f"{c.target_id}.{c.slot}"}
        for c in flow.connections
    ]
    if problems:
        raise SerializationError(
            f"flow {flow.flow_id!r} cannot be written as a spec:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    return spec


def _routine_to_dict(
    routine_id: str, routine: Routine, factory: RoutineFactory, problems: list[str]
) -> dict[str, Any] | None:
    where = f"routines.{routine_id}"
    name = factory.name_of(type(routine))
    if name is None:
        problems.append(
            f"{where}: class {type(routine).__name__} is not registered "
            "(decorate it with @routilux.register_routine)"
        )
        return None
    if routine._logic is not None:
        problems.append(
            f"{where}: its logic was set on the object with set_logic(); define a logic "
            "method on the class so the spec can recreate it"
        )
    entry: dict[str, Any] = {"class": name}
    if routine._config:
        entry["config"] = copy.deepcopy(routine._config)
    if routine.error_handler is not None:
        entry["error_handler"] = _handler_to_dict(
            routine.error_handler, f"{where}.error_handler", problems
        )
    policy = routine.activation_policy
    policy_spec = policy_to_spec(policy)
    if policy_spec is None:
        problems.append(f"{where}.policy: {policy!r} cannot be written down (only built-in ones)")
    elif policy_spec != "immediate":
        entry["policy"] = policy_spec
    own = getattr(routine, "_remote_choice", None)  # its class's @remote is not written
    if own is not None:
        entry["remote"] = to_spec(own)
    return entry


def _handler_to_dict(handler: ErrorHandler, where: str, problems: list[str]) -> dict[str, Any]:
    data = handler.to_dict()
    for t in handler.retryable_exceptions:
        if getattr(builtins, t.__name__, None) is not t:
            problems.append(
                f"{where}.retryable_exceptions: {t.__qualname__} is not a built-in exception; "
                "specs name built-in exception types only"
            )
    return data


# -- reading ---------------------------------------------------------------------------------


def flow_from_dict(spec: object, factory: RoutineFactory, flow_cls: type[Flow]) -> Flow:
    """Build a ``flow_cls`` from a spec, or raise one ConfigurationError listing every
    problem with its place."""
    problems: list[str] = []
    if not isinstance(spec, dict):
        raise ConfigurationError(f"a flow spec must be a mapping, got {type(spec).__name__}")
    _unknown_fields("the spec", spec, TOP_FIELDS, problems)
    flow_id = spec.get("flow_id")
    if flow_id is not None and (not isinstance(flow_id, str) or not flow_id):
        problems.append(f"flow_id: must be a non-empty string, got {flow_id!r}")
    routines = spec.get("routines")
    if routines is None:
        problems.append("routines: missing (a mapping of routine id to {class: ...})")
        routines = {}
    elif not isinstance(routines, dict) or not routines:
        problems.append(f"routines: must be a non-empty mapping, got {routines!r:.60}")
        routines = {}
    plans: dict[str, tuple[type[Routine], dict[str, Any], ErrorHandler | None, Any, Choice]] = {}
    for routine_id, entry in routines.items():
        plan = _plan_routine(routine_id, entry, factory, problems)
        if plan is not None:
            plans[routine_id] = plan
    flow_handler = None
    if spec.get("error_handler") is not None:
        flow_handler = _handler_from_spec(spec["error_handler"], "error_handler", problems)
    flow_remote = _remote_from_spec(spec.get("remote"), "remote", problems)
    wires = _plan_connections(spec.get("connections", []), routines, problems)
    if problems:
        raise _spec_error(flow_id, problems)
    # The structure is sound: create the routines (registered classes only) and wire them.
    flow = flow_cls(flow_id)
    flow.set_error_handler(flow_handler)
    flow.set_remote(flow_remote)
    for routine_id, (cls, config, handler, policy, remote) in plans.items():
        routine = cls()
        if config:
            routine.set_config(**config)
        if handler is not None:
            routine.set_error_handler(handler)
        if policy is not None:
            routine.set_activation_policy(policy)
        routine.set_remote(remote)
        flow.add_routine(routine, routine_id)
    for where, (source_id, event, target_id, slot) in wires:
        try:
            flow.connect(source_id, event, target_id, slot)
        except ConfigurationError as exc:
            problems.append(f"{where}: {exc}")
    if problems:
        raise _spec_error(flow_id, problems)
    return flow


def _plan_routine(
    routine_id: object, entry: object, factory: RoutineFactory, problems: list[str]
) -> tuple[type[Routine], dict[str, Any], ErrorHandler | None, Any, Choice] | None:
    where = f"routines.{routine_id}"
    if not isinstance(routine_id, str) or not routine_id:
        problems.append(f"routines: a routine id must be a non-empty string, got {routine_id!r}")
        return None
    if isinstance(entry, str):
        entry = {"class": entry}  # shorthand: `reader: Reader`
    if not isinstance(entry, dict):
        problems.append(f"{where}: must be a mapping with 'class', got {entry!r:.60}")
        return None
    _unknown_fields(where, entry, ROUTINE_FIELDS, problems)
    cls = None
    name = entry.get("class")
    if name is None:
        problems.append(f"{where}.class: missing (the name of a registered routine class)")
    elif not isinstance(name, str):
        problems.append(f"{where}.class: must be a class name, got {name!r}")
    elif name in factory:
        cls = factory.get(name)
    elif "." in name:
        short = name.rsplit(".", 1)[1]
        hint = f"; {short!r} is registered, name it so" if short in factory else ""
        problems.append(
            f"{where}.class: {name!r} is a dotted path; specs never import code, they name "
            f"classes registered with @routilux.register_routine{hint}"
        )
    else:
        close = closest(name, factory.names())
        problems.append(
            f"{where}.class: {name!r} is not a registered routine class"
            + (f"; did you mean {close!r}?" if close else "")
            + f" (registered: {', '.join(factory.names()) or 'none'})"
        )
    config = entry.get("config") or {}
    if not isinstance(config, dict) or not all(isinstance(k, str) for k in config):
        problems.append(f"{where}.config: must be a mapping with string keys, got {config!r:.60}")
        config = {}
    handler = None
    if entry.get("error_handler") is not None:
        handler = _handler_from_spec(entry["error_handler"], f"{where}.error_handler", problems)
    policy = None
    if entry.get("policy") is not None:
        try:
            policy = policy_from_spec(entry["policy"])
        except (ConfigurationError, TypeError) as exc:
            problems.append(f"{where}.policy: {exc}")
    remote = _remote_from_spec(entry.get("remote"), f"{where}.remote", problems)
    if cls is None:
        return None
    return cls, config, handler, policy if policy is not None else immediate_policy(), remote


def _remote_from_spec(data: object, where: str, problems: list[str]) -> Choice:
    try:
        return from_spec(data)
    except ConfigurationError as exc:
        problems.append(f"{where}: {exc}")
        return None


def _handler_from_spec(data: object, where: str, problems: list[str]) -> ErrorHandler | None:
    if isinstance(data, str):
        data = {"strategy": data}
    if not isinstance(data, dict):
        problems.append(f"{where}: must be a strategy name or a mapping, got {data!r:.60}")
        return None
    if _unknown_fields(where, data, HANDLER_FIELDS, problems):
        return None
    options = dict(data)
    names = options.get("retryable_exceptions")
    if names is not None:
        if isinstance(names, str):
            names = [names]
        types = []
        for name in names if isinstance(names, list) else [names]:
            t = getattr(builtins, name, None) if isinstance(name, str) else None
            if not (isinstance(t, type) and issubclass(t, BaseException)):
                problems.append(
                    f"{where}.retryable_exceptions: {name!r} is not a built-in exception type"
                )
                return None
            types.append(t)
        options["retryable_exceptions"] = tuple(types)
    try:
        return ErrorHandler(**options)
    except (ConfigurationError, TypeError) as exc:
        problems.append(f"{where}: {exc}")
        return None


def _plan_connections(
    connections: object, routines: dict[Any, Any], problems: list[str]
) -> list[tuple[str, tuple[str, str, str, str]]]:
    if not isinstance(connections, list):
        problems.append(f"connections: must be a list, got {connections!r:.60}")
        return []
    wires = []
    for index, entry in enumerate(connections):
        where = f"connections[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a mapping with 'from' and 'to', got {entry!r:.60}")
            continue
        _unknown_fields(where, entry, CONNECTION_FIELDS, problems)
        ends = []
        for key, port in (("from", "event"), ("to", "slot")):
            end = entry.get(key)
            if end is None:
                problems.append(f"{where}.{key}: missing ('routine_id.{port}')")
            elif not isinstance(end, str) or end.count(".") != 1 or "" in end.split("."):
                problems.append(f"{where}.{key}: must look like 'routine_id.{port}', got {end!r}")
            elif end.split(".")[0] not in routines:
                routine_id = end.split(".")[0]
                hint = closest(routine_id, [r for r in routines if isinstance(r, str)])
                problems.append(
                    f"{where}.{key}: unknown routine {routine_id!r}"
                    + (f"; did you mean {hint!r}?" if hint else "")
                )
            else:
                ends.append(end.split("."))
        if len(ends) == 2:
            (source_id, event), (target_id, slot) = ends
            wires.append((where, (source_id, event, target_id, slot)))
    return wires


def _unknown_fields(
    where: str, entry: dict[Any, Any], valid: tuple[str, ...], problems: list[str]
) -> bool:
    found = False
    for key in entry:
        if key not in valid:
            found = True
            hint = closest(str(key), valid)
            problems.append(
                f"{where}: unknown field {key!r}"
                + (f"; did you mean {hint!r}?" if hint else "")
                + f" (fields: {', '.join(valid)})"
            )
    return found


def _spec_error(flow_id: object, problems: list[str]) -> ConfigurationError:
    name = f" {flow_id!r}" if isinstance(flow_id, str) else ""
    return ConfigurationError(
        f"flow spec{name} has {len(problems)} problem{'s' if len(problems) != 1 else ''}:\n"
        + "\n".join(f"  - {p}" for p in problems)
    )
