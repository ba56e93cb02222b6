"""``routilux jobs``: list, show, resume and fork over a store, after a run was killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Cli
from tests.store.conftest import postgres_spec

RUN_GATED = ["run", "cli_flows:gated", "--post", '{"n": 1}', "--store", "jobs.db"]


@pytest.fixture
def killed_run(cli_env: dict[str, str], tmp_path: Path) -> str:
    """A ``routilux run`` of the gated flow, killed while its job waits at the gate."""
    gate = Path(cli_env["CLI_GATE"])
    process = subprocess.Popen(
        [sys.executable, "-m", "routilux", *RUN_GATED],
        cwd=tmp_path,
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    # The gate is reached in another process: a file to poll is all there is to wait on.
    while not (gate / "reached").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the run never reached the gate: {process.communicate()[1]!r}")
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()  # reaps it and closes the pipe
    return "jobs.db"


def test_jobs_list_shows_the_job_a_killed_run_left_running(cli: Cli, killed_run: str) -> None:
    listed = json.loads(cli("jobs", "list", "--store", killed_run, "--json").stdout)
    assert [(row["flow_name"], row["status"]) for row in listed] == [("gated", "running")]
    table = cli("jobs", "list", "--store", killed_run, "--unfinished")
    assert table.returncode == 0
    assert table.stdout.splitlines()[0].split()[:3] == ["JOB", "FLOW", "STATUS"]
    assert listed[0]["job_id"] in table.stdout


def test_jobs_resume_finishes_what_the_killed_run_left(
    cli: Cli, killed_run: str, cli_env: dict[str, str]
) -> None:
    (Path(cli_env["CLI_GATE"]) / "open").touch()
    resumed = cli("jobs", "resume", "--store", killed_run, "--flow", "cli_flows:gated")
    assert resumed.returncode == 0, resumed.stderr
    assert "1 completed, 0 failed" in resumed.stdout
    [row] = json.loads(cli("jobs", "list", "--store", killed_run, "--json").stdout)
    shown = json.loads(cli("jobs", "show", row["job_id"], "--store", killed_run, "--json").stdout)
    assert shown["job"]["status"] == "completed"
    assert [step["routine_id"] for step in shown["history"]][-2:] == ["gate", "last"]
    assert shown["history"][-1]["emitted"] == [["output", {"n": 3}]]


def test_resume_is_also_a_top_level_command(
    cli: Cli, killed_run: str, cli_env: dict[str, str]
) -> None:
    (Path(cli_env["CLI_GATE"]) / "open").touch()
    resumed = cli("resume", "--store", killed_run, "--flow", "cli_flows:gated", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["completed"] == 1


def test_jobs_resume_without_the_flow_says_how_to_name_it(cli: Cli, killed_run: str) -> None:
    result = cli("jobs", "resume", "--store", killed_run)
    assert result.returncode == 1
    assert "'gated'" in result.stderr
    assert "Traceback" not in result.stderr


def test_jobs_show_prints_the_history_as_a_table(cli: Cli, tmp_path: Path) -> None:
    assert cli("run", "cli_flows:chain", "--post", '{"n": 0}', "--store", "jobs.db").returncode == 0
    [row] = json.loads(cli("jobs", "list", "--store", "jobs.db", "--json").stdout)
    shown = cli("jobs", "show", row["job_id"], "--store", "jobs.db")
    assert shown.returncode == 0
    assert "status   completed" in shown.stdout
    assert "3 steps, 0 data points waiting" in shown.stdout
    table = shown.stdout.split("\n\n", 1)[1].splitlines()
    assert table[0].split()[:2] == ["STEP", "ROUTINE"]
    steps = [line.split()[:2] for line in table[1:]]
    assert steps == [["1", "r0"], ["2", "r1"], ["3", "r2"]]


def test_jobs_show_names_a_job_the_store_does_not_have(cli: Cli, tmp_path: Path) -> None:
    assert cli("run", "cli_flows:chain", "--post", '{"n": 0}', "--store", "jobs.db").returncode == 0
    result = cli("jobs", "show", "nope", "--store", "jobs.db")
    assert result.returncode == 1
    assert "job 'nope' is not in" in result.stderr


def test_jobs_fork_runs_a_new_job_from_a_step(cli: Cli, tmp_path: Path) -> None:
    assert cli("run", "cli_flows:chain", "--post", '{"n": 0}', "--store", "jobs.db").returncode == 0
    [parent] = json.loads(cli("jobs", "list", "--store", "jobs.db", "--json").stdout)
    forked = cli("jobs", "fork", parent["job_id"], "2", "--store", "jobs.db")
    assert forked.returncode == 1  # the flow is not named, and the store holds no code
    forked = cli(
        "jobs", "fork", parent["job_id"], "2", "--store", "jobs.db", "--flow", "cli_flows:chain"
    )
    assert forked.returncode == 0, forked.stderr
    assert "1 activations" in forked.stdout  # only r2 runs again
    rows = json.loads(cli("jobs", "list", "--store", "jobs.db", "--json").stdout)
    assert rows[1]["parent_job_id"] == parent["job_id"]
    assert rows[1]["parent_step"] == 2


def test_jobs_list_needs_an_existing_store(cli: Cli) -> None:
    result = cli("jobs", "list", "--store", "missing.db")
    assert result.returncode == 2
    assert "does not exist" in result.stderr


@pytest.fixture(params=["path", "sqlite-url", "postgres"])
def store_arg(request: pytest.FixtureRequest) -> Iterator[str]:
    """A store as a user names it on the command line: a path, a sqlite:/// URL, or a
    PostgreSQL URL (a fresh schema; skipped without a server)."""
    if request.param == "path":
        yield "jobs.db"
    elif request.param == "sqlite-url":
        yield "sqlite:///jobs.db"
    else:
        yield from postgres_spec()


def test_jobs_commands_take_a_store_url_as_well_as_a_path(cli: Cli, store_arg: str) -> None:
    ran = cli("run", "cli_flows:chain", "--post", '{"n": 0}', "--store", store_arg)
    assert ran.returncode == 0, ran.stderr
    [row] = json.loads(cli("jobs", "list", "--store", store_arg, "--json").stdout)
    assert row["status"] == "completed"
    shown = json.loads(cli("jobs", "show", row["job_id"], "--store", store_arg, "--json").stdout)
    assert [step["routine_id"] for step in shown["history"]] == ["r0", "r1", "r2"]


def test_a_sqlite_url_to_read_must_name_an_existing_file(cli: Cli, tmp_path: Path) -> None:
    result = cli("jobs", "list", "--store", "sqlite:///missing.db")
    assert result.returncode == 2
    assert "'missing.db' does not exist" in result.stderr
    assert not (tmp_path / "missing.db").exists()
    two_slashes = cli("jobs", "list", "--store", "sqlite://missing.db")
    assert two_slashes.returncode == 2
    assert "three slashes" in two_slashes.stderr
