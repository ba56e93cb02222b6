"""The ``routilux`` command: run, validate and render flows; ``jobs`` and ``serve`` hang off it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from routilux.cli._common import (
    EXIT_FAILED,
    EXIT_UNFINISHED,
    StoreSpec,
    cli_errors,
    finish_jobs,
    flow_argument,
    open_flow,
    parse_post,
)
from routilux.cli._progress import ActivationCounter
from routilux.cli.jobs import fork_job, jobs, resume_jobs
from routilux.cli.locate import import_module, load_flow_ref
from routilux.cli.serve import serve
from routilux.core.errors import RoutiluxError
from routilux.runtime import Runtime

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="routilux")
@click.option(
    "--import",
    "-i",
    "imports",
    multiple=True,
    metavar="MODULE",
    help="Import MODULE first, e.g. one that registers the routine classes a spec names.",
)
def main(imports: tuple[str, ...]) -> None:
    """Run, inspect and serve routilux flows.

    A flow is named by a spec file (flow.yaml, flow.json) or as package.module:object,
    where the object is a Flow or a function returning one. A spec names only routine
    classes registered with routilux.register_routine: --import the module that does.
    """
    for module in imports:
        with cli_errors():
            import_module(module)


@main.command()
@flow_argument
@click.option(
    "--post",
    "posts",
    multiple=True,
    metavar="ROUTINE.SLOT=JSON",
    help="Data to post, one job each (repeatable). Bare JSON goes to the one entry slot.",
)
@click.option(
    "--store",
    type=StoreSpec(must_exist=False),
    help="Checkpoint jobs into this store: a SQLite file, or a postgresql:// URL.",
)
@click.option(
    "--executor",
    type=click.Choice(["threads"]),
    default="threads",
    show_default=True,
    help="Where logic runs.",
)
@click.option("--threads", type=click.IntRange(min=1), help="Size of the thread pool.")
@click.option("--timeout", type=click.FloatRange(min=0), help="Give up after this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def run(
    flow_ref: str,
    posts: tuple[str, ...],
    store: str | None,
    executor: str,
    threads: int | None,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Run a flow until its jobs finish; exit 1 if one failed, 3 if --timeout ran out."""
    flow = open_flow(flow_ref)
    if not posts:
        raise click.UsageError("nothing to run: give --post ROUTINE.SLOT=JSON (repeatable)")
    parsed = [parse_post(text, flow) for text in posts]
    with cli_errors(), Runtime(thread_pool_size=threads, store=store) as runtime:
        counter = ActivationCounter(runtime)
        jobs = [runtime.post(flow, r, s, data)[1] for r, s, data in parsed]
        code = finish_jobs(counter, jobs, timeout=timeout, as_json=as_json)
        if code == EXIT_UNFINISHED:
            runtime.shutdown(wait=False)
    sys.exit(code)


@main.command()
@flow_argument
def validate(flow_ref: str) -> None:
    """Check a flow; print its problems one per line and exit 1 if there are any."""
    try:
        flow = load_flow_ref(flow_ref)
    except RoutiluxError as error:
        problems = _listed_problems(str(error))
    else:
        problems = flow.validate()
        for warning in flow.warnings():
            click.echo(f"warning: {warning}", err=True)
    for problem in problems:
        click.echo(problem)
    if problems:
        sys.exit(EXIT_FAILED)
    click.echo(
        f"ok: flow {flow.flow_id!r}, {len(flow.routines)} routines, "
        f"{len(flow.connections)} connections",
        err=True,
    )


def _listed_problems(message: str) -> list[str]:
    """The items of an error that lists problems as ``  - item`` lines, or the message."""
    items = [line[4:] for line in message.splitlines() if line.startswith("  - ")]
    return items or [message]


@main.command()
@flow_argument
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="Where to write the picture: .svg, .png or .dot.",
)
def render(flow_ref: str, output: str) -> None:
    """Draw a flow as SVG, PNG or DOT (no system Graphviz needed)."""
    # Imported here: drawing needs the optional Graphviz packages, the other commands do not.
    from routilux.cli.drawing import draw

    flow = open_flow(flow_ref)
    path = Path(output)
    with cli_errors():
        try:
            picture = draw(flow, path.suffix.lstrip(".").lower())
        except (ImportError, ValueError, RuntimeError) as error:
            raise click.ClickException(str(error)) from error
    try:
        path.write_bytes(picture)
    except OSError as error:
        raise click.ClickException(f"cannot write {path}: {error.strerror or error}") from error
    click.echo(f"wrote {path}", err=True)


main.add_command(jobs)
main.add_command(serve)
# The two jobs commands that do something, also at the top: `routilux resume --store jobs.db`.
main.add_command(resume_jobs, name="resume")
main.add_command(fork_job, name="fork")
