"""One measurement in a fresh process: ``python bench/child.py ENGINE SCENARIO N``.

Prints one JSON line with the results, or with ``"error"`` (and exits 1) when a message
was lost or duplicated. Run by path, never with ``-m``: routilux 1.1.0's venv must import
its own ``routilux``, not this repository's, so the repository root goes at the *end* of
``sys.path`` (after site-packages) and only serves the ``bench`` package.
"""

from __future__ import annotations

import sys
from pathlib import Path

_BENCH_DIR = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == _BENCH_DIR:
    del sys.path[0]  # bench/ itself must not shadow anything
sys.path.append(str(_BENCH_DIR.parent))

import importlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import traceback  # noqa: E402

from bench import measure  # noqa: E402
from bench.scenarios import BY_NAME  # noqa: E402

ENGINES = ("ours", "ours_py", "v110", "plain", "base", "base_py")


def main(argv: list[str]) -> int:
    engine_name, scenario_name, n = argv[0], argv[1], int(argv[2])
    if engine_name not in ENGINES:
        raise SystemExit(f"unknown engine {engine_name!r}; choose from {ENGINES}")
    scenario = BY_NAME[scenario_name]
    record: dict[str, object] = {
        "engine": engine_name,
        "scenario": scenario_name,
        "n": n,
        "python": platform.python_version(),
    }
    try:
        engine = importlib.import_module(f"bench.engines.{engine_name}")
        record["engine_version"] = engine.version()
        record.update(measure.run(engine, scenario, n))
    except Exception as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc(file=sys.stderr)
    print(json.dumps(record), flush=True)
    return 1 if "error" in record else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
