"""Regenerate the paper reproductions: figures/ (PNG + PDF) and paper_reproductions/ (reports).

Usage (from the repository root):  python scripts/reproduce_all.py [name ...]
With no name every registered figure is rebuilt; one line of progress is printed per figure.
"""
import sys
import time
from pathlib import Path

from lyapunov_lion.reproduce import run

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    t0 = time.perf_counter()
    which = sys.argv[1:] or "all"
    run(which, ROOT / "figures", ROOT / "paper_reproductions", progress=print)
    print(f"done in {time.perf_counter() - t0:.1f} s")
