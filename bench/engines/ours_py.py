"""Our engine as the development install runs it: pure Python, nothing compiled.

The same topologies as ``ours``; only the interpreter differs (``.venv``, where routilux is
installed with ``ROUTILUX_PURE_PYTHON=1``), so the table shows what mypyc adds.
"""

from __future__ import annotations

from bench.engines.ours import build, version

__all__ = ["build", "version"]
