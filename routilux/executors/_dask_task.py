"""The function a Dask worker runs for an activation, and how its result comes back.

Its per-activation arguments and its result are pickled bytes: the scheduler and the workers
then pass one bytes object each way, which they neither inspect nor size item by item. A
result up to :data:`PUSH_LIMIT` bytes is pushed to the driver as an event on the worker's
stream to the scheduler (which the scheduler forwards on its stream to the client) instead
of being kept for the driver to gather: it reaches the driver ahead of the task's "finished"
report, and costs it no request of its own.
"""

from __future__ import annotations

import pickle

import cloudpickle
from distributed import get_worker

from routilux.executors._child import RemoteError, run_activation

__all__ = ["PUSH_LIMIT", "run_on_worker"]

PUSH_LIMIT = 16 * 1024
"""Results up to this many bytes (pickled) are pushed; the scheduler keeps the last events of
a topic (``distributed.admin.low-level-log-length``), so keep this small."""


def run_on_worker(token: str, blob: bytes, packed: bytes, topic: str | None) -> bytes | None:
    """Run one activation (see :func:`run_activation`); push its pickled result on ``topic``
    and return None, or return it if it is too large to push (or ``topic`` is None)."""
    inputs, policy_message, snapshot, job = pickle.loads(packed)
    result = run_activation(token, blob, inputs, policy_message, snapshot, job)
    try:
        data = _dumps(result)
    except Exception as exc:  # an emitted value that cannot travel back
        error = RemoteError(f"the result of this activation cannot be sent back: {exc}")
        data = _dumps((error, [], [], result[3]))
    if topic is not None and len(data) <= PUSH_LIMIT:
        worker = get_worker()
        worker.log_event(topic, [worker.get_current_task(), data])
        return None
    return data


def _dumps(obj: object) -> bytes:
    return cloudpickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)  # type: ignore[no-any-return]
