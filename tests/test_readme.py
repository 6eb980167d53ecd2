"""The README's two commands are the ones CI runs (and so they keep working)."""

import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("```bash", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.strip().splitlines()]


def test_readme_has_two_commands():
    install, test = readme_commands()
    assert "pip install" in install and "lionk simulate" in install
    assert "pytest" in test


def test_ci_runs_the_readme_commands():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    for command in readme_commands():
        assert command in ci, f"{command!r} is in README.md but not in .ci/run"


def python_blocks():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [part.split("```", 1)[0] for part in text.split("```python")[1:]]


def test_readme_python_examples_run(monkeypatch):
    """Every ```python block of the README runs as written (in one namespace, in order)."""
    from lyapunov_lion.core import kfunc

    monkeypatch.setattr(kfunc, "_REGISTRY", dict(kfunc._REGISTRY))  # the example K stays local
    blocks = python_blocks()
    assert len(blocks) >= 2
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)  # our own documentation, not user text
    assert namespace["res"].x[-1].shape == (1000, 2)
    import numpy as np

    from lyapunov_lion import make_K

    K = make_K("quartic")  # registered by the README's example
    y = np.array([[-2.0, 0.5, 3.0]])
    x = np.cbrt(y)  # ∇K(x) = x³ = y: Fenchel–Young holds with equality
    assert np.allclose(K.K(x) + K.conj(y), np.sum(x * y))


def shown_runs():
    """README blocks ```text that start with `$ lionk ...`: (argv, the lines shown)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    runs = []
    for part in text.split("```text")[1:]:
        lines = part.split("```", 1)[0].strip().splitlines()
        if lines and lines[0].startswith("$ lionk "):
            runs.append((shlex.split(lines[0][len("$ lionk ") :]), lines[1:]))
    return runs


@pytest.mark.parametrize(
    "argv, shown", shown_runs(), ids=[" ".join(argv)[:40] for argv, _ in shown_runs()]
)
def test_readme_outputs_are_what_the_commands_print(capsys, argv, shown):
    """The outputs pasted in the README are exactly what the commands print today
    (refresh them with `python scripts/update_readme_outputs.py`)."""
    from lyapunov_lion.cli import main

    assert main(argv) == 0
    printed = capsys.readouterr().out.rstrip().splitlines()
    assert printed == shown
