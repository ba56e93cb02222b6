"""Our engine at the baseline commit (``--baseline``), pure Python, same topologies as ours."""

from __future__ import annotations

from bench.engines.ours import build, version

__all__ = ["build", "version"]
