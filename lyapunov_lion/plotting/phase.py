"""The two phases of a Lion-K run: distance to the constraint set, then Lyapunov descent.

Phase 1 (spec §4, §5): dist(λx_t, dom K*) ≤ bound_t, with bound_t = (1 − ηλ)^t dist_0
(explicit discrete decay), (1 + ηλ)^{−t} dist_0 (implicit) or e^{−λt} dist_0 (ODE).
Phase 2: once λx ∈ dom K*, H is non-increasing while f need not be.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.lines import Line2D

from ..errors import LionKError
from ._series import as_series, nonfinite_note
from .style import OKABE_ITO, PALETTE, place_legend

if TYPE_CHECKING:
    from matplotlib.typing import LineStyleType

DIST_LABEL = "dist(λx, dom K*)"
ENERGY_STYLES: dict[str, LineStyleType] = {"f": "-", "H": "--", "F": ":"}
ENERGY_WIDTHS = {"f": 1.0, "H": 1.3, "F": 1.1}
ENERGY_COLORS = {
    "f": OKABE_ITO["blue"],
    "H": OKABE_ITO["vermillion"],
    "F": OKABE_ITO["bluish_green"],
}
EXIT_STYLE: LineStyleType = "-."

DIST_FLOOR_FACTOR = 0.1
"""Zero distances are drawn at this fraction of the smallest positive distance or bound."""


def _phase_exit_dict(phase1_exit, labels):
    if phase1_exit is None:
        return {}
    if isinstance(phase1_exit, dict):
        return {str(k): v for k, v in phase1_exit.items() if v is not None}
    return {labels[0] if len(labels) == 1 else "": phase1_exit}


def _mark_exits(ax, exits: dict, colors: dict, time_label: str):
    for k, te in exits.items():
        lbl = (
            f"phase-1 exit ({(time_label.split() or ['t'])[-1]} = {te:g})"
            if len(exits) == 1
            else f"phase-1 exit of {k} ({te:g})"
        )
        ax.axvline(
            float(te),
            color=colors.get(k, "0.3"),
            linestyle=EXIT_STYLE,
            linewidth=1.0,
            zorder=1,
            label=lbl,
        )


def plot_phase(
    ax_dist,
    ax_energy,
    t,
    dist,
    bound,
    f,
    H,
    F=None,
    phase1_exit=None,
    time_label: str = "step t",
    *,
    bound_label: str = "Phase-1 bound",
    energy_log: bool | None = None,
    legend_loc: str = "best",
    run_key: bool = True,
):
    """Left: dist(λx_t, dom K*) on a log axis with its Phase-1 bound dashed; right: f, H (and F).

    - ``t``: times (T,). ``dist``, ``bound``, ``f``, ``H``, ``F``: arrays (T,) or mappings
      label → (T,) (several runs, one colour each). ``bound`` or ``F`` may be None.
    - Zero distances (the iterate is in dom K*) cannot be shown on a log axis: they are drawn as
      a dotted line at a floor = 0.1 × the smallest positive distance or bound, and the legend
      states that floor. Zero bound values are masked. Negative distances raise `LionKError`.
    - Non-finite values (H = +∞ while λx ∉ dom K* for an indicator K*) are masked; the legend
      counts them.
    - ``phase1_exit``: time (or mapping label → time) of the Phase-1 exit, a vertical dash-dot
      line on both panels.
    - Line styles: f solid, H dashed, F dotted; one run: one colour per quantity; several runs:
      one colour per run (keyed in the distance legend when ``run_key``, else by the caller, e.g.
      the trajectory panel), and the legends list the line styles only.
    - ``legend_loc``: a matplotlib location, or ``"below"`` (under the axes).
    - ``energy_log``: log scale for the energy panel; default: only if every finite value is
      positive and they span more than three decades.

    Returns ``(ax_dist, ax_energy)``.
    """
    t = np.asarray(t, dtype=float)
    if t.ndim != 1:
        raise LionKError(f"t has shape {t.shape}; expected (T,)")
    n = t.shape[0]
    D = as_series(dist, n, "dist")
    if D is None:
        raise LionKError("dist is required: an array (T,) or a mapping label → (T,)")
    labels = list(D)
    B = as_series(bound, n, "bound", labels)
    FF = as_series(f, n, "f", labels)
    HH = as_series(H, n, "H", labels)
    FL = as_series(F, n, "F", labels)
    colors = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(labels)}
    multi = len(labels) > 1

    def name(base, k):
        return f"{base} [{k}]" if multi else base

    # ---- left: distance to dom K* -------------------------------------------------------------
    for k, d in D.items():
        fin = d[np.isfinite(d)]
        if np.any(fin < 0):
            raise LionKError(
                f"dist[{k!r}] has negative values (min {fin.min():.3g}); a distance is ≥ 0"
            )
    parts = [v[np.isfinite(v) & (v > 0)] for v in list(D.values()) + list((B or {}).values())]
    positives = np.concatenate(parts) if parts else np.array([])
    floor = DIST_FLOOR_FACTOR * positives.min() if positives.size else 1e-16
    zero_label = f"dist = 0 (drawn at {floor:.0e})"
    any_zero = any_bound = False
    for k, d in D.items():
        c = colors[k]
        pos = np.where(np.isfinite(d) & (d > 0), d, np.nan)
        ax_dist.plot(t, pos, color=c, label=name(DIST_LABEL, k) + nonfinite_note(d))
        zero = np.isfinite(d) & (d == 0)
        if np.any(zero):
            any_zero = True
            ax_dist.plot(
                t,
                np.where(zero, floor, np.nan),
                color=c,
                linestyle=":",
                linewidth=1.4,
                label=name(zero_label, k),
            )
    if B is not None:
        for k, b in B.items():
            bb = np.where(np.isfinite(b) & (b > 0), b, np.nan)
            if np.any(np.isfinite(bb)):
                any_bound = True
                ax_dist.plot(
                    t,
                    bb,
                    color="black" if not multi else colors[k],
                    linestyle="--",
                    linewidth=0.9,
                    label=name(bound_label, k) + nonfinite_note(b),
                )
    ax_dist.set_yscale("log")
    ax_dist.set_xlabel(time_label)
    ax_dist.set_ylabel("distance of λx to dom K*")

    # ---- right: f, H, F -------------------------------------------------------------------------
    present = [
        (base, series) for base, series in (("f", FF), ("H", HH), ("F", FL)) if series is not None
    ]
    finite_vals = []
    for base, series in present:
        for k, v in series.items():
            c = colors[k] if multi else ENERGY_COLORS[base]
            vv = np.where(np.isfinite(v), v, np.nan)
            finite_vals.append(v[np.isfinite(v)])
            ax_energy.plot(
                t,
                vv,
                color=c,
                linestyle=ENERGY_STYLES[base],
                linewidth=ENERGY_WIDTHS[base],
                label=name(base, k) + nonfinite_note(v),
            )
    vals = np.concatenate(finite_vals) if finite_vals else np.array([])
    if energy_log is None:
        energy_log = bool(vals.size and np.all(vals > 0) and vals.max() / vals.min() > 1e3)
    if energy_log:
        if vals.size and np.any(vals <= 0):
            raise LionKError("energy_log=True but f, H or F has values ≤ 0")
        ax_energy.set_yscale("log")
    ax_energy.set_xlabel(time_label)
    ax_energy.set_ylabel("objective / Lyapunov value")

    exits = _phase_exit_dict(phase1_exit, labels)
    for ax in (ax_dist, ax_energy):
        _mark_exits(ax, exits, colors if multi else {}, time_label)
    if not multi:
        place_legend(ax_dist, loc=legend_loc)
        place_legend(ax_energy, loc=legend_loc)
        return ax_dist, ax_energy

    # several runs: colour = run (keyed once), line style = quantity (one grey proxy each)
    grey = "0.35"
    h_dist = [
        Line2D(
            [], [], color=grey, label=DIST_LABEL + nonfinite_note(np.concatenate(list(D.values())))
        )
    ]
    if any_zero:
        h_dist.append(Line2D([], [], color=grey, linestyle=":", linewidth=1.4, label=zero_label))
    if any_bound:
        h_dist.append(Line2D([], [], color=grey, linestyle="--", linewidth=0.9, label=bound_label))
    h_energy = [
        Line2D(
            [],
            [],
            color=grey,
            linestyle=ENERGY_STYLES[base],
            linewidth=ENERGY_WIDTHS[base],
            label=base + nonfinite_note(np.concatenate(list(series.values()))),
        )
        for base, series in present
    ]
    if exits:
        for h in (h_dist, h_energy):
            h.append(
                Line2D(
                    [], [], color=grey, linestyle=EXIT_STYLE, linewidth=1.0, label="phase-1 exit"
                )
            )
    if run_key:
        h_dist += [Line2D([], [], color=colors[k], linewidth=2.0, label=k) for k in labels]
    place_legend(ax_dist, h_dist, legend_loc)
    place_legend(ax_energy, h_energy, legend_loc)
    return ax_dist, ax_energy
