"""``routilux serve`` in a subprocess: it prints the page's URL with the token and answers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.cli.conftest import Cli


def test_serve_prints_a_tokened_url_and_serves_the_flows(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "routilux", "serve", "cli_flows:pipeline", "--port", "0"],
        cwd=tmp_path,
        env=cli_env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()  # written once the server listens
        assert line.startswith("routilux serving on http://127.0.0.1:"), line
        url = line.split()[-1]
        base, token = url.split("/?token=")
        assert len(token) >= 24
        assert httpx.get(f"{base}/health").status_code == 401
        health = httpx.get(f"{base}/health", headers={"Authorization": f"Bearer {token}"})
        assert health.json()["ok"] is True
        flows = httpx.get(f"{base}/api/flows", params={"token": token}).json()
        assert [f["flow_id"] for f in flows] == ["pipeline"]
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_serve_needs_a_flow(cli: Cli) -> None:
    result = cli("serve")
    assert result.returncode == 2
    assert "at least one flow" in result.stderr
