"""Rewrite the ```text blocks of README.md that start with `$ lionk ...` with what the command
prints now. tests/test_readme.py fails when a block and the command's output disagree."""

import contextlib
import io
import shlex
import sys
from pathlib import Path

from lyapunov_lion.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def refresh(text: str) -> str:
    parts = text.split("```text")
    for i, part in enumerate(parts[1:], start=1):
        block, rest = part.split("```", 1)
        lines = block.strip("\n").splitlines()
        if not lines or not lines[0].startswith("$ lionk "):
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(shlex.split(lines[0][len("$ lionk ") :]))
        if code != 0:
            sys.exit(f"{lines[0]!r} exited with {code}")
        parts[i] = "\n" + lines[0] + "\n" + out.getvalue().rstrip() + "\n" + "```" + rest
    return "```text".join(parts)


if __name__ == "__main__":
    README.write_text(refresh(README.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"refreshed {README}")
