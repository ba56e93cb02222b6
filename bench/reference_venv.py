"""The venv that holds routilux 1.1.0 from PyPI (both packages are named ``routilux``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REFERENCE_VERSION = "1.1.0"


def python_in(venv: Path) -> Path:
    return venv / "bin" / "python"


def installed_version(venv: Path) -> str | None:
    """The routilux version in ``venv``, or None when there is no usable venv."""
    python = python_in(venv)
    if not python.exists():
        return None
    probe = "import importlib.metadata as m; print(m.version('routilux'))"
    # cwd=/ so the repository's own routilux/ folder cannot be what answers.
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, cwd="/")
    return done.stdout.strip() if done.returncode == 0 else None


def ensure(venv: Path) -> Path:
    """Create ``venv`` with routilux 1.1.0 on first use; return its python."""
    if installed_version(venv) == REFERENCE_VERSION:
        return python_in(venv)
    print(f"creating {venv} with routilux=={REFERENCE_VERSION} (first use)", file=sys.stderr)
    if not python_in(venv).exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [python_in(venv), "-m", "pip", "install", "-q", f"routilux=={REFERENCE_VERSION}"],
        check=True,
    )
    found = installed_version(venv)
    if found != REFERENCE_VERSION:
        raise RuntimeError(f"{venv} has routilux {found}, not {REFERENCE_VERSION}")
    return python_in(venv)
