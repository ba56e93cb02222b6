"""Re-execute tutorial notebooks in place so their stored outputs are current.

Usage (from the repository root)::

    .venv/bin/python notebooks/refresh.py                      # every tutorial
    .venv/bin/python notebooks/refresh.py notebooks/03_*.ipynb  # some of them

Each notebook runs top to bottom in a fresh kernel, from the notebooks directory (as under
nbval). Afterwards, per-cell execution timestamps are dropped, and so is the widget-view part
of widget outputs: its model id is random and useless without the kernel, while the static
HTML stored beside it is what readers and the documentation show.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def refresh(path: Path) -> None:
    """Execute ``path`` in place and tidy what it stores."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=False,
    )
    client.execute()
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and len(data) > 1:
                del data[WIDGET_VIEW]
    nbformat.write(notebook, path)


def main(arguments: list[str]) -> None:
    paths = [Path(a) for a in arguments] or sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        print(f"running {path.name}")
        refresh(path.resolve())


if __name__ == "__main__":
    main(sys.argv[1:])
