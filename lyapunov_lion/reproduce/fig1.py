"""Fig. 1 of the paper: Lion (K = ‖·‖₁) on f(x) = (x1 − 1.5)² + x2².

Two trajectories (λ = 1.5 and λ = 0.5) with their boxes ‖x‖_∞ ≤ 1/λ, f and H_d along them, and
the converged loss against λ from one batched run over many λ, with the exact curve
``((1.5 − 1/λ)₊)²`` and the threshold λ* = 2/3 at which (1.5, 0) leaves the box.

Threshold estimator (`estimate_threshold`): the converged loss ℓ(λ) is the time average of f over
the last ``window`` steps. λ̂ is the smallest λ where ℓ exceeds the level c: first on the sweep
grid, then the grid cell that brackets the crossing is re-swept (one batch of 32 λ per round,
two rounds: the cell shrinks 33× per round), and λ̂ is the smallest refined λ above c, with the
crossing known to lie in a cell of width h/33². It estimates the level crossing
λ_c = 1/(1.5 − √c) of the exact curve, an upward bias λ_c − λ* ≈ (4/9)√c (1.4e-3 at c = 1e-5)
stated in the report; c must sit above the loss floor of Lion's limit cycle (≈ η², measured) and
is chosen 10× above it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.kfunc import make_K
from ..core.lyapunov import diagnose_discrete, monotonicity
from ..core.reference import constrained_optimum
from ..plotting.sweep import plot_lambda_sweep
from ..sweep import converged_loss
from ._common import (
    BETA1,
    BETA2,
    COMMON_JUSTIFICATION,
    COMMON_SETTINGS,
    DECAY,
    LAM_STAR,
    LR,
    TOY,
    Reproduction,
    check_size,
    explicit_slack,
    fmt_vec,
    run_toy,
)

NAME = "fig1"
TITLE = "Fig. 1 — Lion on the toy problem: the box ‖x‖_∞ ≤ 1/λ and the threshold λ* = 2/3"
CLAIM = (
    "Lion on f(x) = (x1 − 1.5)² + x2², λ ∈ {1.5, 0.5}: trajectories with the boxes "
    "‖x‖_∞ ≤ 1/λ; (d) converged loss vs λ rises only past a threshold the paper reads as "
    '"λ ≥ 0.6". Exact: the minimiser (1.5, 0) leaves the box at λ* = 2/3; constrained loss '
    "((1.5 − 1/λ)₊)². (spec §8)"
)
PAPER_READING = 0.6
LAMS_TRAJ = (1.5, 0.5)
X0 = (-3.0, 2.5)
LEVEL = 1e-5

SETTINGS: dict[str, dict[str, Any]] = {
    "full": {
        "traj_steps": 12_000,
        "sweep_n": 400,
        "sweep_lo": 0.1,
        "sweep_hi": 3.0,
        "sweep_steps": 30_000,
        "window": 2_000,
        "refine_rounds": 2,
    },
    "reduced": {
        "traj_steps": 8_000,
        "sweep_n": 100,
        "sweep_lo": 0.1,
        "sweep_hi": 3.0,
        "sweep_steps": 20_000,
        "window": 1_000,
        "refine_rounds": 1,
    },
}


def exact_loss(lam):
    """min f s.t. ‖x‖_∞ ≤ 1/λ for the toy problem: ((1.5 − 1/λ)₊)²."""
    lam = np.asarray(lam, dtype=float)
    return np.clip(1.5 - 1.0 / lam, 0.0, None) ** 2


def converged_loss_sweep(lams, steps: int, window: int, x0=X0, lr: float = LR):
    """Converged loss ℓ(λ) of Lion on the toy problem, all λ in one batch (see
    `lyapunov_lion.sweep.converged_loss`). Returns (ℓ, final x (n, 2))."""
    return converged_loss(
        make_K("l1"),
        TOY,
        lams,
        x0,
        steps=steps,
        window=window,
        lr=lr,
        beta1=BETA1,
        beta2=BETA2,
        decay=DECAY,
    )


def first_above(lams, loss, level: float = LEVEL) -> int | None:
    """Index of the smallest λ of an increasing grid with converged loss > ``level`` (None if
    none is, or if the first grid point already is: then the grid does not bracket the crossing)."""
    above = np.asarray(loss) > level
    if not above.any() or above[0]:
        return None
    return int(np.argmax(above))


def estimate_threshold(
    lams,
    loss,
    level: float = LEVEL,
    refine_rounds: int = 0,
    refine_n: int = 32,
    steps: int = 20_000,
    window: int = 1_000,
):
    """λ̂ = the smallest λ where the converged loss exceeds ``level``, refined by bisection-like
    batched sweeps: the grid cell (λ_{i−1}, λ_i] that brackets the crossing is re-swept with
    ``refine_n`` new λ (one batch) ``refine_rounds`` times. Returns ``(λ̂, width)``: the crossing
    lies in (λ̂ − width, λ̂]. ``(nan, nan)`` if the grid does not bracket a crossing.

    (No interpolation across the cell: the loss has a kink at λ*, so interpolating from the flat
    side would put λ̂ below λ*.)
    """
    lams, loss = np.asarray(lams, dtype=float), np.asarray(loss, dtype=float)
    i = first_above(lams, loss, level)
    if i is None:
        return float("nan"), float("nan")
    lo, hi = float(lams[i - 1]), float(lams[i])
    for _ in range(refine_rounds):
        sub = np.linspace(lo, hi, refine_n + 2)[1:-1]
        sub_loss, _ = converged_loss_sweep(sub, steps, window)
        grid = np.concatenate([[lo], sub, [hi]])
        vals = np.concatenate([[level * 0], sub_loss, [np.inf]])  # lo is below, hi above
        j = int(np.argmax(vals > level))
        lo, hi = float(grid[j - 1]), float(grid[j])
    return hi, hi - lo


def compute(size: str = "full") -> dict:
    """Run the two trajectories and the λ sweep; return arrays and measured numbers."""
    check_size(size)
    s = SETTINGS[size]
    K = make_K("l1")
    lams = np.asarray(LAMS_TRAJ)
    x0 = np.broadcast_to(np.asarray(X0), (lams.size, 2)).copy()
    res = run_toy(K, x0, lams, s["traj_steps"], "Fig. 1 trajectories")
    diag = diagnose_discrete(res, TOY.f, TOY.grad, L=TOY.lipschitz)
    X = np.asarray(res.x)
    H = np.asarray(diag.H_d_explicit)
    exits = np.asarray(diag.phase1_exit)
    mono = monotonicity(H, exits)
    slack = explicit_slack(X, LR, TOY.lipschitz_constant())
    refs = [constrained_optimum(TOY, K, float(lam)) for lam in lams]

    grid = np.linspace(s["sweep_lo"], s["sweep_hi"], s["sweep_n"])
    loss, xT = converged_loss_sweep(grid, s["sweep_steps"], s["window"])
    lam_hat, width = estimate_threshold(
        grid,
        loss,
        LEVEL,
        refine_rounds=s["refine_rounds"],
        steps=s["sweep_steps"],
        window=s["window"],
    )
    exact = exact_loss(grid)
    below = grid < LAM_STAR
    return {
        "size": size,
        "settings": s,
        "K": K,
        "lams": lams,
        "X": X,
        "f_t": np.asarray(diag.f),
        "H_t": H,
        "exits": exits,
        "mono": mono,
        "slack": slack,
        "refs": refs,
        "ineq": diag.explicit_inequality,
        "grid": grid,
        "loss": loss,
        "xT": xT,
        "exact": exact,
        "lam_hat": lam_hat,
        "width": width,
        "lam_level": 1.0 / (1.5 - np.sqrt(LEVEL)),
        "floor": float(loss[below].max()),
        "max_err_above": float(np.abs(loss - exact)[~below].max()),
        "spacing": float(grid[1] - grid[0]),
    }


def draw(d: dict):
    """The 2 × 2 figure: (a) trajectories, (b) f and H_d, (c) loss vs λ, (d) its log-scale zoom."""
    from matplotlib.lines import Line2D

    from ..plotting import (
        OKABE_ITO,
        PALETTE,
        draw_constraint,
        new_figure,
        paper_style,
        place_legend,
        plot_trajectory_2d,
    )

    K, lams, X = d["K"], d["lams"], d["X"]
    t = np.arange(X.shape[0])
    with paper_style():
        fig = new_figure(7.0, 5.8)
        ax = fig.subplots(2, 2, gridspec_kw={"width_ratios": [1.0, 1.0]})
        # (a) trajectories; the wider box (λ = 0.5) sets the view, the other is added after
        big = int(np.argmin(lams))
        order = [big] + [i for i in range(lams.size) if i != big]
        colors = {float(lams[i]): PALETTE[k] for k, i in enumerate(order)}  # as the paths
        paths = {f"λ = {lams[i]:g}": X[:, i] for i in order}
        plot_trajectory_2d(
            ax[0, 0],
            paths,
            f=TOY.f,
            K=K,
            lam=float(lams[big]),
            legend=False,
            title="(a) trajectories and boxes ‖x‖_∞ ≤ 1/λ",
        )
        for p in ax[0, 0].patches:  # the only box drawn so far: colour it as its path
            if p.get_gid() == "constraint":
                p.set_edgecolor(PALETTE[0])
        for k, i in enumerate(order[1:], start=1):
            draw_constraint(
                ax[0, 0], K, float(lams[i]), color=PALETTE[k], linestyle=":", linewidth=1.2
            )
        for i in order:
            ax[0, 0].plot(
                *d["refs"][i].x,
                marker="*",
                color=OKABE_ITO["yellow"],
                markeredgecolor="black",
                markersize=10,
                zorder=7,
                linestyle="none",
            )
        h, _ = ax[0, 0].get_legend_handles_labels()
        h += [
            Line2D(
                [],
                [],
                marker="o",
                ls="none",
                color="0.35",
                markeredgecolor="white",
                label="start x₀ = (−3, 2.5)",
            ),
            Line2D(
                [], [], marker="s", ls="none", color="0.35", markeredgecolor="black", label="end"
            ),
            Line2D(
                [],
                [],
                marker="*",
                ls="none",
                color=OKABE_ITO["yellow"],
                markeredgecolor="black",
                markersize=9,
                label="exact constrained optimum",
            ),
        ]
        place_legend(ax[0, 0], h, "below", ncols=2)

        # (b) f and H_d against steps, phase-1 exits marked
        b = ax[0, 1]
        for i, lam in enumerate(lams):
            c = colors[float(lam)]
            b.plot(t, d["f_t"][:, i], color=c, lw=1.0, label=f"f, λ = {lam:g}")
            Hi = np.where(np.isfinite(d["H_t"][:, i]), d["H_t"][:, i], np.nan)
            b.plot(t, Hi, color=c, lw=1.4, ls="--", label=f"H_d, λ = {lam:g}")
            if d["exits"][i] > 0:
                b.axvline(
                    d["exits"][i],
                    color=c,
                    ls="-.",
                    lw=0.9,
                    label=f"phase-1 exit, λ = {lam:g} (t = {d['exits'][i]})",
                )
        b.set_yscale("symlog", linthresh=1e-2)
        b.set_ylim(-2e-3, 60)
        b.set_xlabel("step t")
        b.set_ylabel("f(x_t), H_d(x_t, m_t)")
        b.set_title("(b) f and H_d (+∞ before phase-1 exit); symlog, linear < 0.01")
        b.legend(loc="upper right", fontsize=6)

        # (c) converged loss against λ, (d) the same near the threshold on a log scale
        grid, loss = d["grid"], d["loss"]
        markers: list[tuple[float, str, dict[str, Any]]] = [
            (LAM_STAR, "λ* = 2/3 (exact)", {"color": PALETTE[2], "lw": 1.1}),
            (d["lam_hat"], f"measured λ̂ = {d['lam_hat']:.4f}", {"color": PALETTE[1], "ls": "--"}),
            (PAPER_READING, "paper's reading λ ≥ 0.6", {"color": "0.45", "ls": ":"}),
        ]
        for a, log in ((ax[1, 0], False), (ax[1, 1], True)):
            plot_lambda_sweep(
                a,
                grid,
                loss,
                exact=exact_loss,
                exact_label="exact ((1.5 − 1/λ)₊)²",
                run_label=f"Lion, {grid.size} λ in one batch",
                markers=markers,
                log=log,
                legend_loc="lower right",
            )
        ax[1, 0].set_title("(c) converged loss against λ")
        z = ax[1, 1]
        z.set_xlim(0.45, 1.0)
        z.set_ylim(1e-8, 0.3)
        z.axhline(LEVEL, color=PALETTE[3], lw=0.9, ls="--", label=f"level c = {LEVEL:g}")
        z.set_title("(d) zoom near the threshold (log scale)")
        z.legend(loc="lower right", fontsize=5.8)
        fig.suptitle(
            "Lion (K = ‖·‖₁) on f(x) = (x₁ − 1.5)² + x₂²: it solves min f s.t. "
            "‖x‖_∞ ≤ 1/λ\n"
            f"η = {LR:g}, β = ({BETA1:g}, {BETA2:g}), explicit decoupled decay, "
            f"{d['settings']['traj_steps']} steps (a, b), "
            f"{d['settings']['sweep_steps'] + d['settings']['window']} steps (c, d)"
        )
    return fig


def build(size: str = "full") -> Reproduction:
    """Compute, draw and summarise Fig. 1."""
    d = compute(size)
    s, lams, mono = d["settings"], d["lams"], d["mono"]
    ineq = d["ineq"]
    lam_hat = d["lam_hat"]
    runs = []
    for i, lam in enumerate(lams):
        exit_i = int(d["exits"][i])
        after = slice(max(exit_i, 0), None)
        runs.append(
            {
                "lam": float(lam),
                "x_final": d["X"][-1, i].tolist(),
                "x_star": d["refs"][i].x.tolist(),
                "distance": float(np.linalg.norm(d["X"][-1, i] - d["refs"][i].x)),
                "f_final": float(d["f_t"][-1, i]),
                "f_star": float(d["refs"][i].f),
                "phase1_exit_step": exit_i,
                "H_d_max_increase_phase2": float(np.asarray(mono.max_increase)[i]),
                "H_d_increases_phase2": int(np.asarray(mono.n_increases)[i]),
                "slack_max_phase2": float(d["slack"][after, i].max()) if exit_i >= 0 else None,
                "inequality_violations": int(np.asarray(ineq.n_violations)[i]),
                "inequality_checked": int(np.asarray(ineq.n_checked)[i]),
            }
        )
    ok = abs(lam_hat - LAM_STAR) <= 0.01
    results = {
        "claim": CLAIM,
        "lam_star_exact": LAM_STAR,
        "lam_hat": lam_hat,
        "lam_hat_error": lam_hat - LAM_STAR,
        "lam_hat_bracket_width": d["width"],
        "level": LEVEL,
        "level_crossing_exact": d["lam_level"],
        "paper_reading": PAPER_READING,
        "sweep": {
            "n": int(d["grid"].size),
            "lo": float(d["grid"][0]),
            "hi": float(d["grid"][-1]),
            "spacing": d["spacing"],
            "steps": s["sweep_steps"],
            "window": s["window"],
            "loss_floor_below_lam_star": d["floor"],
            "max_abs_error_above_lam_star": d["max_err_above"],
        },
        "trajectories": runs,
        "within_0.01": bool(ok),
    }
    measured = [
        f"- Threshold: λ̂ = **{lam_hat:.4f}** (exact λ* = 2/3 = 0.6667; error "
        f"{lam_hat - LAM_STAR:+.4f}; sweep spacing {d['spacing']:.4f}, refined to a bracket of "
        f"width {d['width']:.1e}). The estimator measures the "
        f"level crossing of the exact curve, λ_c = 1/(1.5 − √c) = {d['lam_level']:.4f} at "
        f"c = {LEVEL:g}, so λ̂ − λ_c = {lam_hat - d['lam_level']:+.5f} is the estimation error "
        f"and λ_c − λ* = {d['lam_level'] - LAM_STAR:+.4f} its known bias.",
        f"- Loss floor for λ < 2/3 (Lion's limit cycle around (1.5, 0)): max converged loss "
        f"{d['floor']:.2e} (≈ η² = {LR**2:.0e}); above λ*, max |loss − ((1.5 − 1/λ)₊)²| = "
        f"{d['max_err_above']:.2e} over {int((d['grid'] >= LAM_STAR).sum())} values of λ.",
    ]
    for r in runs:
        measured.append(
            f"- λ = {r['lam']:g}: final x = {fmt_vec(r['x_final'])}, exact optimum "
            f"{fmt_vec(r['x_star'])}, distance {r['distance']:.1e}; f = {r['f_final']:.6f} "
            f"(exact {r['f_star']:.6f}); phase-1 exit at step {r['phase1_exit_step']}; in "
            f"phase 2 H_d rose at {r['H_d_increases_phase2']} steps, by at most "
            f"{r['H_d_max_increase_phase2']:.2e} (allowance (Lη²/2)‖w̄_t‖² ≤ "
            f"{r['slack_max_phase2']:.1e}); per-step inequality H_d(t+1) − H_d(t) ≤ −ηΔ_t + "
            f"(Lη²/2)‖w̄_t‖²: {r['inequality_violations']} violations in "
            f"{r['inequality_checked']} steps."
        )
    verdict = "agrees" if ok else "disagrees"
    verdict_text = (
        f"The converged loss is flat (at the η² floor) up to λ̂ = {lam_hat:.4f} and follows the "
        "exact curve ((1.5 − 1/λ)₊)² beyond it; both trajectories end at the exact constrained "
        "optimum inside their box. The measured threshold is within "
        f'{abs(lam_hat - LAM_STAR):.4f} of λ* = 2/3. The paper\'s "λ ≥ 0.6" is a coarse visual '
        f"reading of its plot: 0.6 lies {LAM_STAR - PAPER_READING:.3f} below the exact value, "
        "and at λ = 0.6 the box radius 1/0.6 = 1.67 still contains (1.5, 0), so the loss there "
        "is still at the floor. The reproduction agrees with the paper's figure and pins the "
        "threshold at 2/3 rather than 0.6."
    )
    settings = {
        **COMMON_SETTINGS,
        "x0": list(X0),
        "lams_trajectories": list(LAMS_TRAJ),
        "trajectory_steps": s["traj_steps"],
        "sweep": f"{s['sweep_n']} λ in [{s['sweep_lo']}, {s['sweep_hi']}], "
        f"{s['sweep_steps']} steps then f averaged over {s['window']} more",
        "threshold_level_c": LEVEL,
    }
    just = (
        COMMON_JUSTIFICATION + " x₀ = (−3, 2.5) lies outside both boxes, so both runs show "
        "phase 1. The λ = 0.5 run needs ≈ 5 000 steps to reach (1.5, 0) (near it the speed is "
        "η(1 − λx₁) = η/4); 12 000 steps leave a wide margin. The sweep runs 30 000 steps: "
        "near λ* the iterate approaches the box edge at rate ηλ ≈ 6.7e-4 per step, so the "
        "initial gap of ≈ 4.5 has shrunk by e^−20. The converged loss averages f over the "
        "last 2 000 steps to average out the limit cycle. The level c = 1e-5 is 10× above "
        "the measured floor (≈ 8e-7)."
    )
    return Reproduction(
        name=NAME,
        title=TITLE,
        claim=CLAIM,
        settings=settings,
        justification=just,
        results=results,
        measured=measured,
        verdict=verdict,
        verdict_text=verdict_text,
        figure=draw(d),
        caption=(
            "(a) Lion trajectories from x₀ = (−3, 2.5) for λ = 1.5 (box ‖x‖_∞ ≤ 2/3) and "
            "λ = 0.5 (box ‖x‖_∞ ≤ 2); (b) f and the Lyapunov function H_d; (c) converged "
            "loss against λ with the exact curve and the threshold; (d) the same near the "
            "threshold on a log scale, with the level c used by the estimator."
        ),
        extra_md=[
            "Threshold estimator: the converged loss ℓ(λ) is the mean of f over the last "
            "window of steps. λ̂ is the smallest λ with ℓ > c: first on the sweep grid, "
            "then the grid cell bracketing the crossing is re-swept with 32 new λ in one "
            "batch, twice (bisection-like refinement; no interpolation across the cell, "
            "because ℓ has a kink at λ* and interpolating from the flat side would land "
            "below λ*). It estimates the level crossing λ_c = 1/(1.5 − √c) ≥ λ*, a known "
            "upward bias of ≈ (4/9)√c."
        ],
    )
