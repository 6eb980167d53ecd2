"""The input contract of the ``lionk`` command line: one click parameter type per kind of input.

Every value is checked when click parses the command line, before any work starts, and a bad
value becomes one line ``lionk: error: Invalid value for '--lam': ...`` (exit 2):

* `Real`: a finite float inside a range (``nan``, ``inf`` and out-of-range values refused);
* `Count`: an integer inside a range (steps, seeds, dimensions, grid sizes);
* `OutputFile`: a file to write — its extension is one of the allowed ones, its folder exists, is
  a folder and is writable, and the path itself is not a folder;
* `InputFile`: a small regular file to read (not a FIFO, device or folder; at most
  ``core.serialize.MAX_INPUT_BYTES``), so reading it can neither block nor exhaust memory.

Expressions are checked by `lyapunov_lion.core.expr.parse_expression` (safe allow-list parser);
vectors by `parse_vector`. This module imports click and the standard library only, so
``lionk --help`` stays fast.
"""

from __future__ import annotations

import math
import os

import click


class Real(click.ParamType):
    """A finite float with ``lo``/``hi`` bounds (``open_lo``/``open_hi``: strict inequalities)."""

    name = "number"

    def __init__(
        self,
        lo: float | None = None,
        hi: float | None = None,
        *,
        open_lo: bool = False,
        open_hi: bool = False,
        hint: str = "",
    ):
        self.lo, self.hi, self.open_lo, self.open_hi, self.hint = lo, hi, open_lo, open_hi, hint

    def describe(self) -> str:
        parts = []
        if self.lo is not None:
            parts.append(f"{'>' if self.open_lo else '≥'} {self.lo:g}")
        if self.hi is not None:
            parts.append(f"{'<' if self.open_hi else '≤'} {self.hi:g}")
        return " and ".join(parts) or "finite"

    def convert(self, value, param, ctx):
        if isinstance(value, float) and math.isfinite(value) and self._inside(value):
            return value
        try:
            v = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(v):
            self.fail(f"{value} is not a finite number; give a value {self.describe()}", param, ctx)
        if not self._inside(v):
            self.fail(
                f"{v:g} is out of range: need a value {self.describe()}"
                + (f" ({self.hint})" if self.hint else ""),
                param,
                ctx,
            )
        return v

    def _inside(self, v: float) -> bool:
        if self.lo is not None and (v <= self.lo if self.open_lo else v < self.lo):
            return False
        return not (self.hi is not None and (v >= self.hi if self.open_hi else v > self.hi))


def Count(lo: int, hi: int | None = None) -> click.IntRange:
    """An integer in [lo, hi] (click refuses anything else in one line)."""
    return click.IntRange(min=lo, max=hi)


class OutputFile(click.ParamType):
    """A file path to write, with one of ``extensions``, in an existing writable folder."""

    name = "file"

    def __init__(self, extensions: tuple[str, ...]):
        self.extensions = tuple(e.lower() for e in extensions)

    def convert(self, value, param, ctx):
        path = os.fspath(value)
        ext = os.path.splitext(path)[1].lower()
        if ext not in self.extensions:
            self.fail(f"{path!r} must end in {' or '.join(self.extensions)}", param, ctx)
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            what = "is not a folder" if os.path.exists(folder) else "does not exist"
            self.fail(
                f"{path!r}: the folder {os.path.dirname(path) or '.'!r} {what}; create it first",
                param,
                ctx,
            )
        if os.path.isdir(path):
            self.fail(f"{path!r} is a folder; give a file name", param, ctx)
        if not _can_write(folder) or (os.path.exists(path) and not os.access(path, os.W_OK)):
            self.fail(
                f"{path!r}: cannot write in the folder {os.path.dirname(path) or '.'!r}", param, ctx
            )
        return path


def _can_write(folder: str) -> bool:
    """Create and remove a temporary file in ``folder`` (permission bits say yes to root even
    where writing fails, e.g. /proc)."""
    import tempfile

    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".lionk-write-test-"):
            return True
    except OSError:
        return False


class InputFile(click.ParamType):
    """A small regular file to read (see `lyapunov_lion.core.serialize.file_problem`)."""

    name = "file"

    def convert(self, value, param, ctx):
        from .core.serialize import file_problem  # numpy: imported only when a file is given

        path = os.fspath(value)
        problem = file_problem(path)
        if problem:
            self.fail(problem, param, ctx)
        return path
