"""The set a Lion-K run is confined to, drawn in the (x₁, x₂) plane.

With weight decay λ > 0, Lion-K drives λx into dom K* (spec §4, Phase 1), so the iterates end in
``C_λ = {x : λx ∈ dom K*} = (1/λ)·dom K*``. `constraint_geometry` describes the boundary of C_λ
(or of its projection onto the first two coordinates when d > 2) and `draw_constraint` draws it:

=================================================  ==============================================
K                                                  boundary of C_λ drawn
=================================================  ==============================================
separable K with dom k* = [lo, hi] (l1, huber,     the rectangle [lo/λ, hi/λ]²  (huber: ±δ/λ)
relativistic, logcosh, deadzone, user SeparableK)
l2                                                 the circle ‖x‖₂ = 1/λ
linf                                               the diamond ‖x‖₁ = 1/λ (exact 4 corners)
lp, any other norm (NormBallK)                     the dual-norm sphere: for each direction u, the
                                                   point u / (λ‖u‖_*) (exact on 720 rays)
logsumexp                                          the segment {x ≥ 0, x₁ + x₂ = 1/λ} (d = 2);
                                                   the triangle {x ≥ 0, x₁ + x₂ ≤ 1/λ} (d > 2)
K* finite everywhere (sq_l2, power_p, l1_plus_sq)  nothing: "no hard constraint (regulariser …)"
any other K                                        the level set dist(λx, dom K*) = λh/4 on a grid
                                                   of spacing h: APPROXIMATE, within one grid cell
=================================================  ==============================================

For d > 2 the shapes above are the exact projections of C_λ onto (x₁, x₂) for the boxes, the
ℓq balls (the projection of {‖x‖_q ≤ r} onto two coordinates is the 2-D ℓq ball of radius r) and
the simplex; for a user norm or the grid fallback they are the section x₃ = … = x_d = 0.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.catalog import L2, Linf, LogSumExp, Lp
from ..core.kfunc import DOMAIN_TOL, KFunction, NormBallK, SeparableK
from ..errors import LionKError

N_RAYS = 720
LEGEND_WIDTH = 40  # characters per line of a legend label that names an induced term
"""Rays of the dual-norm sphere; a multiple of 8 so the axes and diagonals are sampled exactly."""
FALLBACK_GRID = 301
"""Grid points per axis of the approximate (contour) fallback."""


@dataclass
class ConstraintShape:
    """The boundary of C_λ = (1/λ)·dom K* in the plane.

    ``kind``: ``"polygon"`` (closed, ``vertices`` (n, 2) in order), ``"segment"`` (``vertices``
    (2, 2)), ``"implicit"`` (zero set of ``field`` on the grid ``grid_x``, ``grid_y``, drawn at
    ``level``), or ``"none"`` (nothing to draw). ``label`` is the legend text, ``exact`` says
    whether the drawn curve is exact.
    """

    kind: str
    label: str
    vertices: np.ndarray | None = None
    exact: bool = True
    grid_x: np.ndarray | None = None
    grid_y: np.ndarray | None = None
    field: np.ndarray | None = None
    level: float = 0.0
    extent: tuple[float, float, float, float] | None = None

    def bounds(self) -> tuple[float, float, float, float] | None:
        """(xmin, xmax, ymin, ymax) of the drawn curve, or None when nothing is drawn."""
        if self.vertices is not None:
            v = self.vertices
            return (
                float(v[:, 0].min()),
                float(v[:, 0].max()),
                float(v[:, 1].min()),
                float(v[:, 1].max()),
            )
        if (
            self.kind == "implicit"
            and self.field is not None
            and self.grid_x is not None
            and self.grid_y is not None
        ):
            near = self.field <= self.level
            if np.any(near):
                xs, ys = self.grid_x[near], self.grid_y[near]
                return float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())
        return None


def _legend_label(K: KFunction, lam: float) -> str:
    """``K.describe_induced(lam)`` (``λx ∈ dom K*`` if K has no text), one line per extra term."""
    text = K.describe_induced(lam) or f"λx ∈ dom K*, λ = {lam:g}"
    return text.replace(" and ", "\nand ")


def _square(lo: float, hi: float) -> np.ndarray:
    return np.array([[lo, lo], [hi, lo], [hi, hi], [lo, hi]], dtype=float)


def _rays() -> np.ndarray:
    theta = np.arange(N_RAYS) * (2 * np.pi / N_RAYS)
    u = np.stack([np.cos(theta), np.sin(theta)], axis=-1)
    u[np.abs(u) < 1e-15] = 0.0  # cos(π/2) = 6e-17 → exact zeros on the axes
    return u


def _pad(u: np.ndarray, dim: int) -> np.ndarray:
    """Embed 2-D points into R^dim with x₃ = … = 0."""
    if dim == 2:
        return u
    return np.concatenate([u, np.zeros(u.shape[:-1] + (dim - 2,))], axis=-1)


def constraint_geometry(
    K: KFunction,
    lam: float,
    *,
    dim: int = 2,
    extent: tuple[float, float, float, float] | None = None,
) -> ConstraintShape:
    """The boundary of C_λ = {x : λx ∈ dom K*} in (x₁, x₂) for a run in R^dim (table above).

    ``extent`` = (xmin, xmax, ymin, ymax) is only used by the grid fallback (default: the square
    [−3/λ, 3/λ]²).
    """
    lam = float(lam)
    if not np.isfinite(lam) or lam < 0:
        raise LionKError(f"lam={lam!r}: the weight decay must be a finite number ≥ 0")
    if dim < 2:
        raise LionKError(f"a 2-D constraint plot needs runs of dimension ≥ 2, got {dim}")
    if lam == 0:
        return ConstraintShape("none", K.describe_induced(lam))
    r = 1.0 / lam
    if K.event_ndim != 1:
        return ConstraintShape("none", f"{K.describe_induced(lam)} (matrix K: not drawn in 2-D)")
    if K.induced_kind == "regularizer":
        return ConstraintShape(
            "none", f"no hard constraint (regulariser {K.describe_induced(lam)})"
        )
    label = _legend_label(K, lam)
    if isinstance(K, SeparableK):
        lo, hi = K.dom_bounds()
        if np.isfinite(lo) and np.isfinite(hi):
            return ConstraintShape("polygon", label, _square(lo * r, hi * r))
        if not (np.isfinite(lo) or np.isfinite(hi)):
            return ConstraintShape(
                "none", f"no hard constraint (regulariser {K.describe_induced(lam)})"
            )
    if isinstance(K, Linf):
        return ConstraintShape(
            "polygon", label, np.array([[r, 0.0], [0.0, r], [-r, 0.0], [0.0, -r]])
        )
    if isinstance(K, LogSumExp):
        if dim == 2:
            return ConstraintShape("segment", label, np.array([[r, 0.0], [0.0, r]]))
        return ConstraintShape(
            "polygon",
            label + "\n(projection on x₁, x₂)",
            np.array([[0.0, 0.0], [r, 0.0], [0.0, r]]),
        )
    if isinstance(K, NormBallK):
        u = _rays()
        norms = np.asarray(K.dual_norm(_pad(u, dim)), dtype=float)
        if not np.all(np.isfinite(norms) & (norms > 0)):
            raise LionKError(
                f"K={K.name}: dual_norm is not a positive finite number on the unit circle"
            )
        if not isinstance(K, (L2, Lp)) and dim > 2:
            label += "\n(section x₃ = … = 0)"
        return ConstraintShape("polygon", label, u / (lam * norms[:, None]))
    return _grid_fallback(K, lam, dim, extent, label)


def _grid_fallback(K: KFunction, lam: float, dim: int, extent, label: str) -> ConstraintShape:
    """Level set dist(λx, dom K*) = λh/4 on a grid of spacing h.

    Where dist grows linearly across ∂C_λ, linear interpolation between a node inside (value 0)
    and one outside puts the level-λh/4 crossing between 0 and h/4 *outside* the true boundary
    (for any position of the boundary in the cell); curvature and corners add O(h) errors, so
    the documented accuracy is one grid cell.
    """
    r = 1.0 / lam
    xmin, xmax, ymin, ymax = extent if extent is not None else (-3 * r, 3 * r, -3 * r, 3 * r)
    gx, gy = np.meshgrid(
        np.linspace(xmin, xmax, FALLBACK_GRID), np.linspace(ymin, ymax, FALLBACK_GRID)
    )
    pts = _pad(np.stack([gx, gy], axis=-1), dim)
    dist = np.asarray(K.dist_dom_conj(lam * pts), dtype=float)
    if dist.shape != gx.shape:
        raise LionKError(
            f"K={K.name}: dist_dom_conj returned shape {dist.shape} for points of shape "
            f"{pts.shape}; it must reduce over the last axis"
        )
    if not np.all(np.isfinite(dist)):
        raise LionKError(f"K={K.name}: dist_dom_conj is not finite on the plotting grid")
    if np.all(dist <= DOMAIN_TOL):
        return ConstraintShape("none", f"no hard constraint in view ({K.describe_induced(lam)})")
    h = max((xmax - xmin), (ymax - ymin)) / (FALLBACK_GRID - 1)
    if dim > 2:
        label += "\n(section x₃ = … = 0)"
    return ConstraintShape(
        "implicit",
        label + " (approx.)",
        exact=False,
        grid_x=gx,
        grid_y=gy,
        field=dist,
        level=lam * h / 4,
        extent=(xmin, xmax, ymin, ymax),
    )


def draw_constraint(
    ax,
    K: KFunction,
    lam: float,
    *,
    dim: int = 2,
    extent: tuple[float, float, float, float] | None = None,
    fill: bool = True,
    **style,
) -> str:
    """Draw the boundary of C_λ = {x : λx ∈ dom K*} on ``ax``; return its legend label.

    The label is ``K.describe_induced(lam)`` (e.g. ``‖x‖_∞ ≤ 2/3`` for Lion at λ = 1.5), or
    ``no hard constraint (regulariser …)`` when K* is finite everywhere. ``style`` goes to the
    matplotlib artist (default: black dashed line, feasible set lightly shaded when ``fill``).
    Drawn artists carry ``gid="constraint"``. The grid fallback for an unknown K is approximate
    (see `constraint_geometry`).
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Polygon

    shape = constraint_geometry(K, lam, dim=dim, extent=extent)
    line: dict[str, Any] = {"color": "black", "linestyle": "--", "linewidth": 1.0, "zorder": 4.5}
    line.update(style)
    if shape.kind == "polygon":
        assert shape.vertices is not None  # a polygon has its vertices
        ax.add_patch(
            Polygon(
                shape.vertices, closed=True, fill=False, label=shape.label, gid="constraint", **line
            )
        )
        if fill:
            ax.add_patch(
                Polygon(
                    shape.vertices,
                    closed=True,
                    facecolor=line["color"],
                    alpha=0.06,
                    edgecolor="none",
                    zorder=1,
                    gid="constraint-fill",
                )
            )
    elif shape.kind == "segment":
        assert shape.vertices is not None  # a segment has its two end points
        ax.add_line(
            Line2D(
                shape.vertices[:, 0],
                shape.vertices[:, 1],
                label=shape.label,
                gid="constraint",
                **line,
            )
        )
    elif shape.kind == "implicit":
        cs = ax.contour(
            shape.grid_x,
            shape.grid_y,
            shape.field,
            levels=[shape.level],
            colors=[line["color"]],
            linestyles=[line["linestyle"]],
            linewidths=[line["linewidth"]],
            zorder=line["zorder"],
        )
        cs.set_gid("constraint")
        ax.add_line(Line2D([], [], label=shape.label, **line))  # legend proxy for the contour
    else:  # no set drawn: the label states the induced term, wrapped to a legend's width
        wrapped = textwrap.fill(shape.label, LEGEND_WIDTH, break_long_words=False)
        ax.add_line(Line2D([], [], linestyle="none", label=wrapped, gid="constraint"))
    ax.autoscale_view()
    return shape.label
