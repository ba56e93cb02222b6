"""What the ``routilux`` commands share: loading flows, posting, waiting and summaries."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from routilux.cli._progress import ActivationCounter, Progress, Tally, tally
from routilux.cli.locate import load_flow_ref
from routilux.core.errors import ConfigurationError, RoutiluxError
from routilux.core.flow import Flow
from routilux.core.job import JobContext
from routilux.store.opening import sqlite_path

__all__ = [
    "EXIT_FAILED",
    "EXIT_UNFINISHED",
    "StoreSpec",
    "cli_errors",
    "finish_jobs",
    "flow_argument",
    "open_flow",
    "parse_post",
]

EXIT_FAILED = 1
"""Exit code when a job failed (or, for ``validate``, when the flow has problems)."""
EXIT_UNFINISHED = 3
"""Exit code when jobs were still running when ``--timeout`` ran out."""

_POST = re.compile(r"^(?P<routine>[^.=\s]+)\.(?P<slot>[^.=\s]+)=(?P<data>.*)$", re.DOTALL)

flow_argument = click.argument("flow_ref", metavar="SPEC_OR_MODULE:FLOW")


class StoreSpec(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.5 only
    """A store as ``Runtime(store=...)`` takes it: a SQLite file's path, or a URL
    (``sqlite:///jobs.db``, ``postgresql://user@host/db``), passed on as written.

    Args:
        must_exist: Refuse a path to a file that is not there (to read a store, not to
            create one). A URL is checked when the store is opened.
    """

    name = "store"

    def __init__(self, must_exist: bool) -> None:
        self._path = click.Path(exists=must_exist, dir_okay=False)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "PATH|URL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not (isinstance(value, str) and "://" in value):
            return self._path.convert(value, param, ctx)
        try:
            path = sqlite_path(value)
        except ConfigurationError as error:
            self.fail(str(error), param, ctx)
        if path is not None:
            self._path.convert(path, param, ctx)  # a SQLite file, named as a URL
        return value


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn the engine's configuration and state errors into a one-line CLI error."""
    try:
        yield
    except RoutiluxError as error:
        raise click.ClickException(str(error)) from error


def open_flow(ref: str) -> Flow:
    """Load ``ref`` (see :func:`routilux.cli.locate.load_flow_ref`), as a CLI error if it fails."""
    with cli_errors():
        return load_flow_ref(ref)


def parse_post(text: str, flow: Flow) -> tuple[str, str, Any]:
    """``ROUTINE.SLOT=JSON``, or bare ``JSON`` for a flow with one entry slot."""
    match = _POST.match(text)
    if match:
        routine, slot, raw = match["routine"], match["slot"], match["data"]
    else:
        entries = flow.entry_slots()
        if len(entries) != 1:
            listed = ", ".join(f"{r}.{s}" for r, s in entries) or "none"
            raise click.BadParameter(
                f"{text!r}: write ROUTINE.SLOT=JSON; flow {flow.flow_id!r} has "
                f"{len(entries)} entry slots ({listed})",
                param_hint="--post",
            )
        (routine, slot), raw = entries[0], text
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"{raw!r} is not JSON: {error}", param_hint="--post") from None
    return routine, slot, data


def finish_jobs(
    counter: ActivationCounter,
    jobs: list[JobContext],
    *,
    timeout: float | None,
    as_json: bool,
) -> int:
    """Wait for ``jobs`` (a progress line on a terminal), print a summary, return the exit code."""
    started = time.perf_counter()
    deadline = None if timeout is None else started + timeout
    show_progress = sys.stderr.isatty() and not as_json
    with Progress(counter, jobs, sys.stderr) if show_progress else _nothing():
        for job in jobs:
            remaining = None if deadline is None else max(0.0, deadline - time.perf_counter())
            if not job.wait(remaining):
                break
    elapsed = time.perf_counter() - started
    counts = tally(jobs)
    _print_summary(counts, counter.activations, elapsed, as_json)
    if counts.unfinished:
        return EXIT_UNFINISHED
    return EXIT_FAILED if counts.failed else 0


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _print_summary(counts: Tally, activations: int, elapsed: float, as_json: bool) -> None:
    if as_json:
        click.echo(
            json.dumps(
                {
                    "activations": activations,
                    "completed": counts.completed,
                    "failed": counts.failed,
                    "cancelled": counts.cancelled,
                    "unfinished": counts.unfinished,
                    "seconds": round(elapsed, 6),
                    "errors": [{"job_id": j, "error": e} for j, e in counts.errors],
                }
            )
        )
        return
    rate = activations / elapsed if elapsed > 0 else 0.0
    click.echo(
        f"{activations} activations in {elapsed:.2f}s ({rate:,.0f}/s); jobs: "
        f"{counts.completed} completed, {counts.failed} failed, {counts.cancelled} cancelled"
        + (f", {counts.unfinished} unfinished" if counts.unfinished else "")
    )
    for job_id, error in counts.errors:
        click.echo(f"job {job_id} failed: {error}", err=True)
