"""Profile one measurement across all threads: ``python bench/profile_run.py ENGINE SCENARIO N``.

``python -m cProfile`` only sees the main thread, and the engines run logic in pool
threads, so this starts a ``cProfile.Profile`` in every thread and merges them. Prints the
top functions by own time (``--sort cumulative`` for inclusive time).
"""

from __future__ import annotations

import sys
from pathlib import Path

_BENCH_DIR = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == _BENCH_DIR:
    del sys.path[0]  # as in child.py: 1.1.0's venv must import its own routilux
sys.path.append(str(_BENCH_DIR.parent))

import argparse  # noqa: E402
import cProfile  # noqa: E402
import importlib  # noqa: E402
import pstats  # noqa: E402
import threading  # noqa: E402
from typing import Any  # noqa: E402

from bench import measure  # noqa: E402
from bench.scenarios import BY_NAME  # noqa: E402

_profiles: list[cProfile.Profile] = []


def _profile_this_thread(*_: Any) -> None:
    # Called once per new thread (threading.setprofile); enabling cProfile replaces it.
    profile = cProfile.Profile()
    _profiles.append(profile)
    profile.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("engine", choices=["ours", "ours_py", "v110", "plain"])
    parser.add_argument("scenario", choices=sorted(BY_NAME))
    parser.add_argument("n", type=int)
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    engine = importlib.import_module(f"bench.engines.{args.engine}")
    threading.setprofile(_profile_this_thread)
    _profile_this_thread()
    result = measure.run(engine, BY_NAME[args.scenario], args.n)
    threading.setprofile(None)
    for profile in _profiles:
        profile.disable()
    stats = pstats.Stats(*_profiles)
    stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
    print({k: v for k, v in result.items() if not k.endswith("_s")})


if __name__ == "__main__":
    main()
