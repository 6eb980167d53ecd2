"""Figures for Lion-K runs (matplotlib; never imported by ``lyapunov_lion.core``).

All functions take plain arrays and callables. They draw on axes you pass, or build a
``matplotlib.figure.Figure`` without pyplot, so no display, no global backend change and no
``plt.show`` are involved; `save_figure` writes PNG (200 dpi) or PDF by the file extension,
`save_png_and_pdf` both from one layout.

- `paper_style`, `save_figure`, `save_png_and_pdf`, `new_figure`, `OKABE_ITO`, `PALETTE`: the
  house style.
- `constraint_geometry`, `draw_constraint`: the set {x : λx ∈ dom K*} a run is confined to.
- `plot_trajectory_2d`: paths over the level sets of f, with the constraint and the optimum.
- `plot_phase`: the Phase-1 distance (log axis, with its bound) and f / H / F against time.
- `figure_simulation`: the three panels above in one captioned figure.
- `plot_weight_histograms`, `plot_radius` (module `training`): a network trained with LionK, from
  a `LionKMonitor` history.
"""

from .constraint import ConstraintShape, constraint_geometry, draw_constraint
from .phase import plot_phase
from .simulation import describe_run, figure_simulation
from .style import (
    COLUMN_WIDTH_IN,
    OKABE_ITO,
    PALETTE,
    PAPER_RC,
    TEXT_WIDTH_IN,
    new_figure,
    paper_style,
    place_legend,
    save_figure,
    save_png_and_pdf,
)
from .training import plot_radius, plot_weight_histograms
from .trajectory import plot_trajectory_2d, square_limits

__all__ = [
    "ConstraintShape",
    "constraint_geometry",
    "draw_constraint",
    "plot_phase",
    "describe_run",
    "figure_simulation",
    "COLUMN_WIDTH_IN",
    "OKABE_ITO",
    "PALETTE",
    "PAPER_RC",
    "TEXT_WIDTH_IN",
    "new_figure",
    "place_legend",
    "paper_style",
    "save_figure",
    "save_png_and_pdf",
    "plot_trajectory_2d",
    "square_limits",
    "plot_radius",
    "plot_weight_histograms",
]
