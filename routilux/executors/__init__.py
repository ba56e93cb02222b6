"""Where routine logic runs besides the driver's threads: a process pool (cloudpickle).

Importing this package imports nothing optional; :mod:`routilux.executors.processes` needs
the ``routilux[processes]`` extra (cloudpickle) and is loaded by the runtime the first time a
flow with a routine that opted in (``routine.set_executor("processes")``) starts.
"""

from __future__ import annotations

__all__: list[str] = []
