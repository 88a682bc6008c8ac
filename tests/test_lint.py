"""Ruff (ruff.toml: pyflakes, pycodestyle, imports, bugbear, prints, complexity, docstrings,
unused ``noqa``) reports nothing on the repository.

Runs the ruff that requirements.txt installs, as ``python -m ruff`` of this interpreter, from the
repository root so ruff.toml and its excludes apply exactly as on a developer's machine.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None,
                    reason="ruff is not installed in this interpreter (pip install -r "
                           "requirements.txt installs it)")
def test_ruff_reports_nothing() -> None:
    # --no-cache: the test writes nothing into the tree (no .ruff_cache left behind).
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache",
                             "--output-format", "concise", "."],
                            cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"ruff check . reported:\n{result.stdout}{result.stderr}"
