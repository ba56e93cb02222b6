"""``routilux jobs``: list, show, resume and fork the jobs a store holds."""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

import click

from routilux.cli._common import StoreSpec, cli_errors, finish_jobs, open_flow
from routilux.cli._progress import ActivationCounter
from routilux.core.flow import Flow
from routilux.runtime import Runtime
from routilux.store.opening import open_store
from routilux.store.records import JobRow

__all__ = ["jobs"]

store_option = click.option(
    "--store",
    required=True,
    type=StoreSpec(must_exist=True),
    help="The store the jobs were checkpointed in: a SQLite file, or a postgresql:// URL.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
flow_option = click.option(
    "--flow",
    "flow_refs",
    multiple=True,
    metavar="SPEC_OR_MODULE:FLOW",
    help="The flows the jobs run in (repeatable): a store names flows, never code to import.",
)
threads_option = click.option("--threads", type=click.IntRange(min=1), help="Thread pool size.")
timeout_option = click.option(
    "--timeout", type=click.FloatRange(min=0), help="Give up after this many seconds."
)


@click.group()
def jobs() -> None:
    """Jobs checkpointed in a store: list, show, resume, fork."""


@jobs.command("list")
@store_option
@click.option("--unfinished", is_flag=True, help="Only pending and running jobs.")
@json_option
def list_jobs(store: str, unfinished: bool, as_json: bool) -> None:
    """The jobs in the store, oldest first."""
    with cli_errors(), open_store(store) as db:
        rows = db.jobs(unfinished=unfinished)
    if as_json:
        _echo_json([dataclasses.asdict(row) for row in rows])
        return
    _echo_table(
        ["JOB", "FLOW", "STATUS", "CREATED", "FINISHED", "PARENT", "ERROR"],
        [
            [
                row.job_id,
                row.flow_name,
                row.status,
                _when(row.created_at),
                _when(row.finished_at),
                f"{row.parent_job_id}@{row.parent_step}" if row.parent_job_id else "",
                _short(row.error or ""),
            ]
            for row in rows
        ],
    )


@jobs.command("show")
@store_option
@click.argument("job_id", metavar="JOB")
@json_option
def show_job(store: str, job_id: str, as_json: bool) -> None:
    """One job: its status and its history of checkpointed steps."""
    with cli_errors(), open_store(store) as db:
        row = db.job(job_id)
        history = db.history(job_id)
        items = db.items(job_id)
    if as_json:
        _echo_json(
            {
                "job": dataclasses.asdict(row),
                "history": [dataclasses.asdict(step) for step in history],
                "items": [dataclasses.asdict(item) for item in items],
            }
        )
        return
    click.echo(_describe(row))
    waiting = sum(1 for item in items if item.consumed_by is None and item.dropped_after is None)
    click.echo(f"{len(history)} steps, {waiting} data points waiting\n")
    _echo_table(
        ["STEP", "ROUTINE", "ATTEMPTS", "MS", "EMITTED", "ERROR"],
        [
            [
                str(step.step),
                step.routine_id,
                str(step.attempts),
                f"{step.duration * 1000:.2f}" if step.duration is not None else "",
                ", ".join(str(event) for event, _ in step.emitted),
                _short(step.error or "") + (" (fatal)" if step.fatal else ""),
            ]
            for step in history
        ],
    )


@jobs.command("resume")
@store_option
@click.argument("job_ids", metavar="[JOB]...", nargs=-1)
@flow_option
@threads_option
@timeout_option
@json_option
def resume_jobs(
    store: str,
    job_ids: tuple[str, ...],
    flow_refs: tuple[str, ...],
    threads: int | None,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Continue jobs from their last checkpoint (every unfinished one if none is named)."""
    flows = _flows(flow_refs)
    runtime = Runtime(thread_pool_size=threads, store=store)
    with cli_errors(), runtime:
        counter = ActivationCounter(runtime)
        if job_ids:
            resumed = [job for job_id in job_ids for job in runtime.resume(job_id, flows=flows)]
        else:
            resumed = runtime.resume(flows=flows)
        if not resumed:
            click.echo("no unfinished jobs", err=True)
        code = finish_jobs(counter, resumed, timeout=timeout, as_json=as_json)
        if code:
            runtime.shutdown(wait=False)
    sys.exit(code)


@jobs.command("fork")
@store_option
@click.argument("job_id", metavar="JOB")
@click.argument("step", type=click.IntRange(min=0))
@flow_option
@threads_option
@timeout_option
@json_option
def fork_job(
    store: str,
    job_id: str,
    step: int,
    flow_refs: tuple[str, ...],
    threads: int | None,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Run a new job from the state JOB had right after STEP (0: before its first step)."""
    flows = _flows(flow_refs)
    runtime = Runtime(thread_pool_size=threads, store=store)
    with cli_errors(), runtime:
        counter = ActivationCounter(runtime)
        job = runtime.fork(job_id, step, flows=flows)
        click.echo(f"forked {job_id} after step {step} as job {job.job_id}", err=True)
        code = finish_jobs(counter, [job], timeout=timeout, as_json=as_json)
        if code:
            runtime.shutdown(wait=False)
    sys.exit(code)


def _flows(refs: Sequence[str]) -> dict[str, Flow]:
    flows = {}
    for ref in refs:
        flow = open_flow(ref)
        flows[flow.flow_id] = flow
    return flows


def _describe(row: JobRow) -> str:
    lines = [
        f"job      {row.job_id}",
        f"flow     {row.flow_name}",
        f"status   {row.status}",
        f"created  {_when(row.created_at)}",
        f"finished {_when(row.finished_at)}",
    ]
    if row.parent_job_id:
        lines.append(f"forked   from {row.parent_job_id} after step {row.parent_step}")
    if row.metadata:
        lines.append(f"metadata {json.dumps(row.metadata, default=repr)}")
    if row.error:
        lines.append(f"error    {row.error}")
    return "\n".join(lines)


def _when(stamp: float | None) -> str:
    if stamp is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, default=repr))


def _echo_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for line in [header, *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
