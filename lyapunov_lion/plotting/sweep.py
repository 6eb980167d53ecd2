"""λ-sweep plots: converged loss of Lion-K against the weight decay λ, with the exact curve."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .style import PALETTE, TEXT_WIDTH_IN, new_figure, paper_style, save_figure


def plot_lambda_sweep(
    ax,
    lams,
    loss,
    *,
    exact: Callable | np.ndarray | None = None,
    exact_label: str = "exact f(x*(λ))",
    run_label: str = "Lion-K runs",
    markers: Sequence[tuple[float, str, dict]] = (),
    log: bool = False,
    legend_loc: str = "best",
):
    """Converged loss (points) against λ; ``exact`` as a line (a callable of λ, drawn on a fine
    grid, or values on ``lams``); ``markers`` are vertical lines (λ, label, line style kwargs).
    With ``log`` the y axis is logarithmic (non-positive values are not drawn)."""
    lams, loss = np.asarray(lams, dtype=float), np.asarray(loss, dtype=float)
    if exact is not None:
        if callable(exact):
            fine = np.linspace(lams.min(), lams.max(), 2000)
            ax.plot(fine, exact(fine), color="black", lw=1.0, label=exact_label)
        else:
            ax.plot(lams, np.asarray(exact, dtype=float), color="black", lw=1.0, label=exact_label)
    ax.plot(lams, loss, "o", color=PALETTE[0], ms=2.2, mew=0, label=run_label)
    for k, (lam, label, style) in enumerate(markers):
        ax.axvline(
            lam,
            **({"color": PALETTE[(k + 1) % len(PALETTE)], "lw": 1.0} | dict(style)),
            label=label,
        )
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("weight decay λ")
    ax.set_ylabel("converged loss")
    ax.legend(loc=legend_loc, fontsize=6)
    return ax


def figure_lambda_sweep(result, title: str = "") -> Figure:
    """Two panels for a `lyapunov_lion.sweep.SweepResult`: converged loss and exact curve against
    λ (linear), and |converged − exact| (log) to show how well the runs solve each problem."""
    with paper_style():
        fig = new_figure(TEXT_WIDTH_IN, 3.0)
        a, b = fig.subplots(1, 2)
        n = result.lams.size
        plot_lambda_sweep(
            a,
            result.lams,
            result.loss,
            exact=result.exact_loss,
            run_label=f"Lion-K, {n} λ in one batch",
        )
        a.set_title("(a) converged loss against λ")
        err = np.abs(result.loss - result.exact_loss)
        b.plot(
            result.lams,
            np.where(err > 0, err, np.nan),
            "o",
            color=PALETTE[1],
            ms=2.2,
            mew=0,
            label="|converged − exact|",
        )
        b.set_yscale("log")
        b.set_xlabel("weight decay λ")
        b.set_ylabel("|converged loss − f(x*(λ))|")
        b.set_title("(b) distance to the exact curve")
        b.legend(loc="best", fontsize=6)
        s = result.settings
        info = result.K.info()
        fig.suptitle(
            (title + "\n" if title else "")
            + f"λ sweep of Lion-K with K = {info['K']} ({result.K.name}) on "
            f"f(x) = {result.objective.formula}\nit solves min f {info['induced']}\n"
            f"η = {s['lr']:g}, β = ({s['beta1']:g}, {s['beta2']:g}), {s['decay']} decay, "
            f"{s['steps']} + {s['window']} steps (loss averaged over the last "
            f"{s['window']})"
        )
    return fig


def plot_sweep_report(result, path: str | Path) -> Path:
    """Draw `figure_lambda_sweep` and save it (PNG or PDF)."""
    return save_figure(figure_lambda_sweep(result), path)
