"""Compare two `lionk reproduce` outputs: every PNG pixel by pixel, every PDF and report by bytes.

Usage:  python scripts/compare_reproductions.py ROOT_A ROOT_B [name ...]
ROOT_A and ROOT_B each hold ``figures/`` and ``paper_reproductions/`` (as written by
``lionk reproduce NAMES --figures ROOT/figures --reports ROOT/paper_reproductions``). Per PNG: the
number of pixels that differ in any channel, the largest absolute difference (0–255) and the
box of rows and columns where they are; per PDF: identical bytes or not; per report: the lines
that differ. Default names: the
four original reports.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

import numpy as np
from PIL import Image

NAMES = ("fig1", "fig5", "phases", "convergence")


def png_difference(a: Path, b: Path) -> str:
    """'bytes identical' or the count, the largest value and the place of differing pixels."""
    if a.read_bytes() == b.read_bytes():
        return "bytes identical (0 pixels differ)"
    ia = np.asarray(Image.open(a).convert("RGBA"), dtype=np.int16)
    ib = np.asarray(Image.open(b).convert("RGBA"), dtype=np.int16)
    if ia.shape != ib.shape:
        return f"sizes differ: {ia.shape[1]}×{ia.shape[0]} against {ib.shape[1]}×{ib.shape[0]}"
    d = np.abs(ia - ib).max(axis=-1)
    rows, cols = np.nonzero(d)
    if rows.size == 0:
        return "bytes differ, pixels identical"
    return (
        f"{rows.size} pixels differ, max abs difference {int(d.max())}, in rows "
        f"{rows.min()}–{rows.max()}, columns {cols.min()}–{cols.max()}"
    )


def report_difference(a: Path, b: Path) -> list[str]:
    """The lines of report ``b`` → ``a`` that differ (unified diff without headers)."""
    la, lb = a.read_text().splitlines(), b.read_text().splitlines()
    diff = difflib.unified_diff(lb, la, lineterm="", n=0)
    return [line for line in diff if not line.startswith(("---", "+++", "@@"))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root_a", type=Path)
    ap.add_argument("root_b", type=Path)
    ap.add_argument("names", nargs="*", default=list(NAMES))
    args = ap.parse_args(argv)
    for name in args.names:
        fa, fb = args.root_a / "figures", args.root_b / "figures"
        print(f"{name}.png: {png_difference(fa / f'{name}.png', fb / f'{name}.png')}")
        same = (fa / f"{name}.pdf").read_bytes() == (fb / f"{name}.pdf").read_bytes()
        print(f"{name}.pdf: bytes {'identical' if same else 'differ'}")
        ra, rb = args.root_a / "paper_reproductions", args.root_b / "paper_reproductions"
        lines = report_difference(ra / f"{name}.md", rb / f"{name}.md")
        print(f"{name}.md: {len(lines)} differing lines (- {args.root_b}, + {args.root_a})")
        for line in lines:
            print(f"    {line[:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
