"""The README's first example runs and prints what the README says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_first_flow_runs_and_prints_its_result() -> None:
    text = README.read_text()
    code = re.search(r"## A first flow\n\n```python\n(.*?)```", text, re.S)
    assert code is not None, "README lost its 'A first flow' example"
    result = subprocess.run(
        [sys.executable, "-c", code.group(1)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "['Hello, Ada!']\n"


def test_readme_names_the_two_setup_commands_the_makefile_has() -> None:
    text = README.read_text()
    makefile = (README.parent / "Makefile").read_text()
    for target in ("lab", "test"):
        assert f"make {target}" in text
        assert re.search(rf"^{target}:", makefile, re.M), f"Makefile has no '{target}' target"
