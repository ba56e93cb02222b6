"""``routilux run``, ``validate`` and ``render`` through a subprocess, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Cli


def test_run_posts_each_item_as_a_job_and_prints_a_summary(cli: Cli) -> None:
    result = cli("run", "cli_flows:pipeline", "--post", '{"n": 1}', "--post", 'r0.input={"n": 5}')
    assert result.returncode == 0, result.stderr
    assert "6 activations" in result.stdout
    assert "2 completed, 0 failed" in result.stdout


def test_run_with_json_prints_a_machine_readable_summary(cli: Cli) -> None:
    result = cli("run", "cli_flows:chain", "--post", '{"n": 0}', "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["activations"] == 3
    assert (summary["completed"], summary["failed"], summary["unfinished"]) == (1, 0, 0)


def test_run_exits_non_zero_and_names_the_error_when_a_job_fails(cli: Cli) -> None:
    result = cli("run", "cli_flows:failing", "--post", '{"n": 1}')
    assert result.returncode == 1
    assert "1 failed" in result.stdout
    assert "refusing" in result.stderr


def test_run_refuses_an_unknown_routine_with_the_known_ones(cli: Cli) -> None:
    result = cli("run", "cli_flows:pipeline", "--post", 'r9.input={"n": 1}')
    assert result.returncode == 1
    assert "unknown routine 'r9'" in result.stderr
    assert "'r0'" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_refuses_data_that_is_not_json(cli: Cli) -> None:
    result = cli("run", "cli_flows:pipeline", "--post", "r0.input={oops")
    assert result.returncode == 2
    assert "is not JSON" in result.stderr


def test_run_needs_something_to_post(cli: Cli) -> None:
    result = cli("run", "cli_flows:pipeline")
    assert result.returncode == 2
    assert "--post" in result.stderr


def test_run_with_a_store_checkpoints_the_jobs(cli: Cli, tmp_path: Path) -> None:
    assert cli("run", "cli_flows:chain", "--post", '{"n": 0}', "--store", "jobs.db").returncode == 0
    listed = json.loads(cli("jobs", "list", "--store", "jobs.db", "--json").stdout)
    assert [row["status"] for row in listed] == ["completed"]


def test_an_unknown_flow_object_gets_a_suggestion(cli: Cli) -> None:
    result = cli("run", "cli_flows:pipelin", "--post", "{}")
    assert result.returncode == 1
    assert "did you mean 'pipeline'" in result.stderr


BROKEN_SPEC = """
flow_id: broken
routines:
  a: {class: Relay}
  b: {class: NoSuchThing}
connections:
  - {from: a.output, to: zz.input}
"""

SOUND_SPEC = """
flow_id: specced
routines:
  a: {class: Relay}
  b: {class: Relay}
connections:
  - {from: a.output, to: b.input}
"""


def test_validate_prints_each_problem_of_a_broken_spec_and_exits_non_zero(
    cli: Cli, tmp_path: Path
) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN_SPEC)
    result = cli("--import", "cli_flows", "validate", "broken.yaml")
    assert result.returncode == 1
    problems = result.stdout.strip().splitlines()
    assert len(problems) == 2
    assert "'NoSuchThing' is not a registered routine class" in problems[0]
    assert "unknown routine 'zz'" in problems[1]


def test_a_spec_file_runs_with_the_classes_an_imported_module_registers(
    cli: Cli, tmp_path: Path
) -> None:
    (tmp_path / "flow.yaml").write_text(SOUND_SPEC)
    assert cli("--import", "cli_flows", "validate", "flow.yaml").returncode == 0
    result = cli("-i", "cli_flows", "run", "flow.yaml", "--post", '{"n": 1}', "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["activations"] == 2


def test_validate_warns_of_stub_routines_but_passes(cli: Cli) -> None:
    result = cli("validate", "cli_flows:broken")
    assert result.returncode == 0
    assert "warning: routine 'lazy' is a stub" in result.stderr


def test_validate_accepts_a_sound_flow(cli: Cli) -> None:
    result = cli("validate", "cli_flows:pipeline")
    assert result.returncode == 0
    assert result.stdout == ""
    assert "ok: flow 'pipeline'" in result.stderr


def test_validate_reports_a_flow_it_cannot_load_as_a_problem(cli: Cli) -> None:
    result = cli("validate", "no_such_module:flow")
    assert result.returncode == 1
    assert "no module named 'no_such_module'" in result.stdout


def test_render_writes_svg_png_and_dot_files(cli: Cli, tmp_path: Path) -> None:
    for name in ("flow.svg", "flow.png", "flow.dot"):
        result = cli("render", "cli_flows:pipeline", "-o", name)
        assert result.returncode == 0, result.stderr
    assert "<svg" in (tmp_path / "flow.svg").read_text()
    assert 'id="routine&#45;r1"' in (tmp_path / "flow.svg").read_text()
    assert (tmp_path / "flow.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert (tmp_path / "flow.dot").read_text().startswith("digraph")


def test_render_refuses_an_unknown_format(cli: Cli, tmp_path: Path) -> None:
    result = cli("render", "cli_flows:pipeline", "-o", "flow.gif")
    assert result.returncode == 1
    assert ".svg, .png, .dot" in result.stderr
    assert not (tmp_path / "flow.gif").exists()


def test_render_into_a_missing_directory_is_a_one_line_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("render", "cli_flows:chain", "-o", "missing/flow.svg")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: cannot write missing/flow.svg: No such file or directory"
    )
    assert not (tmp_path / "missing").exists()
