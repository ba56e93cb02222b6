"""DelayedCalls and the clocks: callbacks in due order, on a manual clock exactly."""

from __future__ import annotations

import threading

import pytest

from routilux.core._timers import DelayedCalls
from routilux.core.clock import ManualClock


def test_calls_run_in_due_order_when_a_manual_clock_reaches_them() -> None:
    clock = ManualClock()
    timers = DelayedCalls(clock)
    ran: list[str] = []
    done = threading.Event()
    timers.call_later(5, lambda: ran.append("five"))
    timers.call_later(1, lambda: ran.append("one"))
    timers.call_later(9, lambda: (ran.append("nine"), done.set()))
    clock.advance(4)
    clock.advance(2)
    assert not done.wait(0.05)
    assert ran == ["one", "five"]
    clock.advance(3)
    assert done.wait(5)
    assert ran == ["one", "five", "nine"]
    timers.close()


def test_a_raising_callback_does_not_stop_the_timer_thread() -> None:
    timers = DelayedCalls()
    done = threading.Event()

    def explode() -> None:
        raise KeyboardInterrupt

    timers.call_later(0, explode)
    timers.call_later(0.01, done.set)
    assert done.wait(5)
    timers.close()


def test_a_cancelled_call_is_never_made_and_the_others_are() -> None:
    clock = ManualClock()
    timers = DelayedCalls(clock)
    ran: list[str] = []
    done = threading.Event()
    timers.call_later(1, lambda: ran.append("cancelled")).cancel()
    timers.call_later(2, lambda: (ran.append("kept"), done.set()))
    clock.advance(2)
    assert done.wait(5)
    assert ran == ["kept"]
    timers.close()


@pytest.mark.parametrize("bad", [float("nan"), -1, "1"])
def test_a_manual_clock_refuses_to_go_back_or_nowhere(bad: object) -> None:
    with pytest.raises(ValueError, match="seconds"):
        ManualClock().advance(bad)  # type: ignore[arg-type]
