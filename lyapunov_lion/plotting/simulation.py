"""The one-figure summary of a simulation: trajectory, Phase 1 distance, Lyapunov descent."""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..core.kfunc import KFunction
from .phase import plot_phase
from .style import TEXT_WIDTH_IN, new_figure, paper_style
from .trajectory import plot_trajectory_2d


def describe_run(K: KFunction | None, lam: float | None) -> str:
    """``Lion-K with K = ‖x‖₁ (l1), λ = 1.5: min f s.t. ‖x‖_∞ ≤ 2/3`` (or ``""`` without K)."""
    if K is None or lam is None:
        return ""
    info = K.info()
    induced = K.describe_induced(lam)
    goal = (
        ("min f, " + induced)
        if info["induced_kind"] == "regularizer" or lam <= 0
        else "min f s.t. " + induced
    )
    return f"Lion-K with K = {info['K']} ({K.name}), λ = {lam:g}: {goal}"


def figure_simulation(
    paths,
    t,
    dist,
    bound,
    f_t,
    H_t,
    *,
    f: Callable | None = None,
    K: KFunction | None = None,
    lam: float | None = None,
    optimum=None,
    phase1_exit=None,
    title: str = "",
    F_t=None,
    time_label: str = "step t",
    bound_label: str = "Phase-1 bound",
    trajectory_panel: Callable[[Axes], None] | None = None,
    width: float = TEXT_WIDTH_IN,
    height: float = 2.9,
) -> Figure:
    """Three panels in the house style (`paper_style`), returned as a display-free ``Figure``:

    (a) `plot_trajectory_2d` (paths over the level sets of ``f``, the constraint set of ``K`` at
        ``lam``, the ``optimum``); paths of dimension d > 2 show their first two coordinates;
    (b) dist(λx_t, dom K*) on a log axis with its Phase-1 ``bound`` (`plot_phase`);
    (c) ``f_t``, ``H_t`` (and ``F_t``) against ``t``, the ``phase1_exit`` marked.

    The suptitle is ``title`` followed by `describe_run` (which K, which λ, which problem).
    ``dist``, ``bound``, ``f_t``, ``H_t``, ``F_t`` are arrays (T,) or mappings label → (T,); with
    several runs give them in the order of ``paths``: colours are assigned by position and keyed
    once, in panel (a). Legends sit under the panels. Save it with `save_figure`.
    ``trajectory_panel``: draws panel (a) instead (e.g. the singular values of a matrix run,
    `plotting.matrix.singular_value_panel`).
    """
    with paper_style():
        fig = new_figure(width, height)
        axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.0, 1.0, 1.0]})
        if trajectory_panel is not None:
            trajectory_panel(axes[0])
        else:
            plot_trajectory_2d(
                axes[0],
                paths,
                f=f,
                K=K,
                lam=lam,
                optimum=optimum,
                title="(a) trajectory",
                legend_loc="below",
            )
        plot_phase(
            axes[1],
            axes[2],
            t,
            dist,
            bound,
            f_t,
            H_t,
            F=F_t,
            phase1_exit=phase1_exit,
            time_label=time_label,
            bound_label=bound_label,
            legend_loc="below",
            run_key=False,
        )
        axes[1].set_title("(b) Phase 1: reaching λx ∈ dom K*")
        axes[2].set_title("(c) Phase 2: Lyapunov descent")
        lines = [s for s in (title, describe_run(K, lam)) if s]
        if lines:
            fig.suptitle("\n".join(lines))
    return fig
