"""Flows for the store tests; each logic appends one line per execution to a log file.

The log is append-only and written with one ``os.write`` per execution, so a process killed
with SIGKILL keeps every line it wrote: the tests count executions from it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from routilux import ErrorHandler, ErrorStrategy, Flow, Routine


def log_execution(routine: Routine, inputs: Any) -> None:
    """Append ``routine_id|inputs`` to the routine's ``log`` file (if it has one)."""
    path = routine.get_config("log")
    if path:
        line = f"{routine.routine_id}|{json.dumps(inputs, sort_keys=True)}\n".encode()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def read_log(path: Path) -> list[str]:
    """The executions a log holds, one ``routine_id|inputs`` string each."""
    return path.read_text().splitlines() if path.exists() else []


class _Logged(Routine):
    """A routine that logs each execution and may sleep a little to stretch a run."""

    def started(self, inputs: Any) -> None:
        log_execution(self, inputs)
        pause = self.get_config("pause", 0.0)
        if pause:
            time.sleep(pause)


class Source(_Logged):
    """Emits ``item`` with i = 0 .. n-1 for a posted ``{"n": n}``."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")
        self.add_event("item", ["i"])

    def logic(self, inp: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        self.started(inp)
        for point in inp:
            for i in range(point["n"]):
                self.emit("item", i=i)


class Double(_Logged):
    """Emits ``2 * i`` tagged ``d<i>``; raises after that on ``broken_at``."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")
        self.add_event("out", ["tag", "v"])

    def logic(self, inp: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        self.started(inp)
        for point in inp:
            self.emit("out", tag=f"d{point['i']}", v=2 * point["i"])
            if point["i"] == self.get_config("broken_at"):
                raise RuntimeError("double is broken (after emitting)")


class AsyncDouble(Double):
    """Double as ``async def`` logic: awaited on the runtime's event loop."""

    async def logic(  # type: ignore[override]
        self, inp: list[dict[str, Any]], policy_message: Any, worker_state: Any
    ) -> None:
        log_execution(self, inp)
        pause = self.get_config("pause", 0.0)
        if pause:
            await asyncio.sleep(pause)
        for point in inp:
            self.emit("out", tag=f"d{point['i']}", v=2 * point["i"])
            if point["i"] == self.get_config("broken_at"):
                raise RuntimeError("double is broken (after emitting)")


class Increment(_Logged):
    """Emits ``i + 1`` tagged ``i<i>``."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")
        self.add_event("out", ["tag", "v"])

    def logic(self, inp: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        self.started(inp)
        for point in inp:
            self.emit("out", tag=f"i{point['i']}", v=point["i"] + 1)


class Sink(_Logged):
    """Keeps the tags it saw in its routine state and emits ``result`` (a leaf event)."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")
        self.add_event("result", ["tag", "v"])

    def logic(self, inp: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        self.started(inp)
        with worker_state.lock:
            seen = set(worker_state.get_routine_state(self.routine_id, {}).get("seen", []))
            seen.update(point["tag"] for point in inp)
            worker_state.set_routine_state(self.routine_id, {"seen": sorted(seen)})
        for point in inp:
            self.emit("result", tag=point["tag"], v=point["v"])


class Discard(Routine):
    """Takes data on ``inp`` and does nothing with it: the end of a line."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")

    def logic(self, inp: list[Any], policy_message: Any, worker_state: Any) -> None:
        pass


def fanout_flow(
    name: str,
    log: Path | None,
    *,
    pause: float = 0.0,
    broken_at: int | None = None,
    asynchronous: bool = False,
    remote: bool = False,
) -> Flow:
    """src -> (double, inc) -> sink: ``4n + 1`` activations for a post of ``{"n": n}``.

    With ``broken_at``, double raises (after emitting) on that item; ``asynchronous`` makes
    double ``async def`` logic; ``remote`` runs double's logic in a process pool.
    """
    flow = Flow(name)
    double = AsyncDouble() if asynchronous else Double()
    if remote:
        double.set_executor("processes")
    for routine, rid in ((Source(), "src"), (double, "double"), (Increment(), "inc")):
        routine.set_config(log=str(log) if log else None, pause=pause)
        flow.add_routine(routine, rid)
    sink = Sink()
    sink.set_config(log=str(log) if log else None, pause=pause)
    flow.add_routine(sink, "sink")
    flow.get_routine("double").set_config(broken_at=broken_at)
    flow.connect("src", "item", "double", "inp")
    flow.connect("src", "item", "inc", "inp")
    flow.connect("double", "out", "sink", "inp")
    flow.connect("inc", "out", "sink", "inp")
    return flow


class Step(_Logged):
    """One link of a ring: passes ``n - 1`` on while ``n > 0`` and counts its runs."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")
        self.add_event("out", ["n"])

    def logic(self, inp: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        self.started(inp)
        runs = worker_state.get_routine_state(self.routine_id, {}).get("runs", 0)
        worker_state.update_routine_state(self.routine_id, {"runs": runs + 1})
        for point in inp:
            if point["n"] > 0:
                self.emit("out", n=point["n"] - 1)


def ring_flow(name: str, log: Path | None, size: int = 10) -> Flow:
    """``size`` routines in a ring: a post of ``{"n": n}`` runs ``n + 1`` activations."""
    flow = Flow(name)
    ids = []
    for i in range(size):
        step = Step()
        step.set_config(log=str(log) if log else None)
        ids.append(flow.add_routine(step, f"r{i}"))
    for a, b in zip(ids, ids[1:] + ids[:1], strict=True):
        flow.connect(a, "out", b, "inp")
    return flow


class Flaky(Routine):
    """Fails until its ``succeed_at``-th execution; kills its process at ``kill_at``."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")
        self.add_event("out", ["ok"])

    def logic(self, inp: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        log_execution(self, inp)
        runs = len(read_log(Path(self.get_config("log"))))
        if runs == self.get_config("kill_at"):
            os.kill(os.getpid(), signal.SIGKILL)
        if runs < self.get_config("succeed_at", 1_000_000):
            raise RuntimeError(f"flaky failure {runs}")
        self.emit("out", ok=runs)


def retry_flow(name: str, log: Path, *, kill_at: int | None, succeed_at: int | None) -> Flow:
    """One flaky routine under RETRY with 5 attempts allowed (max_retries=4)."""
    flow = Flow(name)
    flaky = Flaky()
    flaky.set_config(log=str(log), kill_at=kill_at)
    if succeed_at is not None:
        flaky.set_config(succeed_at=succeed_at)
    flaky.set_error_handler(ErrorHandler(ErrorStrategy.RETRY, max_retries=4, retry_delay=0))
    flow.add_routine(flaky, "flaky")
    return flow


class Counter(_Logged):
    """Counts its inputs in routine state, ``shared_data`` and ``shared_log``.

    A read-modify-write under ``worker_state.lock``, then a pause: with several threads,
    another activation of it reads this one's write before this one is committed.
    """

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")

    def logic(self, inp: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        log_execution(self, inp)
        with worker_state.lock:
            state = worker_state.get_routine_state(self.routine_id, {"count": 0, "items": []})
            for point in inp:
                state["count"] += 1
                state["items"].append(point["i"])
                worker_state.shared_data[f"i{point['i']}"] = point["i"]
                worker_state.shared_log.append(point["i"])
            worker_state.set_routine_state(self.routine_id, state)
        pause = self.get_config("pause", 0.0)
        if pause:
            time.sleep(pause)


def counter_flow(name: str, log: Path | None, *, pause: float = 0.0) -> Flow:
    """src -> count: ``n + 1`` activations for a post of ``{"n": n}``; count's activations
    overlap when the runtime has several threads."""
    flow = Flow(name)
    source = Source()
    source.set_config(log=str(log) if log else None)
    flow.add_routine(source, "src")
    counter = Counter()
    counter.set_config(log=str(log) if log else None, pause=pause)
    flow.add_routine(counter, "count")
    flow.connect("src", "item", "count", "inp")
    return flow
