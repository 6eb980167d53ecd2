"""How far `save_png_and_pdf` moves the axes of a reproduction's PDF against `save_figure`.

Usage:  python scripts/pdf_layout_shift.py [name ...]   (default: the four original reports)
`save_figure(fig, "x.pdf")` lays the figure out with the PDF renderer (72 dpi text extents);
`save_png_and_pdf` draws the PDF from the PNG's layout (200 dpi raster text extents). For each
figure (built twice: one fresh figure per layout) this prints the largest and the mean
difference of the axes' left, bottom, width and height between the two layouts, in points.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg

from lyapunov_lion.plotting import paper_style, save_figure
from lyapunov_lion.plotting.style import PNG_DPI
from lyapunov_lion.reproduce.registry import FIGURES

NAMES = ("fig1", "fig5", "phases", "convergence")


def axes_points(fig) -> np.ndarray:
    """(left, bottom, width, height) of every axes in points."""
    w, h = fig.get_size_inches() * 72
    return np.array([ax.get_position().bounds for ax in fig.axes]) * [w, h, w, h]


def main(names: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for name in names or NAMES:
            fig = FIGURES[name].build("full").figure
            save_figure(fig, Path(tmp) / "old.pdf")  # its layout: the PDF renderer's
            old = axes_points(fig)
            fig = FIGURES[name].build("full").figure  # fresh: a layout depends on the last one
            with paper_style():  # the layout of save_png_and_pdf: the raster's at PNG_DPI
                fig.set_dpi(PNG_DPI)
                FigureCanvasAgg(fig).get_renderer()
                fig.get_layout_engine().execute(fig)
            d = np.abs(axes_points(fig) - old)
            n = len(fig.axes)
            print(f"{name}: {n} axes, max shift {d.max():.3f} pt, mean {d.mean():.3f} pt")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
