"""The engineering gates run inside the test suite, so `.ci/run` (install, pytest) enforces them.

* ``ruff check .`` and ``ruff format --check .``: lint (rules E, F, W, B, UP, SIM, I) and format,
  line length 100 (config in pyproject.toml);
* ``mypy``: the package type-checks with 0 errors (config in pyproject.toml: strict flag set on
  ``lyapunov_lion.core``).

Each runs with the interpreter running the tests (``python -m ruff``, ``python -m mypy``: the
pinned versions of the ``dev`` extra) from the repository root; a failure shows the tool's output.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    "args",
    [("ruff", "check", "--no-cache", "."), ("ruff", "format", "--check", "--no-cache", ".")],
    ids=["ruff-check", "ruff-format"],
)
def test_ruff(args):
    proc = _run(*args)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]


def test_mypy():
    proc = _run("mypy", "lyapunov_lion")
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert "Success: no issues found" in proc.stdout, proc.stdout[-2000:]
