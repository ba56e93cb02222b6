"""``routilux serve``: the HTTP API, event stream, live page and metrics (the ``server`` extra)."""

from __future__ import annotations

import secrets

import click

from routilux.cli._common import StoreSpec, cli_errors, open_flow

__all__ = ["serve"]


@click.command()
@click.argument("flow_refs", metavar="[SPEC_OR_MODULE:FLOW]...", nargs=-1)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--token",
    envvar="ROUTILUX_TOKEN",
    help="The token clients must send (default: $ROUTILUX_TOKEN, else a new random one).",
)
@click.option(
    "--store",
    type=StoreSpec(must_exist=False),
    help="Checkpoint jobs into this store: a SQLite file, or a postgresql:// URL.",
)
@click.option("--threads", type=click.IntRange(min=1), help="Size of the thread pool.")
@click.option(
    "--max-body",
    default=1 << 20,
    show_default=True,
    type=click.IntRange(min=1),
    help="Largest request body accepted, in bytes.",
)
@click.option(
    "--durations",
    is_flag=True,
    help="Time every activation for the /metrics duration histogram (costs per activation).",
)
@click.option(
    "--grace",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="On stop, seconds running jobs get to finish before the rest are cancelled.",
)
def serve(
    flow_refs: tuple[str, ...],
    host: str,
    port: int,
    token: str | None,
    store: str | None,
    threads: int | None,
    max_body: int,
    durations: bool,
    grace: float,
) -> None:
    """Serve flows over HTTP: API, WebSocket events, live page at /, /metrics, /health.

    Every request needs the token: header "Authorization: Bearer TOKEN", or ?token=TOKEN.
    """
    try:
        from routilux.server import serve_flows
    except ImportError as error:
        raise click.ClickException(
            f'serving needs the server extra ({error}): pip install "routilux[server]"'
        ) from error
    flows = [open_flow(ref) for ref in flow_refs]
    if not flows:
        raise click.UsageError("give at least one flow to serve")
    token = token or secrets.token_urlsafe(24)
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: serving on {host}: other machines can reach it", err=True)
    with cli_errors():
        serve_flows(
            flows,
            host=host,
            port=port,
            token=token,
            store=store,
            threads=threads,
            max_body=max_body,
            durations=durations,
            grace=grace,
            announce=lambda url: click.echo(f"routilux serving on {url}", err=True),
        )
