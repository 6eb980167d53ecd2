"""The README's two commands are the ones CI runs (and so they keep working)."""
from pathlib import Path

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
