"""Benchmark entry point (``make bench``): our engine vs routilux 1.1.0 vs plain queues.

Each scenario runs on each engine in its own subprocess (ours and the plain baseline with
``.venv/bin/python``, 1.1.0 with ``.bench-venv/bin/python``), the engine order rotating
from one repeat to the next so machine noise falls on all alike; the table shows medians.
Results also go to ``bench/results/latest.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

_BENCH_DIR = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == _BENCH_DIR:
    del sys.path[0]  # bench/ itself must not shadow anything
sys.path.append(str(_BENCH_DIR.parent))

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from bench import baseline_venv, reference_venv, report  # noqa: E402
from bench.probe import DEFAULT_POOL_SIZE, POOL_SIZE_VARIABLE  # noqa: E402
from bench.scenarios import BY_NAME, SCENARIOS, Scenario  # noqa: E402

REPO = _BENCH_DIR.parent
CHILD = _BENCH_DIR / "child.py"
ENGINES = ("ours", "ours_py", "v110", "plain", "base", "base_py")
# Ours as `pip install .` builds it (core compiled with mypyc): `make compiled-venv`.
COMPILED_VENV = REPO / ".venv-compiled"
CHILD_TIMEOUT_S = 300


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    scenarios = [BY_NAME[name] for name in args.scenario] if args.scenario else list(SCENARIOS)
    engines = args.engine or [e for e in ENGINES if not e.startswith("base")]
    if args.baseline:
        engines += [e for e in ("base", "base_py") if e not in engines]
    pythons = _pythons(engines)
    if args.baseline:
        pythons.update(baseline_venv.ensure(args.baseline))
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 5)
    runs: list[dict[str, Any]] = []
    source = _source_state()
    started = time.monotonic()
    for repeat in range(repeats):
        for index, scenario in enumerate(scenarios):
            size = scenario.quick_size if args.quick else scenario.size
            # Rotate the engine order so no engine always runs first (or last).
            shift = (repeat + index) % len(engines)
            for engine in engines[shift:] + engines[:shift]:
                run = _run_child(pythons[engine], engine, scenario, size, args.pool_size)
                run["repeat"] = repeat
                runs.append(run)
                _progress(run)
    summary = report.summarise(runs)
    ratio_rows = report.ratios(summary)
    failures = [run for run in runs if "error" in run]
    print()
    print(report.format_table(summary, ratio_rows))
    print(f"\n{len(runs)} runs in {time.monotonic() - started:.0f}s; {repeats} repeats, medians.")
    if not args.no_save:
        # The tree is shared: say so when our engine changed while it was being measured.
        source["changed_during_run"] = _source_state() != source
        _save(args.output, args, repeats, runs, summary, ratio_rows, source)
    if failures:
        print(f"\nFAILED: {len(failures)} runs did not finish cleanly (a lost or duplicated")
        print("message, a wrong activation count, or a crash); their numbers are left out:")
        for run in failures:
            print(f"  {run['engine']} {run['scenario']}: {run['error']}")
        return 1
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, help="runs per scenario and engine (default 5)")
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 repeat by default")
    parser.add_argument("--scenario", action="append", choices=list(BY_NAME), help="repeatable")
    parser.add_argument("--engine", action="append", choices=ENGINES, help="repeatable")
    parser.add_argument(
        "--output", type=Path, default=_BENCH_DIR / "results" / "latest.json", help="JSON file"
    )
    parser.add_argument(
        "--pool-size", type=int, default=DEFAULT_POOL_SIZE, help="Runtime(thread_pool_size=)"
    )
    parser.add_argument("--no-save", action="store_true", help="do not write the JSON file")
    parser.add_argument(
        "--baseline",
        metavar="COMMIT",
        help="also measure our engine at COMMIT (compiled and pure), for before/after ratios",
    )
    return parser.parse_args(argv)


def _pythons(engines: list[str]) -> dict[str, Path]:
    dev = REPO / ".venv" / "bin" / "python"
    local = dev if dev.exists() else Path(sys.executable)
    pythons = {"ours_py": local, "plain": local}
    if "ours" in engines:
        compiled = COMPILED_VENV / "bin" / "python"
        if not compiled.exists():
            raise SystemExit(f"{COMPILED_VENV.name} is missing: run `make bench` (it builds it)")
        pythons["ours"] = compiled
    if "v110" in engines:
        pythons["v110"] = reference_venv.ensure(REPO / ".bench-venv")
    return pythons


def _run_child(
    python: Path, engine: str, scenario: Scenario, size: int, pool_size: int
) -> dict[str, Any]:
    command = [str(python), str(CHILD), engine, scenario.name, str(size)]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env[POOL_SIZE_VARIABLE] = str(pool_size)
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, cwd="/", env=env, timeout=CHILD_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        return {"engine": engine, "scenario": scenario.name, "error": "timed out"}
    lines = done.stdout.strip().splitlines()
    try:
        run: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = done.stderr.strip().splitlines()[-3:]
        run = {
            "engine": engine,
            "scenario": scenario.name,
            "error": " | ".join(tail) or "no output",
        }
    if done.returncode and "error" not in run:
        run["error"] = f"exit status {done.returncode}"
    return run


def _progress(run: dict[str, Any]) -> None:
    if "error" in run:
        detail = f"ERROR {run['error']}"
    elif "latency_median_us" in run:
        detail = f"p50 {run['latency_median_us']:.0f} us, p95 {run['latency_p95_us']:.0f} us"
    else:
        detail = f"{run['activations_per_s']:,.0f} activations/s"
    print(f"  [{run['repeat'] + 1}] {run['scenario']:<12} {run['engine']:<7} {detail}", flush=True)


def _source_state() -> dict[str, Any]:
    """Which commit of our engine was measured, and whether routilux/ had local edits."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], capture_output=True, text=True, cwd=REPO)
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "routilux_edited": bool(
            git("status", "--porcelain", "--untracked-files=no", "--", "routilux")
        ),
    }


def _save(
    path: Path,
    args: argparse.Namespace,
    repeats: int,
    runs: list[dict[str, Any]],
    summary: dict[str, Any],
    ratio_rows: dict[str, Any],
    source: dict[str, Any],
) -> None:
    document = {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "source": source,
        "options": {"quick": args.quick, "repeats": repeats, "pool_size": args.pool_size},
        "sizes": {s.name: (s.quick_size if args.quick else s.size) for s in SCENARIOS},
        "summary": summary,
        "ratios": ratio_rows,
        "runs": runs,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"results written to {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


if __name__ == "__main__":
    sys.exit(main())
