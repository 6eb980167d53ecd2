"""The API reference builds from the docstrings with warnings as errors (the docs gate).

A docstring that docutils cannot parse (an unterminated ``*``, a malformed table, a list that
runs into a paragraph) shows up as garbage on the reference pages; `-W` turns each such warning
into a failure here, so the reference stays readable as the code changes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_api_reference_builds_without_warnings(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-q",
            "-W",
            "--keep-going",
            "-b",
            "html",
            str(ROOT / "docs"),
            str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert (tmp_path / "html" / "api" / "core.html").exists()
