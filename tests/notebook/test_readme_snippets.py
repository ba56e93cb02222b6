"""The README's Python snippets run in order, as a reader pastes them into one notebook."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_snippets_run_one_after_another() -> None:
    snippets = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(snippets) >= 3, "the README lost its first flow or its debugger snippets"
    # The widget renders without a kernel; only its display is left out.
    program = "\n".join(snippets).replace("\ndebugger                      #", "\n#")
    result = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=README.parent,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "['Hello, Ada!']",
        "show {'lines': [{'text': 'Hello, Grace!'}]}",
    ]
