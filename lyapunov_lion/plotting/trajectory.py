"""Trajectories in the (x₁, x₂) plane over the level sets of f and the constraint set."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ..core.kfunc import KFunction
from ..errors import LionKError
from ._series import coord_label
from .constraint import constraint_geometry, draw_constraint
from .style import OKABE_ITO, PALETTE, place_legend

MARGIN = 0.08
"""Fraction of the content's extent added on each side of the automatic limits."""


def _as_paths(paths) -> dict[str, np.ndarray]:
    if not isinstance(paths, Mapping):
        paths = {"Lion-K": paths}
    out: dict[str, np.ndarray] = {}
    dims = set()
    for label, p in paths.items():
        a = np.asarray(p, dtype=float)
        if a.ndim != 2 or a.shape[1] < 2 or a.shape[0] < 1:
            raise LionKError(
                f"path {label!r} has shape {a.shape}; expected (T, d) with T ≥ 1, d ≥ 2"
            )
        dims.add(a.shape[1])
        out[str(label)] = a
    if len(dims) > 1:
        raise LionKError(f"all paths must have the same dimension, got {sorted(dims)}")
    return out


def _union(boxes) -> tuple[float, float, float, float] | None:
    boxes = [b for b in boxes if b is not None]
    if not boxes:
        return None
    b = np.asarray(boxes, dtype=float)
    return float(b[:, 0].min()), float(b[:, 1].max()), float(b[:, 2].min()), float(b[:, 3].max())


def _points_box(pts: np.ndarray) -> tuple[float, float, float, float] | None:
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if pts.size == 0:
        return None
    return (
        float(pts[:, 0].min()),
        float(pts[:, 0].max()),
        float(pts[:, 1].min()),
        float(pts[:, 1].max()),
    )


def square_limits(
    box: tuple[float, float, float, float] | None, margin: float = MARGIN
) -> tuple[float, float, float, float]:
    """Square limits centred on ``box`` = (xmin, xmax, ymin, ymax), widened by ``margin`` per
    side."""
    if box is None:
        return -1.0, 1.0, -1.0, 1.0
    xmin, xmax, ymin, ymax = box
    half = 0.5 * max(xmax - xmin, ymax - ymin)
    if half <= 0:
        half = max(1.0, abs(xmin), abs(ymin)) * 0.5
    half *= 1 + 2 * margin
    cx, cy = 0.5 * (xmin + xmax), 0.5 * (ymin + ymax)
    return cx - half, cx + half, cy - half, cy + half


def _level_sets(ax, f: Callable, limits, dim: int, slice_point, n: int, levels: int) -> str | None:
    """Shade f on an n × n grid of ``limits`` (quantile-spaced levels); returns the legend text."""
    xmin, xmax, ymin, ymax = limits
    gx, gy = np.meshgrid(np.linspace(xmin, xmax, n), np.linspace(ymin, ymax, n))
    pts = np.stack([gx, gy], axis=-1)
    if dim > 2:
        rest = np.broadcast_to(np.asarray(slice_point, dtype=float)[2:], gx.shape + (dim - 2,))
        pts = np.concatenate([pts, rest], axis=-1)
    z = np.asarray(f(pts), dtype=float)
    if z.shape != gx.shape:
        raise LionKError(
            f"f returned shape {z.shape} for points of shape {pts.shape}; it must map "
            "(..., d) arrays to (...) values"
        )
    finite = np.isfinite(z)
    if not np.any(finite):
        return "f is not finite anywhere in view"
    # quantile levels: equal areas between consecutive level sets, so both the basin and the
    # far field show structure whatever the scale of f
    lv = np.unique(np.quantile(z[finite], np.linspace(0.0, 1.0, levels + 1)))
    if lv.size < 2:
        return f"f constant in view (= {lv[0]:.4g})"
    zm = np.ma.masked_invalid(z)
    ax.contourf(gx, gy, zm, levels=lv, cmap="Greys", alpha=0.45, zorder=0, antialiased=True)
    ax.contour(gx, gy, zm, levels=lv, colors="0.45", linewidths=0.35, zorder=0.5)
    note = "" if np.all(finite) else ", blank where not finite"
    where = "" if dim == 2 else " (2-D slice)"
    return f"level sets of f{where}{note}"


