"""Stores compared: SQLite and PostgreSQL speed, and two processes writing one store at once.

Run: ``.venv/bin/python bench/store_backends.py [--posts N] [--jobs N] [--postgres URL]``

- *chain*: the 10-routine line of ``bench/store_speed.py`` (N posts of 10 activations), with
  no store, a SQLite file and a PostgreSQL database, in one run: activations/s and the
  share of the headless figure.
- *two processes*: two child processes post ``--jobs`` ring jobs each (10 activations) into
  one store at the same moment; wall time, and the audit of every history (a job whose
  history is not its own 10 steps counts as broken).

PostgreSQL defaults to the test database that ``.ci/run`` provisions
(``ROUTILUX_TEST_POSTGRES``); each run uses a schema of its own and drops it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from store_speed import chain

from routilux.store import open_store

REPO = Path(__file__).resolve().parents[1]
CHILD = REPO / "tests" / "store" / "crash_child.py"
POSTGRES = os.environ.get(
    "ROUTILUX_TEST_POSTGRES", "postgresql://routilux:routilux@127.0.0.1:5432/routilux_test"
)


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A fresh schema in ``url``'s database, as a store URL (dropped afterwards)."""
    import psycopg

    schema = f"bench{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def two_processes(store: str, jobs: int, tmp: Path) -> tuple[float, int, int]:
    """Seconds, jobs done and jobs whose history is broken, for two posting processes."""
    open_store(store).close()
    start = tmp / f"start-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}
    children = [
        subprocess.Popen(
            [sys.executable, str(CHILD), "poster", store, str(start), str(jobs)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    results: list[str] = []
    for child in children:
        assert child.stdout is not None
        child.stdout.readline()  # ready
    began = time.perf_counter()
    start.touch()
    for child in children:
        assert child.stdout is not None
        results += child.stdout.readline().split()[1:]
        child.wait()
        child.stdout.close()
    elapsed = time.perf_counter() - began
    broken = 0
    with open_store(store) as opened:
        for result in results:
            job_id, status = result.split(":")
            steps = [a.step for a in opened.history(job_id)]
            if status != "completed" or steps != list(range(1, 11)):
                broken += 1
    return elapsed, len(results), broken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--pool-size", type=int, default=4)
    parser.add_argument("--postgres", default=POSTGRES)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        headless = chain(args.posts, None, [], args.pool_size)
        sqlite = chain(args.posts, Path(tmp) / "chain.db", [], args.pool_size)
        with postgres_schema(args.postgres) as url:
            postgres = chain(args.posts, url, [], args.pool_size)  # type: ignore[arg-type]
        print(f"chain, 10 routines, {args.posts} posts, pool size {args.pool_size}:")
        print(f"  headless:   {headless:>9,.0f} activations/s")
        for name, rate in (("sqlite", sqlite), ("postgresql", postgres)):
            print(f"  {name + ':':<11} {rate:>9,.0f} activations/s ({rate / headless:.1%})")
        print(f"two processes posting {args.jobs} jobs each (10 activations) into one store:")
        outcomes = [("sqlite", two_processes(str(Path(tmp) / "two.db"), args.jobs, Path(tmp)))]
        with postgres_schema(args.postgres) as url:
            outcomes.append(("postgresql", two_processes(url, args.jobs, Path(tmp))))
        for name, (elapsed, done, broken) in outcomes:
            print(
                f"  {name + ':':<11} {done} jobs in {elapsed:.2f} s "
                f"({done * 10 / elapsed:,.0f} activations/s), broken histories: {broken}"
            )


if __name__ == "__main__":
    main()
