"""Dispatch: activations to a Dask client in batches, their results back in one thread.

A drainer hands an activation over with :meth:`Dispatch.send`, which only queues it and
returns a ``concurrent.futures.Future``: it never waits for the cluster. The first activation
queued schedules one flush on the client's event loop; everything queued until that flush
runs goes to the scheduler in one ``client.map`` call per set of worker resources (one graph
update instead of one per activation). Small results come back pushed by the workers (see
:mod:`routilux.executors._dask_task`), at no request per result; one collector coroutine
on the same loop watches the tasks finish, gathers the results too large to push (all those
that finished, in one request) and the errors (``KilledWorker``...). Results are handed to
a single thread that replays as many as have arrived per wake-up, so nothing the runtime
runs on a result (routing, the store, observers) ever runs on Dask's loop.

Routines pickled larger than ``scatter_above`` bytes are scattered to every worker once
(their content names them, so a changed routine is scattered again) instead of travelling
inside each task.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import pickle
import threading
from collections import OrderedDict, deque
from concurrent.futures import Future
from typing import Any

from distributed import as_completed

from routilux.executors._dask_task import run_on_worker

__all__ = ["Dispatch"]

# Scattered routines kept per client (the oldest is released first).
_MAX_SCATTERED = 32
# Seconds finished tasks are kept before they are released to Dask together.
_RELEASE_AFTER = 0.1


Resources = tuple[tuple[str, float], ...]


class _Task:
    """One activation's task: its Dask key, ``run_on_worker``'s first arguments, the worker
    resources it needs, and the future the driver waits on."""

    __slots__ = ("args", "future", "key", "resources")

    def __init__(
        self, key: str, args: list[Any], resources: Resources, future: Future[Any]
    ) -> None:
        self.key = key
        self.args = args
        self.resources = resources
        self.future = future


class Dispatch:
    """Sends activations through ``client`` in batches (see the module doc).

    Args:
        client: A connected ``distributed.Client``.
        scatter_above: Routines pickled larger than this many bytes are scattered once.
        direct: Gather results straight from the workers rather than through the scheduler.
        push: Small results come back as events (see ``_dask_task``) rather than gathered.
    """

    def __init__(self, client: Any, scatter_above: int, direct: bool, push: bool) -> None:
        self._client = client
        self._prefix = os.urandom(6).hex()  # keys unique on a cluster other drivers share
        self._count = itertools.count()
        self._scatter_above = scatter_above
        self._direct = direct
        self._lock = threading.Lock()
        self._queued: list[_Task] = []
        self._flush_due = False
        self._closed = False
        # Sent and not yet resolved, so that close() can fail what the cluster never answered.
        self._open: dict[str, Future[Any]] = {}
        # Coroutines on the client's loop (asyncio keeps only weak references to tasks).
        self._running: set[asyncio.Future[Any]] = set()
        # Sent tasks by Dask key, and the Dask futures that finished, in finishing order.
        self._sent: dict[str, _Task] = {}
        self._finished = as_completed(loop=client.loop)  # type: ignore[no-untyped-call]
        self._collecting = False
        self._held: list[Any] = []  # finished Dask futures, released together (see below)
        self._topic = f"routilux-results-{self._prefix}" if push else None
        if self._topic is not None:
            # Subscribed before the first task is sent: the scheduler forwards only what comes
            # after, and handles this client's messages in order.
            client.subscribe_topic(self._topic, self._pushed)
        self._scattered: OrderedDict[str, asyncio.Future[Any]] = OrderedDict()
        self._results: deque[tuple[Future[Any], Any, BaseException | None]] = deque()
        self._wake = threading.Condition(threading.Lock())
        self._stop = False
        self._thread = threading.Thread(
            target=self._deliver_results, name="routilux-dask-results", daemon=True
        )
        self._thread.start()

    def send(self, routine_id: str, args: list[Any], resources: Any) -> Future[Any]:
        """Queue ``run_on_worker(*args, topic)``; return the future of its (unpickled) result.

        Args:
            routine_id: Names the Dask task (``<routine_id>-<unique suffix>``).
            args: ``run_on_worker``'s arguments but the last.
            resources: Worker resources the task needs (a mapping), or None.
        """
        future: Future[Any] = Future()
        key = f"{routine_id}-{self._prefix}-{next(self._count)}"
        task = _Task(key, args, tuple(sorted(resources.items())) if resources else (), future)
        with self._lock:
            if self._closed:
                raise RuntimeError("the runtime's Dask executor is shut down")
            self._queued.append(task)
            self._open[key] = future
            if self._flush_due:
                return future
            self._flush_due = True
        self._client.loop.add_callback(self._flush)
        return future

    async def _flush(self) -> None:
        """Submit everything queued (on the client's loop)."""
        with self._lock:
            tasks, self._queued = self._queued, []
            self._flush_due = False
        groups: dict[Resources, list[_Task]] = {}
        for task in tasks:
            if task.future.set_running_or_notify_cancel():
                groups.setdefault(task.resources, []).append(task)
            else:  # cancelled while queued (its timeout passed): never sent
                with self._lock:
                    self._open.pop(task.key, None)
        for resources, group in groups.items():
            try:
                await self._scatter_large(group)
                futures = self._map(group, dict(resources) or None)
            except BaseException as exc:  # the client closed, say
                self._fail_all(group, exc)
                continue
            for task, future in zip(group, futures, strict=True):
                self._sent[future.key] = task
            self._finished.update(futures)  # type: ignore[no-untyped-call]
        if not self._collecting and self._sent:
            self._collecting = True
            self._watch(self._collect())

    def _map(self, group: list[_Task], resources: dict[str, float] | None) -> list[Any]:
        """Dask futures for ``group``, sent in one graph update."""
        return list(
            self._client.map(
                run_on_worker,
                *zip(*(task.args for task in group), strict=True),
                [self._topic] * len(group),
                key=[task.key for task in group],
                pure=False,
                resources=resources,
            )
        )

    async def _scatter_large(self, group: list[_Task]) -> None:
        """Put large routines on every worker once; their tasks take them from there."""
        for task in group:
            token, blob = task.args[0], task.args[1]
            if not isinstance(blob, bytes) or len(blob) <= self._scatter_above:
                continue
            scattered = self._scattered.get(token)
            if (
                scattered is not None
                and scattered.done()
                and (scattered.exception() is not None or scattered.result().status != "finished")
            ):
                scattered = None  # the workers that held it are gone: scatter it again
            if scattered is None:
                scattered = asyncio.ensure_future(
                    self._client.scatter(blob, broadcast=True, hash=False, asynchronous=True)
                )
                self._scattered[token] = scattered
                while len(self._scattered) > _MAX_SCATTERED:
                    self._scattered.popitem(last=False)
            else:
                self._scattered.move_to_end(token)
            task.args[1] = await scattered

    def _watch(self, coroutine: Any) -> None:
        running = asyncio.ensure_future(coroutine)
        self._running.add(running)
        running.add_done_callback(self._running.discard)

    async def _collect(self) -> None:
        """The collector: gathers the results of finished tasks, as many at once as there are
        (on the client's loop; it ends when nothing is out, and the next flush restarts it)."""
        finished = self._finished
        try:
            while True:
                try:
                    first = await finished.__anext__()  # type: ignore[no-untyped-call]
                except StopAsyncIteration:
                    return
                batch = [first, *finished.next_batch(block=False)]  # type: ignore[no-untyped-call]
                try:
                    await self._gather(batch)
                except Exception as exc:  # never leave an activation without an answer
                    for future in batch:
                        task = self._sent.pop(future.key, None)
                        if task is not None:
                            self._deliver(task, None, exc)
        finally:
            self._collecting = False

    def _pushed(self, event: tuple[float, Any]) -> None:
        """A result pushed by a worker (on the client's loop, ahead of its task's report)."""
        key, data = event[1]
        task = self._sent.pop(key, None)
        if task is not None:  # None: delivered already (a worker died after pushing it)
            self._deliver(task, data, None)

    async def _gather(self, futures: list[Any]) -> None:
        self._release_later(futures)
        sent = self._sent
        # Pushed results are in already; a task whose worker died after pushing (and that
        # Dask ran again) is not gathered twice.
        futures = [future for future in futures if future.key in sent]
        done = [future for future in futures if future.status == "finished"]
        # Failed, cancelled or lost meanwhile: gathered alone, which raises their error (or
        # waits for Dask to run a lost one again).
        for future in futures:
            if future.status != "finished":
                self._watch(self._gather_one(sent.pop(future.key), future))
        if not done:
            return
        tasks = [self._sent.pop(future.key) for future in done]
        try:
            values = await self._client.gather(done, direct=self._direct, asynchronous=True)
        except BaseException:  # one of them failed since: each alone, so only it fails
            for task, future in zip(tasks, done, strict=True):
                self._watch(self._gather_one(task, future))
            return
        for task, value in zip(tasks, values, strict=True):
            self._deliver(task, value, None)

    def _release_later(self, futures: list[Any]) -> None:
        """Keep finished futures a moment, so that Dask hears of many released at once (one
        message, one batch of transitions) rather than of each one alone."""
        if not self._held:
            asyncio.get_running_loop().call_later(_RELEASE_AFTER, self._held.clear)
        self._held.extend(futures)

    async def _gather_one(self, task: _Task, future: Any) -> None:
        try:
            value = await self._client.gather(future, direct=self._direct, asynchronous=True)
        except BaseException as exc:  # KilledWorker, cancelled, a result that cannot load
            self._deliver(task, None, exc)
        else:
            self._deliver(task, value, None)

    def _fail_all(self, tasks: list[_Task], exc: BaseException) -> None:
        for task in tasks:
            self._deliver(task, None, exc)

    def _deliver(self, task: _Task, value: Any, exc: BaseException | None) -> None:
        with self._lock:
            if self._open.pop(task.key, None) is None:
                return  # close() failed it already
        with self._wake:
            self._results.append((task.future, value, exc))
            if len(self._results) == 1:
                self._wake.notify()

    def _deliver_results(self) -> None:
        """The results thread: completes futures, which replays their activations."""
        results = self._results
        while True:
            with self._wake:
                while not results and not self._stop:
                    self._wake.wait()
                if not results:
                    return
                batch = list(results)
                results.clear()
            for future, value, exc in batch:
                if exc is None:
                    try:
                        if value is None:  # pushed, yet its event never came
                            raise RuntimeError("the result of this activation was lost")
                        value = pickle.loads(value)
                    except Exception as error:  # e.g. a class this process cannot import
                        exc = error
                try:
                    if exc is None:
                        future.set_result(value)
                    else:
                        future.set_exception(exc)
                except Exception:  # InvalidStateError: cancelled meanwhile; nobody waits
                    pass

    def close(self) -> None:
        """Stop sending; fail what was sent and not answered. Call after closing the client."""
        with self._lock:
            self._closed = True
            unanswered = list(self._open.values())
            self._open.clear()
            self._queued.clear()
        with self._wake:
            self._stop = True
            self._wake.notify()
        if self._thread is not threading.current_thread():
            self._thread.join()
        error = RuntimeError("the runtime shut down before this activation finished")
        for future in unanswered:
            try:
                if future.running() or future.set_running_or_notify_cancel():
                    future.set_exception(error)
            except Exception:  # InvalidStateError: cancelled meanwhile
                pass
