"""Discrete against continuous: Lion-K iterates for several η converge to the ODE path.

The paper's theory is about the continuous-time ODE (spec §3)::

    ṁ = −α∇f(x) − γm,   m̃ = m − ε(α∇f(x) + γm),   ẋ = ∇K(m̃) − λx.

One explicit-decay discrete step with step η equals η times this vector field exactly when
α = γ = (1 − β2)/η and ε = η(1 − β1)/(1 − β2) (`continuous_from_discrete`). We fix the ODE
coefficients at those of η0 = 0.01, β = (0.9, 0.99) (α = γ = 1, ε = 0.1) and λ = 1.5, and for
each η of a geometric grid invert the map (`discrete_from_continuous`)::

    β2(η) = 1 − αη,   β1 = 1 − εγ = 0.9   (independent of η).

So all four ODE coefficients (α, γ, ε, λ) stay fixed as η varies, β1 stays at 0.9, and only β2
moves (0.96 at η = 0.04, 0.99875 at η = 0.00125). Every η is one member of a single batched
`run_discrete` call (lr and β2 are per-run arrays; the run with the smallest η sets the step
count and the others are truncated at t = kη ≤ T). The ODE is solved once per K with
`solve_lion_ode` (Filippov mode for l1, DOP853/Radau for the smooth K) at rtol 1e-10, and its
dense output gives x(kη). The error of a run is

    e(η) = max_{0 ≤ k ≤ T/η} ‖x_k − x(kη)‖_∞        (sup error; also the RMS over k)

and the order p is the slope of the least-squares line log e = p log η + b over the grid.

Along the way: the explicit-scheme Lyapunov function H_d of `lyapunov_lion.core.lyapunov`
(coefficient a' = ηβ1/((1−β2) + ηλ(β2−β1))) tends to H/α pointwise as η → 0 when α = γ: with
1 − β2 = αη and β2 − β1 = εγ − αη, a' = β1/(α + λ(εγ − αη)) → (1 − εγ)/(α + λεγ) = c/α,
c = (1 − εγ)/(1 + ελ). The report gives max_k |H_d(x_k, m_k) − H(x(kη), m(kη))/α| and its order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.discrete import LionKConfig, lion_k_step, run_discrete
from ..core.kfunc import make_K
from ..core.lyapunov import discrete_H, lyapunov_H
from ..core.objectives import make_objective
from ..core.ode import continuous_from_discrete, discrete_from_continuous, solve_lion_ode
from ..errors import NumericalFailure
from ._common import DECAY, TOY, Reproduction, check_size, fmt_vec

NAME = "convergence"
TITLE = "Discrete → continuous — Lion-K iterates converge to the ODE path as η → 0"
CLAIM = (
    "The paper's analysis is in continuous time: with α = γ = (1 − β2)/η and "
    "ε = η(1 − β1)/(1 − β2) the discrete Lion-K iterates x_k should follow the ODE path "
    "x(kη) and converge to it as η → 0, also for Lion's sign (a Filippov solution with "
    "sliding). (spec §3)"
)
ETA0, BETA1_0, BETA2_0 = 0.01, 0.9, 0.99
"""The ODE coefficients are those of this discrete scheme: α = γ = 1, ε = 0.1."""
LAM = 1.5
X0 = (-3.0, 2.5)
T_FINAL = 8.0
K_NAMES = ("l1", "logcosh", "huber")
SMOOTH = "logcosh"
ETAS_PATHS = (0.04, 0.02, 0.01, 0.005)
T_H_LATE = 3.0
"""H_d is compared with H/α on t ≥ 3, well inside phase 2: just after the phase-1 exit λx sits
near ∂dom K*, where K* of logcosh has the unbounded slope arctanh, so an O(η) error in x gives a
larger error in H there (reported separately)."""
ZOOM = {"l1": ((0.42, 0.70), (-0.06, 0.24)), "logcosh": ((0.30, 0.68), (-0.24, 0.06))}
"""Inset limits (x₁, x₂) of the path panels: the end of the paths, where they differ."""
ODE_RTOL, ODE_ATOL = 1e-10, 1e-12
SETTINGS: dict[str, dict[str, Any]] = {
    # geometric grids with ratio 2^(1/3): they contain 0.04, 0.02, 0.01, 0.005, 0.0025 (, 0.00125)
    "full": {"eta_max": 0.04, "eta_min": 0.00125, "n_eta": 16},
    "reduced": {"eta_max": 0.04, "eta_min": 0.0025, "n_eta": 13},
}


def ode_coefficients() -> dict:
    """{alpha, gamma, eps} of the discrete scheme (η0, β1, β2) = (0.01, 0.9, 0.99):
    α = γ = (1 − β2)/η0 = 1, ε = η0(1 − β1)/(1 − β2) = 0.1 (to rounding)."""
    return continuous_from_discrete(ETA0, BETA1_0, BETA2_0)


def eta_grid(size: str = "full") -> np.ndarray:
    """The decreasing geometric η grid of ``size``."""
    s = SETTINGS[size]
    return np.geomspace(s["eta_max"], s["eta_min"], s["n_eta"])


def betas_for(etas, coeffs: dict) -> dict:
    """β1, β2 such that each η maps to the same (α = γ, ε): β2 = 1 − αη, β1 = 1 − εγ."""
    return discrete_from_continuous(coeffs["alpha"], coeffs["gamma"], coeffs["eps"], etas)


def fit_order(etas, errs) -> tuple[float, float]:
    """Least-squares slope p and intercept b of log e = p·log η + b (the convergence order)."""
    p, b = np.polyfit(
        np.log(np.asarray(etas, dtype=float)), np.log(np.asarray(errs, dtype=float)), 1
    )
    return float(p), float(b)


def discrete_paths(K, etas, coeffs: dict, t_final: float = T_FINAL, x0=X0, lam: float = LAM):
    """All η in one batched explicit-decay run; returns lists of (x_k, m_k), k = 0..round(T/η)."""
    etas = np.asarray(etas, dtype=float)
    b = betas_for(etas, coeffs)
    n = np.rint(t_final / etas).astype(int)
    cfg = LionKConfig(lr=etas, beta1=b["beta1"], beta2=b["beta2"], lam=lam, decay=DECAY)
    start = np.broadcast_to(np.asarray(x0, dtype=float), etas.shape + (2,)).copy()
    res = run_discrete(K, TOY.grad, start, config=cfg, steps=int(n.max()))
    if not res.success:
        raise NumericalFailure(f"discrete runs K={K.name} failed: {res.message}")
    X, M = np.asarray(res.x), np.asarray(res.m)
    return [X[: k + 1, i] for i, k in enumerate(n)], [M[: k + 1, i] for i, k in enumerate(n)], b


def solve_reference(K, coeffs: dict, t_final: float = T_FINAL, x0=X0, lam: float = LAM):
    """The ODE path from (x0, m0 = 0) with dense output (raises if the solver or a guard fails)."""
    ref = solve_lion_ode(
        K,
        TOY,
        x0,
        lam=lam,
        alpha=coeffs["alpha"],
        gamma=coeffs["gamma"],
        eps=coeffs["eps"],
        t_final=t_final,
        rtol=ODE_RTOL,
        atol=ODE_ATOL,
    )
    if not ref.success:
        raise NumericalFailure(f"ODE reference K={K.name} failed: {ref.message}")
    return ref


def compare(ref, Xs, etas):
    """Per η: e_sup = max_k ‖x_k − x(kη)‖_∞, e_rms = (mean_k ‖x_k − x(kη)‖_∞²)^½, the time of the
    sup, and the ODE states at t = kη."""
    sup, rms, where, odes = [], [], [], []
    for X, eta in zip(Xs, etas, strict=True):
        t = eta * np.arange(X.shape[0])
        xo, mo = ref.state(t)
        e = np.max(np.abs(X - xo), axis=-1)
        sup.append(float(e.max()))
        rms.append(float(np.sqrt(np.mean(e**2))))
        where.append(float(t[int(np.argmax(e))]))
        odes.append((t, xo, mo))
    return np.array(sup), np.array(rms), np.array(where), odes


ODE_MD_K = ("relativistic", "sq_l2", "l1")
ODE_MD_ETAS = (0.02, 0.01, 0.005, 0.0025, 0.00125)
"""docs/ode.md's discrete → ODE check ("Measured"): f = ½‖x − (2, 0.3)‖², α = γ = λ = 1, ε = 0.1,
x0 = m0 = 0, T = 3, β1 = 1 − εγ, β2 = 1 − αη, these η."""


def ode_md_orders(K_names=ODE_MD_K, etas=ODE_MD_ETAS, T: float = 3.0) -> dict[str, dict[str, Any]]:
    """Rerun docs/ode.md's discrete → ODE check here, so the report quotes this run's numbers:
    per K the sup errors max_k |x_k − x(kη)|_∞, the fitted order (slope of log sup against log η)
    and the local slopes between consecutive η."""
    quad = make_objective("quadratic", A=np.eye(2), c=[2.0, 0.3])
    out: dict[str, dict[str, Any]] = {}
    for name in K_names:
        K = make_K(name)
        ref = solve_lion_ode(
            K,
            quad,
            [0.0, 0.0],
            t_final=T,
            method="DOP853" if K.differentiable else "filippov",
            rtol=1e-12,
            atol=1e-14,
            lam=1.0,
            alpha=1.0,
            gamma=1.0,
            eps=0.1,
        )
        errs = []
        for eta in etas:
            p = discrete_from_continuous(1.0, 1.0, 0.1, eta)
            x, m = np.zeros(2), np.zeros(2)
            n = int(round(T / eta))
            X = np.empty((n, 2))
            for k in range(n):
                x, m, _ = lion_k_step(K, x, m, quad.grad(x), eta, p["beta1"], p["beta2"], 1.0)
                X[k] = x
            xo, _ = ref.state(eta * np.arange(1, n + 1))
            errs.append(float(np.max(np.abs(X - xo))))
        e = np.asarray(errs)
        out[name] = {
            "sup": errs,
            "order": fit_order(np.asarray(etas), e)[0],
            "local": (np.diff(np.log(e)) / np.diff(np.log(np.asarray(etas)))).tolist(),
        }
    return out


def compute(size: str = "full", K_names=K_NAMES) -> dict:
    """ODE reference and batched discrete runs per K; errors, orders and Lyapunov values."""
    check_size(size)
    coeffs = ode_coefficients()
    etas = eta_grid(size)
    out = {}
    for name in K_names:
        K = make_K(name)
        ref = solve_reference(K, coeffs)
        Xs, Ms, b = discrete_paths(K, etas, coeffs)
        sup, rms, where, odes = compare(ref, Xs, etas)
        p_sup, b_sup = fit_order(etas, sup)
        p_rms, b_rms = fit_order(etas, rms)
        # Lyapunov functions: H_d along each run against H/α along the ODE at t = kη
        b1 = np.broadcast_to(b["beta1"], etas.shape)
        gap_all, gap_late = [], []
        for i, (X, M, eta) in enumerate(zip(Xs, Ms, etas, strict=True)):
            Hd = discrete_H(K, TOY.f(X), X, M, eta, b1[i], b["beta2"][i], LAM, decay=DECAY)
            t, xo, mo = odes[i]
            Ho = (
                lyapunov_H(
                    K, TOY.f(xo), xo, mo, LAM, coeffs["alpha"], coeffs["gamma"], coeffs["eps"]
                )
                / coeffs["alpha"]
            )
            both = np.isfinite(Hd) & np.isfinite(Ho)
            late = both & (t >= T_H_LATE)
            if not late.any():
                raise NumericalFailure(
                    f"K={name}, η={eta:g}: H or H_d still +∞ at t ≥ "
                    f"{T_H_LATE:g} (phase 1 not finished)"
                )
            gap_all.append(float(np.max(np.abs(Hd[both] - Ho[both]))))
            gap_late.append(float(np.max(np.abs(Hd[late] - Ho[late]))))
        tf = np.linspace(0.0, T_FINAL, 4001)
        out[name] = {
            "K": K,
            "ref": ref,
            "Xs": Xs,
            "sup": sup,
            "rms": rms,
            "where": where,
            "order_sup": p_sup,
            "icpt_sup": b_sup,
            "order_rms": p_rms,
            "icpt_rms": b_rms,
            "local_sup": np.diff(np.log(sup)) / np.diff(np.log(etas)),
            "tf": tf,
            "xf": ref.state(tf)[0],
            "H_gap_all": np.array(gap_all),
            "order_H_gap_all": fit_order(etas, gap_all)[0],
            "H_gap_late": np.array(gap_late),
            "order_H_gap_late": fit_order(etas, gap_late)[0],
            "betas": b,
        }
    return {
        "size": size,
        "coeffs": coeffs,
        "etas": etas,
        "runs": out,
        "ode_md_problem": ode_md_orders(),
    }


def _eta_color(etas, eta):
    from ..plotting import PALETTE

    i = int(np.argmin(np.abs(np.log(np.asarray(ETAS_PATHS)) - np.log(eta))))
    return PALETTE[i + 1]


def _zoom_limits(name, paths):
    if name in ZOOM:
        return ZOOM[name]
    pts = np.concatenate([p[p.shape[0] // 2 :] for p in paths])  # second half of each path
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.1 * max(hi - lo) + 1e-3
    return (lo[0] - pad, hi[0] + pad), (lo[1] - pad, hi[1] + pad)


def _path_panel(a, name, r, etas, shown, label):
    """ODE path and iterates over the box, with an inset on the end of the paths."""
    from ..plotting import draw_constraint

    ode = r["xf"]
    ins = a.inset_axes([0.47, 0.40, 0.52, 0.58])
    for target in (a, ins):
        target.plot(ode[:, 0], ode[:, 1], color="black", lw=2.4, zorder=3)
        for i in shown:
            X = r["Xs"][i]
            target.plot(X[:, 0], X[:, 1], color=_eta_color(etas, etas[i]), lw=0.8, zorder=4)
        draw_constraint(target, r["K"], LAM, color="0.3", linestyle="--", linewidth=1.0)
        target.set_aspect("equal", adjustable="box")
    a.plot(*X0, "o", color="0.35", markeredgecolor="white", zorder=6)
    a.set_xlim(-3.3, 1.1)
    a.set_ylim(-1.0, 2.8)
    a.set_xlabel("x₁")
    a.set_ylabel("x₂")
    a.set_title(f"({label}) K = {r['K'].info()['K']} ({name}): paths")
    zx, zy = _zoom_limits(name, [ode] + [r["Xs"][i] for i in shown])
    ins.set_xlim(*zx)
    ins.set_ylim(*zy)
    ins.tick_params(labelsize=5.5, pad=1)
    ins.set_xlabel("")
    ins.set_ylabel("")
    a.indicate_inset_zoom(ins, edgecolor="0.3")


def draw(d: dict):
    """2 × 2: (a, b) 2-D paths for l1 and the smooth K with insets on their ends, (c) sup
    error against η with fits and reference slopes, (d) x₂(t) of l1 around its sliding entry."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    from ..plotting import PALETTE, new_figure, paper_style

    etas, runs = d["etas"], d["runs"]
    shown = [int(np.argmin(np.abs(etas - e))) for e in ETAS_PATHS]
    path_names = [n for n in runs if n in ("l1", SMOOTH)] or list(runs)[:2]
    with paper_style():
        fig = new_figure(7.0, 6.9)
        ax = fig.subplots(2, 2)
        for j, name in enumerate(path_names[:2]):
            _path_panel(ax[0, j], name, runs[name], etas, shown, "ab"[j])
        handles = [Line2D([], [], color="black", lw=2.4, label="ODE path x(t)")]
        handles += [
            Line2D(
                [],
                [],
                color=_eta_color(etas, etas[i]),
                lw=1.2,
                label=f"iterates x_k, η = {etas[i]:g}",
            )
            for i in shown
        ]
        handles += [
            Line2D([], [], color="0.3", ls="--", label="box ‖x‖_∞ ≤ 1/λ = 2/3"),
            Line2D(
                [],
                [],
                marker="o",
                ls="none",
                color="0.35",
                markeredgecolor="white",
                label=f"start ({X0[0]:g}, {X0[1]:g})",
            ),
        ]
        ax[0, 0].legend(handles=handles, loc="lower left", fontsize=6)

        # (c) errors against η
        c = ax[1, 0]
        styles = {"l1": (PALETTE[0], "o"), SMOOTH: (PALETTE[5], "s"), "huber": ("0.35", "^")}
        for name, r in runs.items():
            col, mk = styles.get(name, ("0.6", "v"))
            c.loglog(
                etas,
                r["sup"],
                mk,
                color=col,
                ms=4,
                ls="none",
                label=f"{name}: sup error, fitted order {r['order_sup']:.2f}",
            )
            c.loglog(etas, np.exp(r["icpt_sup"]) * etas ** r["order_sup"], "-", color=col, lw=0.9)
            if name == "l1":
                c.loglog(
                    etas,
                    r["rms"],
                    mk,
                    color=col,
                    ms=4,
                    mfc="none",
                    ls="none",
                    label=f"{name}: RMS error over k, order {r['order_rms']:.2f}",
                )
                c.loglog(
                    etas, np.exp(r["icpt_rms"]) * etas ** r["order_rms"], ":", color=col, lw=0.9
                )
        top = max(r["sup"][0] for r in runs.values())
        ref_eta = np.array([etas[-1], etas[0]])
        c.loglog(
            ref_eta,
            2.5 * top * ref_eta / etas[0],
            color="0.45",
            lw=0.8,
            ls="--",
            label="reference slope 1",
        )
        c.loglog(
            ref_eta,
            2.5 * top * (ref_eta / etas[0]) ** 0.5,
            color="0.45",
            lw=0.8,
            ls="-.",
            label="reference slope 1/2",
        )
        ticks = [
            e
            for e in (0.04, 0.02, 0.01, 0.005, 0.0025, 0.00125)
            if etas[-1] * 0.999 <= e <= etas[0] * 1.001
        ]
        c.xaxis.set_major_locator(FixedLocator(ticks))
        c.xaxis.set_minor_locator(NullLocator())
        c.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        c.set_xlabel("step η  (α, γ, ε, λ fixed; β2 = 1 − αη)")
        c.set_ylabel("max_k ‖x_k − x(kη)‖_∞")
        c.set_title("(c) distance between iterates and ODE path")
        c.legend(loc="lower right", fontsize=6)

        # (d) x₂(t) of Lion around the sliding entry: where the sup error of l1 arises
        h = ax[1, 1]
        name = "l1" if "l1" in runs else list(runs)[0]
        r = runs[name]
        lo, hi = 1.5, 3.2
        sel = (r["tf"] >= lo) & (r["tf"] <= hi)
        h.plot(r["tf"][sel], r["xf"][sel, 1], color="black", lw=2.4, label="ODE x₂(t)")
        for i in shown:
            X = r["Xs"][i]
            t = etas[i] * np.arange(X.shape[0])
            s2 = (t >= lo) & (t <= hi)
            h.plot(
                t[s2],
                X[s2, 1],
                color=_eta_color(etas, etas[i]),
                lw=0.9,
                marker="." if etas[i] >= 0.02 else None,
                ms=2.5,
                label=f"x₂ of the iterates, η = {etas[i]:g}",
            )
        ev = r["ref"].report.events
        for e in ev:
            if lo <= e[0] <= hi:
                h.axvline(
                    e[0],
                    color="0.45",
                    lw=0.8,
                    ls=":" if "sliding" not in e[3] else "-.",
                    label=(
                        "ODE: m̃₂ crosses 0"
                        if "sliding" not in e[3]
                        else "ODE: sliding on m̃₂ = 0 begins"
                    )
                    + f" (t = {e[0]:.2f})",
                )
        h.set_xlim(lo, hi)
        h.set_ylim(-0.55, 0.25)
        h.set_xlabel("time t = kη")
        h.set_ylabel("x₂")
        h.set_title("(d) Lion: x₂ around the ODE's entry into sliding")
        h.legend(loc="lower right", fontsize=6)
        co = d["coeffs"]
        fig.suptitle(
            "Discrete Lion-K → its ODE on f(x) = (x₁ − 1.5)² + x₂², λ = 1.5. ODE coefficients "
            f"fixed at α = γ = {co['alpha']:.3g}, ε = {co['eps']:.3g} (those of η = {ETA0:g}, "
            f"β = ({BETA1_0:g}, {BETA2_0:g}));\nfor each η the iterates use β1 = 1 − εγ = 0.9, "
            f"β2 = 1 − αη; explicit decoupled decay, m₀ = 0, t ∈ [0, {T_FINAL:g}]"
        )
    return fig


