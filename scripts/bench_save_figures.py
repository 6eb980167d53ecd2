"""CPU seconds to write the reproductions' figures: two `save_figure` calls against one
`save_png_and_pdf`, interleaved in one process on the same built figures.

Usage:  python scripts/bench_save_figures.py [--rounds N] [name ...]
(default: 3 rounds over the four original reports). Each round writes every figure's PNG and PDF
both ways, old way first, into a temporary folder, and prints the CPU seconds of each way.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from lyapunov_lion.plotting import save_figure, save_png_and_pdf
from lyapunov_lion.reproduce.registry import FIGURES

NAMES = ("fig1", "fig5", "phases", "convergence")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", default=list(NAMES))
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    figures = {name: FIGURES[name].build("full").figure for name in args.names}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for k in range(1, args.rounds + 1):
            t0 = time.process_time()
            for name, fig in figures.items():
                save_figure(fig, out / f"{name}.png")
                save_figure(fig, out / f"{name}.pdf")
            t1 = time.process_time()
            for name, fig in figures.items():
                save_png_and_pdf(fig, out / f"{name}.png", out / f"{name}.pdf")
            t2 = time.process_time()
            print(f"round {k}: save_figure ×2 {t1 - t0:.2f} s, save_png_and_pdf {t2 - t1:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
