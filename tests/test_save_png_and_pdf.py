"""`save_png_and_pdf`: both files from one layout, the PNG byte-identical to `save_figure`'s."""

from __future__ import annotations

import re
import struct

import matplotlib as mpl
import numpy as np
import pytest
from matplotlib.figure import Figure

from lyapunov_lion.errors import LionKError
from lyapunov_lion.plotting import (
    new_figure,
    paper_style,
    place_legend,
    save_figure,
    save_png_and_pdf,
)
from lyapunov_lion.plotting.style import PNG_DPI


def busy_figure() -> Figure:
    """Constrained layout, a log axis with mathtext tick labels, a legend below the axes (outside:
    only the tight bounding box keeps it), a suptitle and a 10⁴-point line."""
    t = np.arange(10_000)
    with paper_style():
        fig = new_figure(5.0, 2.4)
        a, b = fig.subplots(1, 2)
        a.plot(np.cos(t / 700.0), np.sin(t / 300.0), label="a path")
        place_legend(a, loc="below")
        b.semilogy(t, np.exp(-t / 2_000.0) + 1e-4, label="decay")
        b.set_xlabel("step t")
        b.legend(loc="upper right")
        fig.suptitle("two panels")
    return fig


def png_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def pdf_mediabox(data: bytes) -> tuple[float, float]:
    m = re.search(rb"/MediaBox \[\s*([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)\s*\]", data)
    assert m is not None
    x0, y0, x1, y1 = (float(v) for v in m.groups())
    return x1 - x0, y1 - y0


def test_png_is_the_bytes_of_save_figure(tmp_path):
    # fresh figures on both sides: matplotlib lays out a figure saved before from where the
    # previous save left it, so even save_figure twice on one figure need not repeat its bytes
    ref = save_figure(busy_figure(), tmp_path / "ref.png").read_bytes()
    png, pdf = save_png_and_pdf(busy_figure(), tmp_path / "one.png", tmp_path / "one.pdf")
    assert png.read_bytes() == ref
    assert pdf.read_bytes().startswith(b"%PDF")


def test_png_and_pdf_share_the_bounding_box(tmp_path):
    # the same bounding box in inches: PNG pixels = inches·dpi (rounded), PDF points = inches·72
    png, pdf = save_png_and_pdf(busy_figure(), tmp_path / "f.png", tmp_path / "f.pdf")
    w_px, h_px = png_size(png.read_bytes())
    w_pt, h_pt = pdf_mediabox(pdf.read_bytes())
    pt_per_px = 72 / PNG_DPI  # rounding the raster to whole pixels moves each side < 1 px
    assert abs(w_pt - w_px * pt_per_px) < pt_per_px
    assert abs(h_pt - h_px * pt_per_px) < pt_per_px


def test_same_bytes_every_run_and_figure_state_restored(tmp_path):
    fig = busy_figure()
    engine, dpi, canvas = fig.get_layout_engine(), fig.dpi, fig.canvas
    first = [p.read_bytes() for p in save_png_and_pdf(fig, tmp_path / "a.png", tmp_path / "a.pdf")]
    assert fig.get_layout_engine() is engine and fig.dpi == dpi and fig.canvas is canvas
    paths = save_png_and_pdf(busy_figure(), tmp_path / "b.png", tmp_path / "b.pdf")
    again = [p.read_bytes() for p in paths]
    assert first == again  # no creation date: the committed figures can be checked by a rerun
    assert b"CreationDate" not in first[1]


def test_figure_without_layout_engine(tmp_path):
    def figure() -> Figure:
        with mpl.rc_context({"figure.constrained_layout.use": False, "figure.autolayout": False}):
            fig = Figure(figsize=(3.0, 2.0))
        fig.subplots().plot([0, 1], [1, 0])
        return fig

    ref = save_figure(figure(), tmp_path / "ref.png").read_bytes()
    fig = figure()
    assert fig.get_layout_engine() is None
    png, _ = save_png_and_pdf(fig, tmp_path / "x.png", tmp_path / "x.pdf")
    assert png.read_bytes() == ref and fig.get_layout_engine() is None


@pytest.mark.parametrize("png, pdf", [("f.pdf", "f.png"), ("f.png", "f.svg"), ("f.jpg", "f.pdf")])
def test_wrong_extensions_are_refused(tmp_path, png, pdf):
    with pytest.raises(LionKError, match="expected a"):
        save_png_and_pdf(busy_figure(), tmp_path / png, tmp_path / pdf)
    assert not list(tmp_path.iterdir())  # nothing written
