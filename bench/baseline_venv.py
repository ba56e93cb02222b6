"""Venvs holding this repository's routilux at an earlier commit, for before/after figures.

``make bench BASELINE=<commit>`` (``bench/run.py --baseline <commit>``) measures that commit
in the same invocation as the working tree, compiled and pure, so a change to the hot path
is judged against the machine's noise of the moment rather than a figure from another day.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROOT = REPO / ".bench-baseline"


def ensure(ref: str) -> dict[str, Path]:
    """Pythons for ``{"base": compiled, "base_py": pure}`` at ``ref``, built on first use."""
    commit = _git("rev-parse", "--short", ref)
    pythons: dict[str, Path] = {}
    for engine, pure in (("base", False), ("base_py", True)):
        venv = ROOT / f"{commit}-{'pure' if pure else 'compiled'}"
        python = venv / "bin" / "python"
        if not (venv / ".installed").exists():
            print(f"building {venv.name} (routilux at {commit}, first use)", file=sys.stderr)
            _build(commit, venv, pure)
        pythons[engine] = python
    return pythons


def _build(commit: str, venv: Path, pure: bool) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit], cwd=REPO, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        env = dict(os.environ)
        if pure:
            env["ROUTILUX_PURE_PYTHON"] = "1"
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", tmp], env=env, check=True
        )
    (venv / ".installed").touch()


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True)
    return done.stdout.strip()
