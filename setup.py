"""Build script: compiles routilux's scheduler core and store recorder to C with mypyc when
it can.

The modules every activation runs through (scheduler, worker, queue, activation, job) are
plain, fully typed Python; mypyc turns them into a C extension that runs small flows about
1.6x faster, with the same behaviour (the test suite runs against both builds:
``make unit-compiled``). So are the modules that checkpoint every activation into a store
(recorder, commit queue, writes, state tracker, JSON codec): with a store, recording costs
more Python per activation than running it. Logic, routines and everything users subclass
or set attributes on stay interpreted.

- ``pip install .`` (and wheels) compile when mypyc and a C compiler are available; without
  a compiler the build falls back to pure Python with a warning, since the extensions are
  optional.
- Editable installs (``pip install -e .``, ``make install``) never compile: the compiled
  copy of a module would go on shadowing its ``.py`` file after every edit.
- ``ROUTILUX_PURE_PYTHON=1`` skips compiling in any build.
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup

COMPILED = [
    "routilux/core/_growth.py",
    "routilux/core/_attempts.py",
    "routilux/core/_backpressure.py",
    "routilux/core/_hook_table.py",
    "routilux/core/_node.py",
    "routilux/core/_next.py",
    "routilux/core/_scheduler.py",
    "routilux/core/worker.py",
    "routilux/core/queue.py",
    "routilux/core/activation.py",
    "routilux/core/job.py",
    "routilux/store/codec.py",
    "routilux/store/_writes.py",
    "routilux/store/_commits.py",
    "routilux/store/_state.py",
    "routilux/store/recorder.py",
]


def compiled_modules() -> list[Extension]:
    if os.environ.get("ROUTILUX_PURE_PYTHON") or "editable_wheel" in sys.argv:
        return []
    try:
        from mypyc.build import mypycify
    except ImportError as exc:
        print(f"routilux: mypyc unavailable ({exc}); building pure Python")
        return []
    # Modules the compiled ones import are type-checked silently: the build environment
    # lacks the optional dependencies (ipywidgets, serilux) the rest of the package uses.
    extensions = mypycify(["--follow-imports=silent", *COMPILED], opt_level="3")
    for extension in extensions:
        extension.optional = True  # no C compiler: skip it and run the .py files
    return extensions


setup(ext_modules=compiled_modules())
