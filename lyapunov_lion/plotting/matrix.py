"""Panel (a) of a matrix run (`lionk simulate --K nuclear`): the singular values of X(t)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from matplotlib.axes import Axes

from .style import place_legend

__all__ = ["singular_value_panel"]


def singular_value_panel(
    runs: dict[str, tuple[np.ndarray, np.ndarray]],
    shape: tuple[int, int],
    lam: float,
    sigma_opt=None,
    time_label: str = "time t",
) -> Callable[[Axes], None]:
    """A drawer for `figure_simulation`'s ``trajectory_panel``: σ_i(X(t)) for every run
    (``runs``: label → (t (T,), x (T, a·b) row-major vec X)), the bound 1/λ on ‖X‖_op = σ_1 of the
    nuclear K's constraint, and the singular values of the optimum X* at the right edge."""

    def draw(ax: Axes) -> None:
        styles = ("-", "--", ":")
        handles = []
        for k, (label, (t, x)) in enumerate(runs.items()):
            X = np.asarray(x, dtype=float).reshape((-1,) + tuple(shape))
            sv = np.linalg.svd(X, compute_uv=False)  # (T, min(a, b)), descending
            for i in range(sv.shape[1]):
                (h,) = ax.plot(t, sv[:, i], styles[k % 3], color=f"C{i % 10}", lw=1.0, label=label)
                if i == 0:
                    handles.append(h)
        bound = ax.axhline(1.0 / lam, color="k", lw=0.8, ls="-.", label=f"1/λ = {1 / lam:.3g}")
        handles.append(bound)
        if sigma_opt is not None:
            t_end = max(float(np.asarray(t)[-1]) for t, _ in runs.values())
            (h,) = ax.plot(
                np.full(len(sigma_opt), t_end), sigma_opt, "k>", ms=4, ls="none", label="σ(X*)"
            )
            handles.append(h)
        ax.set_xlabel(time_label)
        ax.set_ylabel("singular values σ_i(X)")
        ax.set_title("(a) singular values")
        place_legend(ax, handles=handles, loc="below")

    return draw
