"""Sphinx configuration for the routilux documentation."""

from __future__ import annotations

import json
from pathlib import Path

import routilux

DOCS = Path(__file__).resolve().parent
NOTEBOOKS = DOCS.parent / "notebooks"
TUTORIALS = DOCS / "tutorials"
CHECK_MARKER = "# NBVAL_CHECK_OUTPUT"

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


def _for_readers(notebook_text: str) -> str:
    """The notebook without the ``# NBVAL_CHECK_OUTPUT`` markers, which only the tests need."""
    notebook = json.loads(notebook_text)
    for cell in notebook["cells"]:
        source = cell["source"]
        lines = source.splitlines(keepends=True) if isinstance(source, str) else list(source)
        if cell["cell_type"] == "code" and lines and lines[0].strip() == CHECK_MARKER:
            cell["source"] = lines[1:]
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


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
        text = _for_readers((NOTEBOOKS / name).read_text(encoding="utf-8"))
        target = TUTORIALS / name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")


_copy_tutorials()

# -- API reference ------------------------------------------------------------------------

autodoc_default_options = {"members": True, "undoc-members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
# Attributes sections become fields of their class, so undocumented members never clash.
napoleon_use_ivar = True

# -- HTML ---------------------------------------------------------------------------------

html_theme = "furo"
html_title = f"routilux {release}"
html_static_path: list[str] = []
