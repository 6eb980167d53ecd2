"""Grid views: a metric against λ, one line per series (e.g. per K), seeds as spread."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..errors import LionKError
from .style import PALETTE, TEXT_WIDTH_IN, new_figure, paper_style, save_figure

_STYLES = ("-", "--", ":", "-.")  # series that coincide (same optimum) stay visible


def figure_metric_vs_lambda(
    series: dict[str, dict[float, list[float]]],
    metric: str,
    *,
    title: str,
    xlabel: str = "weight decay λ",
    log: bool = False,
) -> Figure:
    """``series``: label → {λ: values over seeds}. Each series: the mean over seeds as a line
    (its own colour and dash pattern), the min–max band over seeds, every seed's value as a dot."""
    if not series:
        raise LionKError(f"no finished cell has a numeric metric {metric!r} to plot")
    with paper_style():
        fig = new_figure(TEXT_WIDTH_IN * 0.75, 3.6)
        ax = fig.subplots()
        seeds = max(len(v) for s in series.values() for v in s.values())
        for k, (label, points) in enumerate(sorted(series.items())):
            color, style = PALETTE[k % len(PALETTE)], _STYLES[k % len(_STYLES)]
            lams = np.array(sorted(points))
            vals = [np.asarray(points[lam], dtype=float) for lam in lams]
            mean = np.array([v.mean() for v in vals])
            ax.plot(lams, mean, style, color=color, lw=1.3, label=label)
            if seeds > 1:
                ax.fill_between(
                    lams,
                    [v.min() for v in vals],
                    [v.max() for v in vals],
                    color=color,
                    alpha=0.2,
                    lw=0,
                )
                xs = np.concatenate(
                    [np.full(v.size, lam) for lam, v in zip(lams, vals, strict=True)]
                )
                ax.plot(xs, np.concatenate(vals), ".", color=color, ms=2.0, alpha=0.6)
        if log:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(metric)
        ax.legend(
            loc="best",
            fontsize=6.5,
            title=(f"line: mean over {seeds} seeds, band: min–max" if seeds > 1 else None),
            title_fontsize=6.5,
        )
        fig.suptitle(title)
    return fig


def plot_grid_metric(series, metric: str, path: str | Path, **kw) -> Path:
    """Draw `figure_metric_vs_lambda` and save it (PNG or PDF)."""
    return save_figure(figure_metric_vs_lambda(series, metric, **kw), path)
