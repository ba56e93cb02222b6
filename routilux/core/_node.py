"""Node: a routine as one worker runs it, with its queues, policy, logic and routing table."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from routilux.core._convention import is_async
from routilux.core.error_handler import ErrorHandler, ErrorStrategy
from routilux.core.policies import is_all_slots_ready, is_immediate
from routilux.core.queue import SlotQueue
from routilux.core.remote import RemoteOptions

if TYPE_CHECKING:
    from routilux.core._scheduler import Scheduler
    from routilux.core.flow import Flow
    from routilux.core.routine import Routine

__all__ = [
    "ALL_SLOTS_READY",
    "ASYNC",
    "BLOCKING",
    "IMMEDIATE_ONE_SLOT",
    "INLINE",
    "REMOTE",
    "STUB",
    "Node",
    "build_nodes",
]

_DEFAULT_HANDLER = ErrorHandler(ErrorStrategy.STOP)

# How a node's policy is decided (Node.fast_policy): the built-in policies a scheduler
# decides inline without calling them, a stub that never runs, or None (ask the policy).
IMMEDIATE_ONE_SLOT = "immediate_one_slot"
ALL_SLOTS_READY = "all_slots_ready"
STUB = "stub"

# Where a node's logic runs (Node.dispatch): in the drainer that decided it (INLINE), in it
# too but with another drainer started first because the logic blocks (BLOCKING, learnt
# while running: see _growth.py), awaited on the runtime's event loop (ASYNC), or in a
# process pool or on Dask, its effects replayed here (REMOTE: routine.remote, Node.remote).
INLINE = 0
BLOCKING = 1
ASYNC = 2
REMOTE = 3


class Node:
    """A routine as one worker runs it: its queues, policy, logic and routing table.

    ``activations`` and ``failures`` are counted by the scheduler when it books an activation
    (under the worker's lock), for ``Worker.inspect()`` and metrics.
    """

    __slots__ = (
        "activations",
        "async_limit",
        "block_votes",
        "dispatch",
        "error_handler",
        "failures",
        "fast_policy",
        "logic",
        "max_concurrency",
        "policy",
        "queue_list",
        "queues",
        "remote",
        "routes",
        "routine",
        "routine_id",
        "sample_in",
        "samples",
        "single_routes",
        "slot_names",
        "worker",
    )

    def __init__(self, worker: Scheduler, routine_id: str, routine: Routine, flow: Flow) -> None:
        self.worker = worker
        self.routine_id = routine_id
        self.routine = routine
        self.policy = routine.activation_policy
        # Called positionally as logic(*slot_lists, policy_message, worker_state); None for a
        # stub (a routine whose logic is not written yet): its data waits in its slots.
        self.logic: Callable[..., Any] | None = routine.resolve_logic()
        self.slot_names = tuple(slot.name for slot in routine.slots)
        self.queues = {
            slot.name: SlotQueue(
                routine_id, slot.name, slot.max_queue_length, slot.on_full, slot.block_timeout
            )
            for slot in routine.slots
        }
        self.queue_list = tuple(self.queues.values())
        self.error_handler: ErrorHandler = (
            routine.error_handler or flow.error_handler or _DEFAULT_HANDLER
        )
        self.fast_policy: str | None
        if self.logic is None:
            self.fast_policy = STUB
        elif is_immediate(self.policy) and len(self.queue_list) == 1:
            self.fast_policy = IMMEDIATE_ONE_SLOT
        elif is_all_slots_ready(self.policy) and self.queue_list:
            self.fast_policy = ALL_SLOTS_READY
        else:
            self.fast_policy = None
        # event name -> [(target node, target queue)], filled in by build_nodes().
        self.routes: dict[str, list[tuple[Node, SlotQueue]]] = {}
        # The events wired to exactly one slot (most of them), for the fast path of route().
        self.single_routes: dict[str, tuple[Node, SlotQueue]] = {}
        self.activations = 0
        self.failures = 0
        written = routine.get_logic()
        asynchronous = written is not None and is_async(written)
        # Fixed when the worker starts, like the rest of the node; executors read it.
        self.remote: RemoteOptions | None = routine.remote
        remote = self.remote is not None
        self.dispatch = REMOTE if remote else ASYNC if asynchronous else INLINE
        self.max_concurrency: int | None = routine.max_concurrency
        # The event loop's semaphore for max_concurrency (an asyncio object, made by the
        # loop on first use; typed loosely so this module stays free of asyncio).
        self.async_limit: Any = None
        # Blocking detection (_growth.observe): activations until the next timed one, how
        # many were timed, and the votes in a row for switching between INLINE and BLOCKING.
        # Async and remote nodes always take the rare path.
        self.sample_in = 0 if asynchronous or remote else 1
        self.samples = 0
        self.block_votes = 0

    def __repr__(self) -> str:
        return f"<Node {self.routine_id}>"


def build_nodes(worker: Scheduler, flow: Flow) -> dict[str, Node]:
    """One node per routine of ``flow``, with the routing tables computed once."""
    nodes = {rid: Node(worker, rid, routine, flow) for rid, routine in flow.routines.items()}
    for c in flow.connections:
        target = nodes[c.target_id]
        nodes[c.source_id].routes.setdefault(c.event, []).append((target, target.queues[c.slot]))
    for node in nodes.values():
        node.single_routes = {e: ts[0] for e, ts in node.routes.items() if len(ts) == 1}
    return nodes