def build(size: str = "full") -> Reproduction:
    """Compute, draw and summarise the discrete → continuous figure."""
    return report(compute(size))


def report(d: dict) -> Reproduction:
    """The `Reproduction` of computed runs ``d`` (from `compute`): numbers, prose, figure."""
    etas, co = d["etas"], d["coeffs"]
    results = {"claim": CLAIM, "coefficients": co, "etas": etas.tolist(), "K": {}}
    table = [
        "| η | β2 = 1 − αη | "
        + " | ".join(f"{n}: sup error | {n}: sup/η" for n in d["runs"])
        + " |",
        "|---|---|" + "---|---|" * len(d["runs"]),
    ]
    for i, eta in enumerate(etas):
        row = f"| {eta:.5g} | {1 - co['alpha'] * eta:.6g} | "
        row += " | ".join(
            f"{r['sup'][i]:.3e} | {r['sup'][i] / eta:.2f}" for r in d["runs"].values()
        )
        table.append(row + " |")
    measured = []
    for name, r in d["runs"].items():
        ref = r["ref"]
        ratio = r["sup"] / etas
        mono = bool(np.all(np.diff(r["sup"]) < 0))
        results["K"][name] = {
            "K": r["K"].info()["K"],
            "ode_method": ref.report.method,
            "ode_events": ref.report.n_events,
            "ode_final_mode": ref.report.final_mode,
            "x_T_ode": ref.x[-1].tolist(),
            "sup_error": r["sup"].tolist(),
            "rms_error": r["rms"].tolist(),
            "time_of_sup": r["where"].tolist(),
            "order_sup": r["order_sup"],
            "order_rms": r["order_rms"],
            "local_orders_sup": r["local_sup"].tolist(),
            "sup_over_eta_min": float(ratio.min()),
            "sup_over_eta_max": float(ratio.max()),
            "sup_monotone_in_eta": mono,
            "H_gap_late": r["H_gap_late"].tolist(),
            "order_H_gap_late": r["order_H_gap_late"],
            "H_gap_all": r["H_gap_all"].tolist(),
            "order_H_gap_all": r["order_H_gap_all"],
        }
        ev = ""
        if ref.report.method == "filippov":
            events = ", ".join(
                f"t = {e[0]:.3f}: coordinate {e[1] + 1} {e[2]}" for e in ref.report.events
            )
            ev = (
                f"; Filippov mode, {ref.report.n_events} switching events ({events}), "
                f"final modes {ref.report.final_mode}"
            )
        measured.append(
            f"- **{name}** (K = {r['K'].info()['K']}; ODE by `{ref.report.method}`{ev}; "
            f"x(T) = {fmt_vec(ref.x[-1])}): order of the sup error **{r['order_sup']:.3f}**, of "
            f"the RMS error {r['order_rms']:.3f}; sup error / η between {ratio.min():.2f} and "
            f"{ratio.max():.2f}; sup error decreasing at every refinement of the grid: "
            f"**{'yes' if mono else 'no'}** (local slopes between consecutive η from "
            f"{r['local_sup'].min():+.2f} to {r['local_sup'].max():+.2f}); the sup is reached at "
            f"t ≈ {np.median(r['where']):.2f} (median over η). "
            f"Lyapunov functions: max |H_d(x_k, m_k) − H(x(kη), m(kη))/α| over kη ≥ "
            f"{T_H_LATE:g} falls from {r['H_gap_late'][0]:.2e} to {r['H_gap_late'][-1]:.2e} "
            f"(order {r['order_H_gap_late']:.2f}); over all k where both are finite "
            f"{r['H_gap_all'][0]:.2e} → {r['H_gap_all'][-1]:.2e} (order "
            f"{r['order_H_gap_all']:.2f}, largest just after the phase-1 exit)."
        )
    l1 = d["runs"].get("l1")
    sm = d["runs"].get(SMOOTH)
    om = d["ode_md_problem"]
    results["ode_md_problem"] = om
    om_orders = ", ".join(f"{o['order']:.3f} ({n})" for n, o in om.items())
    om_l1 = ", ".join(f"{s:.2f}" for s in om["l1"]["local"])
    measured += [
        "- The check of docs/ode.md, rerun here on its problem (f = ½‖x − (2, 0.3)‖², "
        "λ = α = γ = 1, ε = 0.1, x₀ = 0, T = 3, η = "
        f"{ODE_MD_ETAS[0]:g} … {ODE_MD_ETAS[-1]:g}): order {om_orders}; l1's local slopes "
        f"between consecutive η {om_l1}. Our smooth-K orders ("
        + ", ".join(f"{n} {r['order_sup']:.3f}" for n, r in d["runs"].items() if n != "l1")
        + ") match its smooth ones. For l1 the "
        f"finer grid here shows local slopes scattered between {l1['local_sup'].min():+.1f} "
        f"and {l1['local_sup'].max():+.1f} with no trend while sup/η stays bounded: the l1 "
        "sup error is O(η) with a bounded, fluctuating constant, and a fitted order below 1 "
        f"({om['l1']['order']:.3f} there, {l1['order_sup']:.3f} here) reflects the fluctuation, "
        "not a "
        f"fractional rate. The RMS error of l1 decreases at every refinement: "
        f"**{'yes' if bool(np.all(np.diff(l1['rms']) < 0)) else 'no'}**.",
        "",
        *table,
    ]
    smooth_ok = sm is not None and abs(sm["order_sup"] - 1) <= 0.1
    l1_ok = (
        l1 is not None
        and abs(l1["order_rms"] - 1) <= 0.15
        and l1["order_sup"] > 0.5
        and float((l1["sup"] / etas).max()) <= 10
    )
    ok = smooth_ok and l1_ok
    verdict = "agrees" if ok else "disagrees"
    verdict_text = (
        (
            "With α, γ, ε, λ fixed the iterates converge to the ODE path as η → 0, at first order. "
            f"For the smooth K ({SMOOTH}) the sup distance is a clean Cη (order "
            f"{sm['order_sup']:.3f}, sup/η constant to a few per cent), the rate of an explicit "
            "Euler scheme, which is what one Lion-K step is (η times the vector field, exactly). "
            f"For Lion (K = ‖·‖₁) the ODE solution is a Filippov solution that slides on m̃₂ = 0; "
            f"the iterates still converge at rate η — the sup error stays between "
            f"{(l1['sup'] / etas).min():.1f}η and {(l1['sup'] / etas).max():.1f}η over the whole "
            f"grid and the RMS error over k has order {l1['order_rms']:.2f} — but the constant "
            "of the sup error fluctuates with η, so the sup error is not monotone on a fine grid "
            f"and its fitted order is {l1['order_sup']:.2f} rather than 1. The sup is reached just "
            "after the ODE enters sliding: the iterate switches sign one or a few steps late (its "
            "m̃ is O(η) off the ODE's and crosses zero at a slope of ≈ 0.4) while ẋ₂ jumps by "
            "≈ 1.6, and how late depends on where the crossing falls between grid points. The "
            "paper's continuous-time theory therefore describes the discrete iterates up to O(η), "
            "including for Lion; along the way the discrete Lyapunov function H_d tends to H/α "
            f"(order {l1['order_H_gap_late']:.2f} for l1 in phase 2)."
        )
        if ok
        else (
            "At least one of: smooth-K order within 0.1 of 1, l1 RMS order within 0.15 of 1, l1 "
            "sup error ≤ 10η failed; see the numbers."
        )
    )
    settings = {
        "objective": "toy: f(x) = (x1 − 1.5)² + x2²",
        "lam": LAM,
        "ode_coefficients": (
            f"alpha = gamma = {co['alpha']:.12g}, eps = {co['eps']:.12g} "
            f"(from eta0 = {ETA0:g}, beta = ({BETA1_0:g}, {BETA2_0:g}); exact "
            "to rounding)"
        ),
        "betas_per_eta": "beta1 = 1 − eps·gamma = 0.9 (fixed), beta2 = 1 − alpha·eta",
        "etas": (f"{etas.size} values, geometric from {etas[0]:g} to {etas[-1]:g} (ratio 2^(1/3))"),
        "x0": list(X0),
        "m0": "0",
        "t_final": T_FINAL,
        "decay": DECAY,
        "convention": "paper",
        "K": list(d["runs"]),
        "ode": f"solve_lion_ode, method auto, rtol {ODE_RTOL:g}, atol {ODE_ATOL:g}, dense output",
        "error": "max over k ≤ T/η of ‖x_k − x(kη)‖_∞; order = least-squares slope in log–log",
    }
    just = (
        "The ODE coefficients are those of Lion's defaults β = (0.9, 0.99) at η0 = 0.01, so "
        "α = γ = 1 and ε = 0.1 (εγ = 0.1 ≤ 1, the condition for Δ ≥ 0). Inverting the map for "
        "another η gives β2 = 1 − αη and β1 = 1 − εγ: α, γ, ε and λ all stay fixed, β1 stays "
        f"{BETA1_0:g} and only β2 changes (β1 ≤ β2 and ηλ ≤ {float(np.max(etas)) * LAM:.3g} < 1 "
        "hold on the whole grid, so the "
        "explicit-scheme H_d is a Lyapunov function of every run). λ = 1.5 and x₀ = (−3, 2.5) "
        "are Fig. 1's: the box ‖x‖_∞ ≤ 2/3 is active (x₁ stops on its face) and x₂'s optimum "
        "0 is interior, so for Lion m̃₂ slides on its kink — the hard case for the "
        "discrete → continuous limit. T = 8 covers phase 1 and the approach to the optimum "
        "(x(8) is within 1e-4 of it). The ODE tolerance 1e-10 is far below the smallest "
        f"discrete error ({min(r['sup'].min() for r in d['runs'].values()):.1e}). The η grid "
        "has ratio 2^(1/3) (16 values at full size, 13 reduced) so that the fluctuation of "
        "the sup error's constant is visible rather than aliased by a factor-2 grid. "
        f"{SMOOTH} (∇K = tanh) stands for the smooth K in the path panels; huber (∇K = clip, "
        "Lipschitz but not C¹) is measured too, in panel (c) only."
    )
    return Reproduction(
        name=NAME,
        title=TITLE,
        claim=CLAIM,
        settings=settings,
        justification=just,
        results={**results, "smooth_order_within_0.1": bool(smooth_ok), "l1_ok": bool(l1_ok)},
        measured=measured,
        verdict=verdict,
        verdict_text=verdict_text,
        figure=draw(d),
        caption=(
            "(a, b) ODE path (black) and discrete iterates for four η (colours) with the "
            "box ‖x‖_∞ ≤ 1/λ, with an inset on the end of the paths; (c) sup distance "
            "between iterates and ODE path against η (every η of the grid), least-squares "
            "fits and reference slopes 1 and 1/2; (d) Lion's x₂(t) around the ODE's entry "
            "into sliding, where its sup error is reached."
        ),
    )
