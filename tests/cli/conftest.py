"""Running the ``routilux`` command in a subprocess, as a user's shell would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

HERE = Path(__file__).parent
REPO = HERE.parents[1]

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """The environment: this checkout's routilux and ``cli_flows`` importable."""
    gate = tmp_path / "gate"
    gate.mkdir()
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)]),
        "CLI_GATE": str(gate),
    }


@pytest.fixture
def cli(cli_env: dict[str, str], tmp_path: Path) -> Cli:
    """``cli("run", ...)`` runs ``python -m routilux run ...`` in ``tmp_path``."""

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "routilux", *args],
            cwd=tmp_path,
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run
