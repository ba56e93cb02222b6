"""``python -m routilux``: the ``routilux`` command line."""

from routilux.cli import main

main(prog_name="routilux")