def plot_trajectory_2d(
    ax,
    paths,
    f: Callable | None = None,
    K: KFunction | None = None,
    lam: float | None = None,
    optimum=None,
    title: str | None = None,
    *,
    levels: int = 14,
    grid: int = 201,
    max_points: int = 20_000,
    legend: bool = True,
    legend_loc: str = "best",
):
    """Plot paths in the (x₁, x₂) plane; returns ``ax``.

    - ``paths``: mapping label → array (T, d), d ≥ 2 (or one array). For d > 2 the first two
      coordinates are plotted (the axis labels say so), the constraint drawn is its projection
      on (x₁, x₂) (see `constraint_geometry`), and f is shaded on the slice through ``optimum``
      (if it has d entries) or else through the last finite point of the first path.
    - ``f``: batched callable, (..., d) → (...); its level sets are shaded (``levels`` bands at
      quantiles of f over a ``grid × grid`` raster; darker = larger f).
    - ``K``, ``lam``: draw the boundary of {x : λx ∈ dom K*} (`draw_constraint`).
    - ``optimum``: a point drawn as a star.

    Each path starts at a circle and ends at a square (first / last finite point); non-finite
    points are not drawn and the legend says from which row of the path. Paths longer than
    ``max_points`` are thinned evenly (keeping both ends). Limits are square, equal aspect, and
    contain the paths, the constraint and the optimum with an 8 % margin. ``legend_loc`` is a
    matplotlib location or ``"below"`` (under the axes, two columns).
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    P = _as_paths(paths)
    dim = next(iter(P.values())).shape[1]
    if (K is None) != (lam is None):
        raise LionKError("draw the constraint with both K and lam (or neither)")
    opt = None if optimum is None else np.asarray(optimum, dtype=float).ravel()
    if opt is not None and opt.size not in (2, dim):
        raise LionKError(f"optimum has {opt.size} entries; expected 2 or {dim}")

    boxes = [_points_box(p[:, :2]) for p in P.values()]
    if opt is not None:
        boxes.append(_points_box(opt[None, :2]))
    content = _union(boxes)
    shape = None
    if K is not None and lam is not None:
        r = 1.0 / lam if lam > 0 else 1.0
        ext = square_limits(_union([content, (-2 * r, 2 * r, -2 * r, 2 * r)]), margin=0.0)
        shape = constraint_geometry(K, lam, dim=dim, extent=ext)
        content = _union([content, shape.bounds()])
    limits = square_limits(content)

    handles_extra = []
    if f is not None:
        slice_point = opt if (opt is not None and opt.size == dim) else None
        if slice_point is None and dim > 2:
            first = next(iter(P.values()))
            ok = first[np.all(np.isfinite(first), axis=1)]
            slice_point = ok[-1] if len(ok) else np.zeros(dim)
        text = _level_sets(ax, f, limits, dim, slice_point, grid, levels)
        if text:
            handles_extra.append(
                Patch(facecolor="0.75", edgecolor="0.45", linewidth=0.35, label=text)
            )
    if K is not None and lam is not None and shape is not None:
        draw_constraint(
            ax, K, lam, dim=dim, extent=shape.extent if shape.kind == "implicit" else None
        )

    for i, (label, p) in enumerate(P.items()):
        color = PALETTE[i % len(PALETTE)]
        finite = np.all(np.isfinite(p), axis=1)
        shown = label
        if not np.all(finite):
            bad = int(np.argmin(finite))
            shown = f"{label} (non-finite from point {bad})"
        q = p[finite, :2]
        if len(q) > max_points:
            idx = np.unique(np.linspace(0, len(q) - 1, max_points).round().astype(int))
            q = q[idx]
        if len(q) == 0:
            ax.add_line(Line2D([], [], color=color, label=f"{label} (no finite point)"))
            continue
        ax.plot(q[:, 0], q[:, 1], color=color, linewidth=0.9, alpha=0.9, label=shown, zorder=4)
        ax.plot(
            q[0, 0],
            q[0, 1],
            "o",
            color=color,
            markeredgecolor="white",
            markeredgewidth=0.6,
            markersize=5.5,
            zorder=5,
        )
        ax.plot(
            q[-1, 0],
            q[-1, 1],
            "s",
            color=color,
            markeredgecolor="black",
            markeredgewidth=0.6,
            markersize=5,
            zorder=6,
        )
    if opt is not None:
        ax.plot(
            opt[0],
            opt[1],
            "*",
            color=OKABE_ITO["yellow"],
            markeredgecolor="black",
            markeredgewidth=0.7,
            markersize=10,
            zorder=5.5,
            label="optimum",
        )

    ax.set_xlim(limits[0], limits[1])
    ax.set_ylim(limits[2], limits[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(coord_label(0, dim))
    ax.set_ylabel(coord_label(1, dim))
    if title:
        ax.set_title(title)
    if legend:
        h, _ = ax.get_legend_handles_labels()
        markers = [
            Line2D(
                [],
                [],
                marker="o",
                linestyle="none",
                color="0.35",
                markeredgecolor="white",
                label="start",
            ),
            Line2D(
                [],
                [],
                marker="s",
                linestyle="none",
                color="0.35",
                markeredgecolor="black",
                label="end",
            ),
        ]
        place_legend(
            ax, h + markers + handles_extra, legend_loc, ncols=2 if legend_loc == "below" else 1
        )
    return ax
