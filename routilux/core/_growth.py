"""When a worker gets another drainer thread: at once for the first, then only when stuck.

Under the GIL, threads racing over small activations are slower than one thread running
them all, so a worker starts with one drainer and adds another only when work waits and the
busy drainers have finished nothing for a little over the GIL switch interval: their logic
blocks (I/O, sleep, a lock). Slow or blocking logic still gets up to ``thread_pool_size``
threads.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING

from routilux.core._node import BLOCKING, INLINE

if TYPE_CHECKING:
    from routilux.core._node import Node
    from routilux.core._timers import DelayedCalls

__all__ = ["SPAWN_CHECK_MARGIN", "DrainerGrowth", "observe", "spawn_check_delay"]

# A drainer can be kept from running for a GIL switch interval by any other Python thread
# (a loop posting into the flow, say); only a longer stall means its logic is blocked.
SPAWN_CHECK_MARGIN = 0.001


def spawn_check_delay() -> float:
    return sys.getswitchinterval() + SPAWN_CHECK_MARGIN


# Logic that waits more than it computes (I/O, sleep, a lock) is *blocking*: each of its
# activations gets a drainer of its own at once, up to thread_pool_size, instead of after a
# spawn check. Tiny logic stays on one thread. The verdict comes from timing some
# activations (wall clock against the thread's CPU time): every one of the first few, then
# one in SAMPLE_EVERY, so a routine that starts or stops blocking is noticed.
BLOCKING_MIN_WALL = 0.0002  # seconds; shorter activations are never called blocking
BLOCKING_MAX_CPU_SHARE = 0.5
WARM_UP_SAMPLES = 16
SAMPLE_EVERY = 32
VOTES_TO_SWITCH = 3  # timed activations in a row that disagree with the current verdict


def observe(node: Node, wall: float, cpu: float) -> None:
    """Take one timed activation of ``node`` into its blocking verdict."""
    blocks = wall >= BLOCKING_MIN_WALL and cpu < BLOCKING_MAX_CPU_SHARE * wall
    node.samples += 1
    if blocks == (node.dispatch == BLOCKING):
        node.block_votes = 0
    else:
        node.block_votes += 1
        if node.block_votes >= VOTES_TO_SWITCH:
            # A single GIL stall can make tiny logic look blocked once; three in a row cannot.
            node.dispatch = BLOCKING if blocks else INLINE
            node.block_votes = 0
    # The drainer's countdown to the next rare-path activation: every one for blocking
    # logic (each gets a drainer of its own), else the next timed sample.
    if node.dispatch == BLOCKING:
        node.sample_in = 0
    else:
        node.sample_in = 1 if node.samples < WARM_UP_SAMPLES else SAMPLE_EVERY


class DrainerGrowth:
    """The drainer counts of a worker, and the rule for starting one more.

    It owns the worker's lock (``_lock``): every method ending in ``_locked`` runs with it
    held. The scheduler that builds on this class provides the backlog
    (:meth:`_backlog_locked`) and the drainer itself (:meth:`_start_drainer`).
    """

    def __init__(self, max_drainers: int, timers: DelayedCalls) -> None:
        self._lock = threading.Lock()
        self._drainers = 0  # drainer threads started and not yet leaving
        self._running = 0  # drainers (and step()) inside an activation or about to be
        self._max_drainers = max_drainers
        self._progress = 0  # activations finished: tells a stuck drainer from a busy one
        self._spawn_check_armed = False
        self._paused = False
        self._stopped = False
        self._growth_timers = timers

    def _backlog_locked(self) -> int:
        raise NotImplementedError

    def _take_posts_locked(self) -> None:
        raise NotImplementedError

    def _start_drainer(self) -> None:
        raise NotImplementedError

    def _wants_drainer_locked(self, emitting: bool) -> bool:
        """Whether to start a drainer now (the caller then calls :meth:`_start_drainer`).

        ``emitting``: asked from inside a drainer's logic, which takes one candidate itself
        when it returns.
        """
        if self._paused or self._stopped or self._drainers >= self._max_drainers:
            return False
        backlog = self._backlog_locked()
        if emitting and self._drainers:
            backlog -= 1
        if backlog <= 0:
            return False
        if self._drainers == 0:
            self._drainers = 1
            return True
        if not self._spawn_check_armed:
            self._arm_spawn_check_locked()
        return False

    def _arm_spawn_check_locked(self) -> None:
        self._spawn_check_armed = True
        progress = self._progress
        self._growth_timers.call_later(spawn_check_delay(), lambda: self._spawn_check(progress))

    def _spawn_check(self, progress: int) -> None:
        """Start one more drainer if work waits and no activation finished since ``progress``."""
        with self._lock:
            spawn = self._spawn_check_locked(progress)
        if spawn:
            self._start_drainer()

    def _spawn_check_locked(self, progress: int) -> bool:
        self._take_posts_locked()
        self._spawn_check_armed = False
        if self._paused or self._stopped or self._drainers >= self._max_drainers:
            return False
        if self._backlog_locked() <= 0:
            return False
        spawn = self._progress == progress
        if spawn:
            self._drainers += 1
        self._arm_spawn_check_locked()  # keep watching while work waits
        return spawn
