"""Command line: ``routilux run | validate | render | jobs | serve`` (the ``cli`` extra)."""

from routilux.cli.commands import main

__all__ = ["main"]
