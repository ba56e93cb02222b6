"""Sphinx configuration for the routilux documentation."""

from __future__ import annotations

import shutil
from pathlib import Path

import routilux

DOCS = Path(__file__).resolve().parent
NOTEBOOKS = DOCS.parent / "notebooks"
TUTORIALS = DOCS / "tutorials"

project = "routilux"
author = "routilux developers"
copyright = "routilux developers"
release = routilux.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
nitpicky = False

# -- MyST and notebooks -------------------------------------------------------------------

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
# The tutorials are tested under nbval and stored with their outputs: show those.
nb_execution_mode = "off"
nb_merge_streams = True
# A stored widget cannot run without a kernel: show the static HTML it also provides.
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]


def _copy_tutorials() -> None:
    """Copy the tutorial notebooks into the source tree, where a toctree can reach them.

    ``notebooks/`` stays the one place they are edited (and tested); the copies are build
    inputs, ignored by git, and only rewritten when they changed so rebuilds stay incremental.
    """
    TUTORIALS.mkdir(exist_ok=True)
    wanted = {path.name for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    for stale in TUTORIALS.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    for name in sorted(wanted):
        source, target = NOTEBOOKS / name, TUTORIALS / name
        if not target.exists() or target.read_bytes() != source.read_bytes():
            shutil.copyfile(source, target)


_copy_tutorials()

# -- API reference ------------------------------------------------------------------------

autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# -- HTML ---------------------------------------------------------------------------------

html_theme = "furo"
html_title = f"routilux {release}"
html_static_path: list[str] = []
