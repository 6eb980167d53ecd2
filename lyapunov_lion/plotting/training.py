"""Figures of a network trained with LionK, from a `LionKMonitor` history (plain arrays).

- `plot_weight_histograms`: per tensor, the histogram of its entries at a few recorded steps,
  with the box ±bound (1/λ for l1) marked — in the manner of the paper's weight-histogram
  figures (needs a monitor built with ``bins > 0``).
- `plot_radius`: λ·radius against the step (the constraint is λ·radius ≤ 1) and
  dist(λx, dom K*) on a log axis with each tensor's phase-1 bound dist₀(1 − ηλ)^t.
"""

from __future__ import annotations

import numpy as np

from ..errors import LionKError
from .style import PALETTE, TEXT_WIDTH_IN, new_figure, paper_style, place_legend


def _tensors(history: dict, names) -> list[dict]:
    tensors = history["tensors"]
    if names is None:
        return tensors
    chosen = [t for t in tensors if t["name"] in names]
    if not chosen:
        raise LionKError(
            f"no tensor named {', '.join(names)}; the history has "
            f"{', '.join(t['name'] for t in tensors)}"
        )
    return chosen


def plot_weight_histograms(history: dict, names=None, n_steps: int = 4, title: str | None = None):
    """One panel per tensor: entry histograms (fraction of entries per bin) at ``n_steps``
    recorded steps evenly spread from the first to the last, ±bound as dashed lines."""
    tensors = [t for t in _tensors(history, names) if "hist" in t]
    if not tensors:
        raise LionKError("the history has no histograms: build LionKMonitor(..., bins=41)")
    steps = np.asarray(history["steps"])
    idx = np.unique(np.linspace(0, len(steps) - 1, n_steps).round().astype(int))
    ncols = min(len(tensors), 4)
    nrows = -(-len(tensors) // ncols)
    with paper_style():
        fig = new_figure(TEXT_WIDTH_IN, 1.9 * nrows + 0.4)
        axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
        # nrows·ncols ≥ len(tensors): the grid may have spare axes, so zip stops at the tensors
        for ax, t in zip(axes, tensors, strict=False):
            edges, hist = np.asarray(t["edges"]), np.asarray(t["hist"], dtype=float)
            for j, i in enumerate(idx):
                frac = hist[i] / max(hist[i].sum(), 1)
                ax.stairs(frac, edges, color=PALETTE[j % len(PALETTE)], label=f"step {steps[i]}")
            if np.isfinite(t["bound"]):
                for s in (-1, 1):
                    ax.axvline(
                        s * t["bound"],
                        color="black",
                        ls="--",
                        lw=0.8,
                        label="±1/λ" if s > 0 else None,
                    )
            ax.set_yscale("log")
            ax.set_title(f"{t['name']} ({'×'.join(map(str, t['shape']))}), K = {t['K']}")
            ax.set_xlabel("weight value")
            ax.set_ylabel("fraction of entries")
        for ax in axes[len(tensors) :]:
            ax.set_visible(False)
        place_legend(axes[0], loc="best")
        lam = tensors[0]["lam"]
        fig.suptitle(
            title
            or f"Weight histograms during Lion-K training (λ = {lam:g}, box "
            f"±{1 / lam:.3g} dashed): entries are driven into the box and pile "
            "up on its edges"
            if lam > 0
            else "Weight histograms during training"
        )
    return fig


def plot_radius(history: dict, names=None, title: str | None = None):
    """Two panels: λ·radius vs step (constraint at 1), and dist(λx, dom K*) vs step (log) with
    the phase-1 bound dist₀·(1 − ηλ)^t of each tensor dashed and its measured entry marked."""
    tensors = _tensors(history, names)
    steps = np.asarray(history["steps"])
    with paper_style():
        fig = new_figure(TEXT_WIDTH_IN, 2.6)
        ax_r, ax_d = fig.subplots(1, 2)
        for j, t in enumerate(tensors):
            color = PALETTE[j % len(PALETTE)]
            lam = t["lam"]
            scale = lam if lam > 0 else 1.0
            ax_r.plot(steps, scale * np.asarray(t["radius"]), color=color, label=t["name"])
            dist = np.asarray(t["dist"])
            pos = dist > 0
            ax_d.plot(steps[pos], dist[pos], color=color, label=t["name"])
            if lam > 0 and t["dist0"] > 0:
                bound = t["dist0"] * (1 - t["lr"] * lam) ** steps
                ax_d.plot(steps, bound, color=color, ls="--", lw=0.8)
            if t["entry"] > 0:
                ax_d.axvline(t["entry"], color=color, ls=":", lw=0.8)
                ax_d.axvline(t["phase1_bound"], color=color, ls="-.", lw=0.6)
            ax_d.axhline(t["tol"], color=color, lw=0.4, alpha=0.5)
        ax_r.axhline(1.0, color="black", ls="--", lw=0.8, label="constraint λ·radius = 1")
        ax_r.set_xlabel("step")
        ax_r.set_ylabel("λ · radius (dual norm of x)")
        ax_r.set_title("radius of each tensor against the box 1/λ")
        ax_d.set_yscale("log")
        ax_d.set_xlabel("step")
        ax_d.set_ylabel("dist(λx, dom K*)")
        ax_d.set_title(
            "phase 1: distance (solid), bound dist₀(1−ηλ)ᵗ (dashed),\n"
            "entry (dotted), bound's entry step (dash-dot), tol (thin)"
        )
        place_legend(ax_r, loc="best")
        fig.suptitle(
            title
            or "Lion-K constraint during training: every tensor enters "
            "{λx ∈ dom K*} no later than the phase-1 bound and stays"
        )
    return fig
