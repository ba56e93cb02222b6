"""Load on ``routilux serve``: posts over HTTP from concurrent clients, a stalled WebSocket
client, and what the server's event hub costs a run.

Three measurements, each checked for lost work:

1. ``posts``: N posts (default 1,000) over HTTP from C clients (default 8), each client a
   thread with its own keep-alive connection, to ``routilux serve`` in a child process on a
   free localhost port. Every job must complete and the sink must run once per post;
   reports requests/s and latency percentiles.
2. ``slow client``: 10,000 activations (2,000 jobs through a 5-routine chain) streamed to
   a WebSocket client that reads everything, then to one that never reads; the ratio of
   run times (median of alternating repeats) should stay under 1.10: a client's slowness
   must not reach the workers. The run with no client at all is shown for scale.
3. ``serving cost``: the same run on a runtime no server watches, on a served runtime with
   no stream client while ``/metrics`` is scraped every 250 ms (target: within noise, since
   metrics are computed on scrape), and with ``--durations`` (every activation observed).

Run: ``PYTHONPATH=. .venv/bin/python bench/http_load.py`` (``--posts``, ``--clients``,
``--repeats``, ``--json PATH``).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from websockets.sync.client import connect

from routilux import Flow, Routine, Runtime
from routilux.server import EventHub, create_app

TOKEN = "bench-token"


class Relay(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output", ["n"])

    def logic(self, input: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        for point in input:
            self.emit("output", n=point["n"])


class Sink(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        pass


def chain(name: str, relays: int) -> Flow:
    flow = Flow(name)
    for i in range(relays):
        flow.add_routine(Relay(), f"r{i}")
        if i:
            flow.connect(f"r{i - 1}", "output", f"r{i}", "input")
    flow.add_routine(Sink(), "sink")
    flow.connect(f"r{relays - 1}", "output", "sink", "input")
    return flow


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = threading.Event()

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        self.listening.set()


class Served:
    """A server on a free localhost port, in a thread of this process."""

    def __init__(self, flows: list[Flow], **options: Any) -> None:
        self.runtime = Runtime(thread_pool_size=4)
        self.app = create_app(self.runtime, flows, token=TOKEN, **options)
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=0, log_level="warning", ws="websockets-sansio"
        )
        self.server = _Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        if not self.server.listening.wait(30):
            raise SystemExit("uvicorn did not start")
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.runtime.shutdown(wait=False)


def load_flow() -> Flow:
    """The flow ``measure_posts`` serves (named ``bench.http_load:load_flow``)."""
    return chain("load", 3)


class ServerProcess:
    """``routilux serve bench.http_load:load_flow`` in a child process: the clients' threads
    here do not share a GIL with the server."""

    def __init__(self) -> None:
        root = Path(__file__).resolve().parents[1]
        path = os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
        command = ["serve", "bench.http_load:load_flow", "--port", "0", "--token", TOKEN]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "routilux", *command],
            cwd=root,
            env={**os.environ, "PYTHONPATH": path},
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stderr is not None
        line = self.process.stderr.readline()  # written once it listens
        if not line.startswith("routilux serving on "):
            self.close()
            raise SystemExit(f"the server did not start: {line!r}")
        self.url = line.split()[-1].split("/?token=")[0]

    def close(self) -> None:
        self.process.terminate()
        self.process.communicate(timeout=60)


def measure_posts(posts: int, clients: int) -> dict[str, Any]:
    """``posts`` posts from ``clients`` threads to a server in another process; every job
    must complete, and the sink must have run once per post."""
    served = ServerProcess()
    latencies: list[float] = []
    job_ids: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    per_client = [posts // clients + (i < posts % clients) for i in range(clients)]
    start_line = threading.Barrier(clients + 1)
    headers = {"Authorization": f"Bearer {TOKEN}"}

    def client(count: int) -> None:
        mine_ids, mine_lat = [], []
        with httpx.Client(base_url=served.url, headers=headers, timeout=60) as http:
            http.get("/health")  # connect before the clock starts
            start_line.wait()
            for i in range(count):
                began = time.perf_counter()
                response = http.post("/api/flows/load/jobs", json={"data": {"n": i}})
                mine_lat.append(time.perf_counter() - began)
                if response.status_code != 201:
                    with lock:
                        errors.append(f"{response.status_code} {response.text[:200]}")
                    continue
                mine_ids.append(response.json()["job_id"])
        with lock:
            latencies.extend(mine_lat)
            job_ids.extend(mine_ids)

    threads = [threading.Thread(target=client, args=(n,)) for n in per_client]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    posting = time.perf_counter() - began
    with httpx.Client(base_url=served.url, headers=headers, timeout=60) as http:
        deadline = time.monotonic() + 120
        while True:  # the jobs finish in the other process: ask until they all have
            jobs = http.get("/api/jobs", params={"limit": posts * 2}).json()
            statuses = {job["job_id"]: job["status"] for job in jobs}
            done = sum(statuses.get(job_id) == "completed" for job_id in job_ids)
            if done == len(job_ids) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - began
        worker = http.get("/api/flows/load/worker").json()
    served.close()
    sink_runs = worker["stats"]["sink"]["activations"]
    latencies.sort()
    result = {
        "posts": posts,
        "clients": clients,
        "accepted": len(job_ids),
        "completed": done,
        "sink_activations": sink_runs,
        "errors": errors[:5],
        "seconds_posting": round(posting, 4),
        "seconds_until_done": round(elapsed, 4),
        "requests_per_second": round(posts / posting, 1),
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 3),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 3),
        "max_ms": round(latencies[-1] * 1000, 3),
    }
    result["ok"] = (
        not errors
        and result["accepted"] == posts
        and result["completed"] == posts
        and sink_runs == posts
        and len(set(job_ids)) == posts
    )
    return result


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _run_10k(runtime: Runtime, flow: Flow) -> float:
    """2,000 jobs through 4 relays and a sink: 10,000 activations; seconds until all done."""
    began = time.perf_counter()
    jobs = [runtime.post(flow, "r0", "input", {"n": i})[1] for i in range(2_000)]
    for job in jobs:
        if not job.wait(60) or str(job.status) != "completed":
            raise SystemExit(f"a job did not complete: {job!r}")
    return time.perf_counter() - began


def _alternate(
    repeats: int, first: Callable[[], float], second: Callable[[], float]
) -> tuple[list[float], list[float]]:
    a, b = [], []
    for i in range(repeats):
        # Alternating order so that drift on a shared machine hits both sides alike.
        if i % 2:
            b.append(second())
            a.append(first())
        else:
            a.append(first())
            b.append(second())
    return a, b


def measure_slow_client(repeats: int) -> dict[str, Any]:
    """10,000 activations streamed to a client that reads everything, then to one that
    never reads; and, for scale, with no client (the hub then does not observe at all)."""
    flow = chain("stream", 4)
    served = Served([flow], client_buffer=256)
    hub: EventHub = served.app.state.hub
    ws_url = served.url.replace("http", "ws") + "/api/events"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    _run_10k(served.runtime, flow)  # warm up
    dropped: list[int] = []

    def with_reading_client() -> float:
        with connect(ws_url, additional_headers=headers) as stream:
            reader = threading.Thread(target=lambda: [None for _ in stream], daemon=True)
            reader.start()
            seconds = _run_10k(served.runtime, flow)
        reader.join(10)
        return seconds

    def with_stalled_client() -> float:
        raw = socket.create_connection(("127.0.0.1", served.port))
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        with connect(ws_url, additional_headers=headers, sock=raw):
            seconds = _run_10k(served.runtime, flow)
            hub.drain()
            dropped.append(hub.dropped)
        return seconds

    reading, stalled = _alternate(repeats, with_reading_client, with_stalled_client)
    alone = [_run_10k(served.runtime, flow) for _ in range(repeats)]
    served.close()
    ratio = statistics.median(stalled) / statistics.median(reading)
    return {
        "activations": 10_000,
        "no_client_s": round(statistics.median(alone), 4),
        "reading_client_s": round(statistics.median(reading), 4),
        "stalled_client_s": round(statistics.median(stalled), 4),
        "stalled_over_reading": round(ratio, 3),
        "events_dropped_per_run": dropped,
        "ok": ratio < 1.10 and all(d > 0 for d in dropped),
    }


def measure_serving_cost(repeats: int) -> dict[str, Any]:
    """What serving costs a run: the same 10,000 activations on a runtime no server watches,
    on a served one with no stream client while /metrics is scraped every 250 ms, and on a
    served one whose hub observes every activation (``serve --durations``)."""
    bare_flow, served_flow, timed_flow = chain("bare", 4), chain("served", 4), chain("timed", 4)
    bare = Runtime(thread_pool_size=4)
    served = Served([served_flow])
    timed = Served([timed_flow], durations=True)
    stop = threading.Event()

    def scrape() -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            while not stop.wait(0.25):
                for server in (served, timed):
                    http.get(f"{server.url}/metrics").raise_for_status()

    scraper = threading.Thread(target=scrape, daemon=True)
    scraper.start()
    runs = {
        "bare": lambda: _run_10k(bare, bare_flow),
        "served": lambda: _run_10k(served.runtime, served_flow),
        "timed": lambda: _run_10k(timed.runtime, timed_flow),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run()  # warm up
    order = list(runs)
    for i in range(repeats):
        # A rotating order, so that drift on a shared machine hits every variant alike.
        for name in order[i % 3 :] + order[: i % 3]:
            times[name].append(runs[name]())
    stop.set()
    scraper.join()
    for server in (served, timed):
        server.close()
    bare.shutdown(wait=False)
    medians = {name: statistics.median(values) for name, values in times.items()}
    return {
        "activations": 10_000,
        "bare_s": round(medians["bare"], 4),
        "served_scraped_s": round(medians["served"], 4),
        "durations_s": round(medians["timed"], 4),
        "served_over_bare": round(medians["served"] / medians["bare"], 3),
        "durations_over_bare": round(medians["timed"] / medians["bare"], 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--json", help="Also write the results to this file.")
    args = parser.parse_args(argv)
    results = {
        "posts": measure_posts(args.posts, args.clients),
        "slow_client": measure_slow_client(args.repeats),
        "serving_cost": measure_serving_cost(args.repeats),
    }
    posts, slow, cost = results["posts"], results["slow_client"], results["serving_cost"]
    print(
        f"posts: {posts['accepted']}/{posts['posts']} accepted, {posts['completed']} completed "
        f"from {posts['clients']} clients: {posts['requests_per_second']} requests/s, "
        f"p50 {posts['p50_ms']} ms, p99 {posts['p99_ms']} ms"
    )
    print(
        f"slow client: 10,000 activations in {slow['reading_client_s']}s streamed to a reading "
        f"client, {slow['stalled_client_s']}s to a stalled one (ratio "
        f"{slow['stalled_over_reading']}), {slow['no_client_s']}s with no client; "
        f"events dropped per stalled run {slow['events_dropped_per_run']}"
    )
    print(
        f"serving cost: 10,000 activations in {cost['bare_s']}s unserved, "
        f"{cost['served_scraped_s']}s served and scraped (ratio {cost['served_over_bare']}), "
        f"{cost['durations_s']}s with --durations (ratio {cost['durations_over_bare']})"
    )
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)
    return 0 if posts["ok"] and slow["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
