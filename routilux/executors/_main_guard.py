"""The check that a script starting worker processes keeps its flow under a ``__main__`` guard.

Process pools and a Dask LocalCluster start their processes with "spawn": each one imports
the script again (as ``__mp_main__``). A script that runs its flow at top level would run it
again in every child, and multiprocessing stops that with a long bootstrapping traceback in
each. Checked in the driver before any process starts, the user gets one line instead.
"""

from __future__ import annotations

import ast
import sys
import threading
from types import FrameType

from routilux.core.errors import ConfigurationError

__all__ = ["refuse_unguarded_main"]


def refuse_unguarded_main(what: str) -> None:
    """Raise if the main script is running, at top level, code outside of
    ``if __name__ == "__main__":`` (so starting ``what`` would run it again in each child).

    Notebooks, ``python -c`` and scripts whose source cannot be read pass unchecked.

    Raises:
        ConfigurationError: Naming the script, the line and the fix.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not isinstance(path, str):
        return
    line = _top_level_line(vars(main))
    if line is None:
        return
    try:
        with open(path, encoding="utf-8") as source:
            tree = ast.parse(source.read(), path)
    except (OSError, SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_main_guard(node) and _spans(node, line):
            return
    raise ConfigurationError(
        f"{what} starts worker processes, and each imports {path} again, which would run "
        f"line {line} again: put the code that runs the flow under "
        "'if __name__ == \"__main__\":'"
    )


def _top_level_line(main_globals: dict[str, object]) -> int | None:
    """The line the main script's top-level code is running in the main thread, or None."""
    frame: FrameType | None = sys._current_frames().get(threading.main_thread().ident or -1)
    line = None
    while frame is not None:
        if frame.f_globals is main_globals and frame.f_code.co_name == "<module>":
            line = frame.f_lineno
        frame = frame.f_back
    return line


def _is_main_guard(node: ast.If) -> bool:
    test = node.test
    if not isinstance(test, ast.Compare):
        return False
    if len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [side.id for side in sides if isinstance(side, ast.Name)]
    values = [side.value for side in sides if isinstance(side, ast.Constant)]
    return names == ["__name__"] and values == ["__main__"]


def _spans(node: ast.If, line: int) -> bool:
    """Whether ``line`` is in the guarded body (not an ``else:``, which children run)."""
    last = node.body[-1]
    end = last.end_lineno if last.end_lineno is not None else last.lineno
    return node.body[0].lineno <= line <= end
