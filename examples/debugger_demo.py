"""The debugger without a browser: a flow, a breakpoint, steps, a trace and pictures on disk.

Run: ``python examples/debugger_demo.py [OUTPUT_DIR]`` (``make demo`` writes to build/demo).
It prints the flow, stops at a breakpoint, steps through the activations one by one saying
what ran and what runs next, prints the trace, and writes the diagram as SVG and the paused
state as an HTML page you can open in any browser.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from routilux import Flow, Routine, Runtime
from routilux.notebook import render, snapshot_html
from routilux.notebook.live.activity import activity_from_records
from routilux.notebook.live.overlay import build_overlay


class Split(Routine):
    """Splits an order into its lines."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("order")
        self.add_event("line", ["item", "qty"])

    def logic(self, order: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        for point in order:
            for item, qty in point["lines"].items():
                self.emit("line", item=item, qty=qty)


class Price(Routine):
    """Prices one line."""

    PRICES = {"tea": 3, "cake": 4}

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("line")
        self.add_event("priced", ["item", "total"])

    def logic(self, line: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        for point in line:
            self.emit("priced", item=point["item"], total=self.PRICES[point["item"]] * point["qty"])


class Ledger(Routine):
    """Adds up what was sold."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("priced")

    def logic(self, priced: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        with worker_state.lock:
            for point in priced:
                worker_state.shared_data["sales"] = (
                    worker_state.shared_data.get("sales", 0) + point["total"]
                )


def shop() -> Flow:
    flow = Flow("shop")
    flow.add_routine(Split(), "split")
    flow.add_routine(Price(), "price")
    flow.add_routine(Ledger(), "ledger")
    flow.connect("split", "line", "price", "line")
    flow.connect("price", "priced", "ledger", "priced")
    return flow


def describe(flow: Flow) -> None:
    print(f"flow {flow.flow_id!r}:")
    for rid, routine in flow.routines.items():
        slots = ", ".join(s.name for s in routine.slots) or "-"
        events = ", ".join(e.name for e in routine.events) or "-"
        print(f"  {rid:<7} {type(routine).__name__:<7} slots: {slots:<8} events: {events}")
    for c in flow.connections:
        print(f"  {c.source_id}.{c.event} -> {c.target_id}.{c.slot}")


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    flow = shop()
    describe(flow)
    with Runtime(thread_pool_size=2) as runtime:
        session = runtime.debug(flow)
        bp = session.add_breakpoint("price")
        runtime.post(flow, "split", "order", {"lines": {"tea": 2, "cake": 1}})
        snapshot = session.wait_until_paused(timeout=5)
        print(f"\nbreakpoint #{bp.id} hit: paused before {snapshot.routine_id}")
        print(f"  its inputs: {snapshot.inputs}")
        print(f"  waiting:    {snapshot.queued_counts}")
        session.remove_breakpoint(bp)
        while True:
            record = session.step(stop_at_next=True)
            if record is None:
                break
            pending = session.pending
            after = pending.routine_id if pending is not None else "nothing"
            print(f"step: {record.routine_id} ran, emitted {record.emitted}; next: {after}")
            if pending is None:
                break
        snapshot = session.snapshot()
        overlay = build_overlay(flow, snapshot, activity_from_records(session.history), [])
        (out / "flow.svg").write_text(render(flow, "svg", overlay))
        page = snapshot_html(snapshot, flow)
        (out / "snapshot.html").write_text(f"<!doctype html><meta charset=utf-8>{page}")
        print("\ntrace:")
        for r in session.history:
            print(f"  #{r.seq} {r.routine_id:<7} inputs {r.inputs}")
        print(f"\nsales: {runtime.get_worker(session.worker.worker_id).state.shared_data}")
        session.resume()
        runtime.wait_until_all_jobs_finished(timeout=5)
    print(f"wrote {out / 'flow.svg'} and {out / 'snapshot.html'}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "build/demo"))
