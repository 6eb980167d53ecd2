"""House style of the figures: a colour-blind-safe palette, paper-sized rcParams, saving.

Nothing here touches the global matplotlib backend. Figures are built with
``matplotlib.figure.Figure`` (never ``pyplot``), which needs no display and is not registered in
pyplot's figure manager (no leaked figures, no ``plt.show``); ``Figure.savefig`` renders with the
Agg (PNG) or PDF backend chosen from the file extension.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib as mpl
from cycler import cycler
from matplotlib.figure import Figure

from ..errors import LionKError

OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
"""The Okabe–Ito palette (Okabe & Ito 2008), distinguishable under the common colour-vision
deficiencies."""

PALETTE: tuple[str, ...] = tuple(
    OKABE_ITO[k]
    for k in (
        "blue",
        "vermillion",
        "bluish_green",
        "orange",
        "reddish_purple",
        "sky_blue",
        "black",
        "yellow",
    )
)
"""Line colours in order of use (yellow, weak on white, comes last)."""

COLUMN_WIDTH_IN = 3.25
"""Width of one column of a two-column paper, in inches."""
TEXT_WIDTH_IN = 7.0
"""Width of a full-width (two-column) figure, in inches."""

PNG_DPI = 200
PAD_INCHES = 0.03
"""Margin around the tight bounding box of a saved figure, in inches."""

PAPER_RC: dict[str, object] = {
    # 8 pt text and 7 pt ticks stay legible when the figure is printed at its design width
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 6.5,
    "figure.titlesize": 8.5,
    "mathtext.fontset": "dejavusans",
    "lines.linewidth": 1.1,
    "lines.markersize": 5,
    "axes.linewidth": 0.6,
    "axes.grid": True,
    "grid.linewidth": 0.35,
    "grid.alpha": 0.45,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "legend.framealpha": 0.85,
    "legend.handlelength": 1.8,
    "legend.borderpad": 0.3,
    "legend.labelspacing": 0.25,
    "axes.prop_cycle": cycler(color=list(PALETTE)),
    "figure.constrained_layout.use": True,
    "savefig.dpi": PNG_DPI,
    "pdf.fonttype": 42,  # embed TrueType: text stays text (searchable, editable) in the PDF
    "ps.fonttype": 42,
}
"""rcParams of the house style (`paper_style`)."""


@contextlib.contextmanager
def paper_style(**overrides: object) -> Iterator[None]:
    """Apply `PAPER_RC` (plus ``overrides``) for the duration of a ``with`` block.

    Fonts and line widths are fixed when artists are created, so build the figure *inside* the
    block; `save_figure` re-applies the style itself.
    """
    rc: dict[str, Any] = dict(PAPER_RC)
    rc.update(overrides)
    with mpl.rc_context(rc):  # type: ignore[arg-type]  # keys checked by matplotlib at runtime
        yield


def place_legend(ax, handles=None, loc: str = "best", ncols: int = 1, offset_pt: float = 30.0):
    """``ax.legend`` at ``loc``; ``loc="below"`` puts it under the axes, ``offset_pt`` points
    below the bottom spine (clearing tick labels and the x label whatever the axes' height)."""
    from matplotlib.transforms import ScaledTranslation

    kw = {} if handles is None else {"handles": handles}
    if loc != "below":
        return ax.legend(loc=loc, ncols=ncols, **kw)
    shift = ScaledTranslation(0, -offset_pt / 72, ax.figure.dpi_scale_trans)
    return ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=ax.transAxes + shift,
        ncols=ncols,
        **kw,
    )


def new_figure(width: float = TEXT_WIDTH_IN, height: float = 2.6) -> Figure:
    """A display-free ``Figure`` of ``width × height`` inches with constrained layout."""
    return Figure(figsize=(width, height), layout="constrained")


def save_figure(fig: Figure, path, *, dpi: int = PNG_DPI) -> Path:
    """Write ``fig`` to ``path`` as PNG (at ``dpi``, default 200) or PDF, by the file extension.

    The saved area is the figure's tight bounding box (legends outside the axes are kept).
    No creation date is embedded, so the same figure gives the same bytes on every run (the
    committed figures can be checked against a regeneration). Parent directories are created.
    Returns the path written. Raises `LionKError` for any other extension.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "pdf"):
        raise LionKError(f"cannot save a figure as {path.name!r}: use a .png or .pdf file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    with paper_style():
        # "tight" grows the canvas to legends placed outside the axes instead of clipping them
        metadata = {"CreationDate": None} if fmt == "pdf" else {}
        fig.savefig(
            path,
            format=fmt,
            dpi=dpi if fmt == "png" else None,
            bbox_inches="tight",
            pad_inches=PAD_INCHES,
            metadata=metadata,
        )
    return path


def save_png_and_pdf(fig: Figure, png, pdf, *, dpi: int = PNG_DPI) -> tuple[Path, Path]:
    """Write ``fig`` to ``png`` (at ``dpi``) and ``pdf`` from ONE layout, at about 60 % of the
    cost of ``save_figure(fig, png)`` plus ``save_figure(fig, pdf)`` (what the reproductions write).

    The layout engine (constrained layout) runs once, at ``dpi`` with the PNG renderer; the tight
    bounding box is taken once and padded by `PAD_INCHES`; then each file is drawn once from that
    frozen layout (`save_figure` lays out and draws the figure twice per file). The PNG is
    byte-identical to ``save_figure(fig, png)``. The PDF places the axes where the PNG has them
    (laid out with the raster's text extents rather than the PDF's 72-dpi ones), so its bytes
    differ from ``save_figure(fig, pdf)``: axes edges move by less than a point (0.92 pt at most
    over the four toy reproductions, scripts/pdf_layout_shift.py). No creation date is embedded.
    Returns the two paths; the figure's dpi, canvas and layout engine are restored.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    paths = Path(png), Path(pdf)
    for path, fmt in zip(paths, ("png", "pdf"), strict=True):
        if path.suffix.lower() != f".{fmt}":
            raise LionKError(f"cannot save a figure as {path.name!r}: expected a .{fmt} file name")
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
    canvas, engine, fig_dpi = fig.canvas, fig.get_layout_engine(), fig.dpi
    # Without an engine while saving the layout stays as computed (no re-layout, no extra draw).
    # set_layout_engine(None) means "the rcParams' engine", hence these rcParams around it (and
    # around savefig, which restores the engine it found, None, the same way).
    no_auto = {"figure.autolayout": False, "figure.constrained_layout.use": False}
    with paper_style():
        try:
            fig.set_dpi(dpi)
            renderer = FigureCanvasAgg(fig).get_renderer()
            if engine is not None:
                engine.execute(fig)
            bbox = fig.get_tightbbox(renderer).padded(PAD_INCHES)
            with mpl.rc_context(no_auto):  # type: ignore[arg-type]  # keys checked at runtime
                fig.set_layout_engine(None)
                fig.savefig(paths[0], format="png", dpi=dpi, bbox_inches=bbox, metadata={})
                no_date = {"CreationDate": None}
                fig.savefig(paths[1], format="pdf", bbox_inches=bbox, metadata=no_date)
        finally:
            with mpl.rc_context(no_auto):  # type: ignore[arg-type]
                fig.set_layout_engine(engine)
            fig.set_dpi(fig_dpi)
            fig.set_canvas(canvas)
    return paths
