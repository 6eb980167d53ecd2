"""Spec §5, last line: "Stochastic gradients add a noise floor of order sup‖w‖·σ to the average".

The spec marks the sentence derived and unverified. Where it comes from: the descent-lemma step
of the §5 proof uses ∇f(x_t)ᵀ(x_{t+1} − x_t) = η∇f(x_t)ᵀw̄_t, while the algorithm moves along the
noisy g_t = ∇f(x_t) + ξ_t; the difference η ξ_tᵀw̄_t is bounded by η‖w̄_t‖‖ξ_t‖, and averaging
the inequality over n steps gives

    (1/n) Σ Δ_t ≤ (H_d(x_1, m_1) − inf H_d)/(nη) + (Lη/2) max ‖w̄_t‖² + O(sup‖w̄‖ · σ_eff),

an *upper bound* with σ_eff = σ/√b the noise of a mini-batch mean of b samples of variance σ².

Measured here, on the toy problem f = (x1 − 1.5)² + x2² with λ = 1.5 (the minimiser (1.5, 0) is
outside the box, the KKT point (2/3, 0) lies on its face) and on Lion (K = l1) and one smooth K
(logcosh): runs with g_t = ∇f(x_t) + (σ/√b) ξ_t, ξ_t ~ N(0, I) independent, for several b and
independent replicas ("seeds"), all in one batched `run_discrete` call per K. Per run:

* Δ̄_T = (1/T) Σ_{t<T} Δ'_t, the explicit-scheme Δ'_t of `core.lyapunov.discrete_Delta_terms`
  (it is ≥ 0 for ηλ < 1, and it is the quantity the averaged inequality controls);
* S̄_T = (1/T) Σ_{t=1..T} S(x_t), S the KKT score (`core.lyapunov.kkt_score`, with the true ∇f);
* the *floor*: the average of Δ' and of S over the second half of the run (stationary part);
* the decay exponent in T: slope of log Δ̄_T (and log S̄_T) against log T over the T grid;
* the exponent in b: slope of log(added floor) against log b over the finite b, the added floor
  being the floor minus that of the exact-gradient run (σ_eff = σ/√b, so the claim "adds a
  floor ∝ σ_eff" is exponent −1/2 in b).

Confidence intervals: the slope is fitted per replica; the interval is mean ± t₀.₉₇₅·sd/√n over
the n replicas (Student t).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.discrete import LionKConfig, run_discrete
from ..core.kfunc import make_K
from ..core.lyapunov import discrete_Delta_terms, kkt_score
from ..errors import NumericalFailure
from ._common import BETA1, BETA2, TOY, Reproduction, check_size

NAME = "stochastic"
TITLE = "Stochastic gradients — the noise floor of the averaged Δ_t and of the KKT score"
CLAIM = (
    "Stochastic gradients add a noise floor of order sup‖w‖ · σ to the average "
    "(1/n) Σ Δ_t of spec §5. (spec §5, marked derived and unverified)"
)
K_NAMES = ("l1", "logcosh")
LAM = 1.5
X0 = (0.0, 0.5)
SIGMA = 1.0
LR = 1e-2
"""ηλ = 0.015 ≪ 1; the approach to the box face is exponential at rate ηλ per step (time constant
67 steps), so the second half of even the reduced run (1000 steps on) is stationary."""
SETTINGS: dict[str, dict[str, Any]] = {
    "full": {"steps": 8_000, "batches": (1, 4, 16, 64, 256), "seeds": 8},
    "reduced": {"steps": 2_000, "batches": (1, 16, 256), "seeds": 4},
}
CLAIMED_B_EXPONENT = -0.5
"""floor ∝ σ_eff = σ/√b ⇒ exponent −1/2 in b."""


def noisy_gradient(scale, seed: int):
    """∇f(x) + scale·ξ, ξ ~ N(0, I) from one seeded generator; ``scale`` has one entry per run
    (σ/√b, or 0 for the exact gradient), so the runs of the batch get independent noise."""
    rng = np.random.default_rng(seed)
    scale = np.asarray(scale, dtype=float)[:, None]

    def grad(x):
        return TOY.grad(x) + scale * rng.standard_normal(np.shape(x))

    return grad


def t_interval(samples, axis=-1):
    """Mean and the half-width of its 95% Student-t interval along ``axis``."""
    from scipy.special import stdtrit  # Student-t quantile (scipy.stats costs ~3 s to import)

    samples = np.asarray(samples, dtype=float)
    n = samples.shape[axis]
    mean = samples.mean(axis=axis)
    if n < 2:
        return mean, np.full_like(mean, np.nan)
    half = stdtrit(n - 1, 0.975) * samples.std(axis=axis, ddof=1) / np.sqrt(n)
    return mean, half


def loglog_slope(x, Y):
    """Least-squares slope of log Y against log x; ``Y`` has x along axis 0 (other axes kept)."""
    lx = np.log(np.asarray(x, dtype=float))
    lx = lx - lx.mean()
    lY = np.log(np.asarray(Y, dtype=float))
    lY = lY - lY.mean(axis=0)
    return np.tensordot(lx, lY, axes=(0, 0)) / np.sum(lx * lx)


def run_K(K_name: str, steps: int, batches, seeds: int, seed: int = 0) -> dict:
    """One batched run: rows = (b₁, …, b_k, exact gradient) × replicas."""
    K = make_K(K_name)
    b = np.asarray(batches, dtype=float)
    scale = np.concatenate([SIGMA / np.sqrt(b), [0.0]])
    scale_runs = np.repeat(scale, seeds)
    n = scale_runs.size
    x0 = np.tile(np.asarray(X0, dtype=float), (n, 1))
    cfg = LionKConfig(lr=LR, beta1=BETA1, beta2=BETA2, lam=LAM, decay="explicit")
    res = run_discrete(K, noisy_gradient(scale_runs, seed), x0, config=cfg, steps=steps)
    if not res.success:
        raise NumericalFailure(f"stochastic run K={K_name} failed: {res.message}")
    X, M, MT = (np.asarray(a) for a in (res.x, res.m, res.m_tilde))
    S = kkt_score(K, X, TOY.grad(X), LAM)
    t1, t2 = discrete_Delta_terms(K, X[1:], M[:-1], MT, LR, BETA1, BETA2, LAM, "explicit", x=X[:-1])
    D = t1 + t2
    if not (np.all(np.isfinite(S)) and np.all(np.isfinite(D))):
        raise NumericalFailure(
            f"K={K_name}: the KKT score or Δ' is not finite along a run (an iterate left dom K*)"
        )
    wbar = np.linalg.norm((X[1:] - X[:-1]) / LR, axis=-1)
    shape = (scale.size, seeds)
    T_grid = np.unique(np.geomspace(steps // 8, steps, 7).astype(int))
    cumD = np.cumsum(D, axis=0)
    cumS = np.cumsum(S[1:], axis=0)
    avgD = np.stack([cumD[T - 1] / T for T in T_grid]).reshape((T_grid.size, *shape))
    avgS = np.stack([cumS[T - 1] / T for T in T_grid]).reshape((T_grid.size, *shape))
    half = steps // 2
    return {
        "K": K_name,
        "b": list(batches),
        "sigma_eff": scale.tolist(),
        "T": T_grid,
        "avg_Delta": avgD,
        "avg_kkt": avgS,
        "floor_Delta": D[half:].mean(axis=0).reshape(shape),
        "floor_kkt": S[half + 1 :].mean(axis=0).reshape(shape),
        "sup_w": wbar.max(axis=0).reshape(shape),
        "min_Delta": float(D.min()),
    }


def fits(r: dict) -> dict:
    """Exponents with 95% intervals over replicas: in T (per b, and for the exact gradient) and
    of the floors in b (finite b only)."""
    out: dict[str, Any] = {}
    for q in ("Delta", "kkt"):
        sT = loglog_slope(r["T"], r[f"avg_{q}"])  # (n_b + 1, seeds)
        m, h = t_interval(sT)
        out[f"T_exponent_{q}"] = {"mean": m.tolist(), "ci95": h.tolist()}
        added = r[f"floor_{q}"][:-1] - r[f"floor_{q}"][-1]  # finite b, minus exact ∇f
        with np.errstate(invalid="ignore"):
            sb = loglog_slope(r["b"], np.where(added > 0, added, np.nan))  # (seeds,)
        m, h = t_interval(sb)
        out[f"added_floor_{q}"] = added.mean(axis=1).tolist()
        out[f"n_nonpositive_added_{q}"] = int(np.sum(added <= 0))
        out[f"b_exponent_{q}"] = {"mean": float(m), "ci95": float(h)}
        out[f"floor_{q}"] = r[f"floor_{q}"].mean(axis=1).tolist()
    sw = r["sup_w"][:-1].max(axis=1)
    out["sup_w"] = sw.tolist()
    out["added_Delta_over_sup_w_sigma"] = (
        np.asarray(out["added_floor_Delta"]) / (sw * np.asarray(r["sigma_eff"][:-1]))
    ).tolist()
    return out


def compute(size: str = "full") -> dict:
    check_size(size)
    st = SETTINGS[size]
    runs = {}
    for k, name in enumerate(K_NAMES):
        r = run_K(name, st["steps"], st["batches"], st["seeds"], seed=k)
        r["fits"] = fits(r)
        runs[name] = r
    return {"size": size, **st, "runs": runs}


def draw(d: dict):
    from matplotlib.ticker import NullFormatter

    from ..plotting import PALETTE, new_figure, paper_style

    with paper_style():
        fig = new_figure(7.0, 5.2)
        axes = fig.subplots(2, 2)
        for j, (name, r) in enumerate(d["runs"].items()):
            ax = axes[0, j]
            labels = [f"b = {b}" for b in r["b"]] + ["exact ∇f"]
            for i, lab in enumerate(labels):
                ax.loglog(
                    r["T"],
                    r["avg_Delta"][:, i].mean(axis=1),
                    marker="o",
                    ms=2.5,
                    lw=1,
                    color=PALETTE[i % len(PALETTE)],
                    ls="--" if i == len(labels) - 1 else "-",
                    label=lab,
                )
            T = np.asarray(r["T"], dtype=float)
            ax.loglog(
                T,
                2 * r["avg_Delta"][0, -1].mean() * T[0] / T,
                ":",
                color="0.4",
                lw=0.8,
                label="∝ 1/T",
            )
            ax.set_xlabel("T (steps)")
            ax.set_ylabel("running average of Δ'_t up to T")
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_xticks(r["T"], [str(int(t)) for t in r["T"]], fontsize=6)
            ax.set_title(f"({'ab'[j]}) K = {name}: averaged Δ' against T", fontsize=8)
            ax.legend(fontsize=5.5, ncols=2)
        for j, q in enumerate(("Delta", "kkt")):
            ax = axes[1, j]
            for i, (name, r) in enumerate(d["runs"].items()):
                s = np.asarray(r["sigma_eff"][:-1])
                fl = r[f"floor_{q}"][:-1] - r[f"floor_{q}"][-1]
                m, h = t_interval(fl)
                f = r["fits"][f"b_exponent_{q}"]
                ax.errorbar(
                    s,
                    m,
                    yerr=h,
                    fmt="o-",
                    ms=3,
                    lw=1,
                    capsize=2,
                    color=PALETTE[i],
                    label=f"{name}: ∝ b^{_pm3(f['mean'], f['ci95'])}",
                )
            s_all = np.asarray(next(iter(d["runs"].values()))["sigma_eff"][:-1])
            first = next(iter(d["runs"].values()))
            ref = (first[f"floor_{q}"][0] - first[f"floor_{q}"][-1]).mean()
            ax.loglog(
                s_all,
                ref * s_all / s_all[0],
                ":",
                color="0.3",
                lw=0.9,
                label="claim: ∝ σ_eff = σ/√b",
            )
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("σ_eff = σ/√b")
            ax.set_ylabel("added floor of " + ("Δ'_t" if q == "Delta" else "S(x_t)"))
            ax.set_title(
                f"({'cd'[j]}) floor of {'Δ′' if q == 'Delta' else 'the KKT score'} "
                "added by the noise",
                fontsize=8,
            )
            ax.legend(fontsize=5.5)
        fig.suptitle(
            "Lion-K with noisy gradients ∇f + (σ/√b)ξ on f = (x₁ − 1.5)² + x₂², "
            f"λ = {LAM:g} (KKT point (2/3, 0) on the box)\nη = {LR:g}, "
            f"β = ({BETA1:g}, {BETA2:g}), σ = {SIGMA:g}, {d['seeds']} replicas per b, "
            f"{d['steps']} steps; bars: 95% t-intervals over replicas"
        )
    return fig


def _pm(m, h) -> str:
    return f"{m:.2f} ± {h:.2f}"


def _pm3(m, h) -> str:
    return f"({m:.3f} ± {h:.3f})"


def build(size: str = "full") -> Reproduction:
    """Compute, draw and summarise the noise-floor measurements."""
    return report(compute(size))


def report(d: dict) -> Reproduction:
    """The `Reproduction` of computed runs ``d`` (from `compute`)."""
    measured, results = [], {}
    for name, r in d["runs"].items():
        f = r["fits"]
        rows = [
            "| b | σ_eff | T-exponent of Δ̄_T | T-exponent of S̄_T | floor of Δ' | "
            "floor of S | added floor of Δ' / (sup‖w̄‖·σ_eff) |",
            "|---|---|---|---|---|---|---|",
        ]
        labels = [str(b) for b in r["b"]] + ["∞ (exact ∇f)"]
        for i, lab in enumerate(labels):
            ratio = f"{f['added_Delta_over_sup_w_sigma'][i]:.3f}" if i < len(r["b"]) else "—"
            rows.append(
                f"| {lab} | {r['sigma_eff'][i]:.4g} | "
                f"{_pm(f['T_exponent_Delta']['mean'][i], f['T_exponent_Delta']['ci95'][i])} | "
                f"{_pm(f['T_exponent_kkt']['mean'][i], f['T_exponent_kkt']['ci95'][i])} | "
                f"{f['floor_Delta'][i]:.3g} | {f['floor_kkt'][i]:.3g} | {ratio} |"
            )
        bD, bS = f["b_exponent_Delta"], f["b_exponent_kkt"]
        measured += [
            f"**K = {name}** (T grid {r['T'][0]}–{r['T'][-1]}; smallest Δ'_t over all runs "
            f"{r['min_Delta']:.2e}):",
            "",
            f"- added floor of Δ' ∝ b^**{_pm3(bD['mean'], bD['ci95'])}**, i.e. ∝ σ_eff^"
            f"{-2 * bD['mean']:.2f} (claim: b^−0.5, σ_eff^1 as an upper-bound order);",
            f"- added floor of the KKT score ∝ b^**{_pm3(bS['mean'], bS['ci95'])}** "
            f"(σ_eff^{-2 * bS['mean']:.2f}).",
            "",
            *rows,
            "",
        ]
        results[name] = {
            "b": r["b"],
            "sigma_eff": r["sigma_eff"],
            "T": r["T"].tolist(),
            "min_Delta": r["min_Delta"],
            **f,
        }
    lion_exp = d["runs"]["l1"]["fits"]["b_exponent_Delta"]
    smooth = d["runs"]["logcosh"]["fits"]
    lion_kkt = d["runs"]["l1"]["fits"]["b_exponent_kkt"]
    lion_ok = abs(lion_exp["mean"] - CLAIMED_B_EXPONENT) <= max(lion_exp["ci95"], 0.1)
    verdict = "agrees with a qualification" if lion_ok else "disagrees"
    verdict_text = (
        f"For Lion the floor that the noise adds to the averaged Δ' scales as "
        f"b^{_pm3(lion_exp['mean'], lion_exp['ci95'])}, i.e. as σ_eff^"
        f"{-2 * lion_exp['mean']:.2f} with σ_eff = σ/√b: "
        + (
            "the order σ the spec states (the interval is over replicas only; a pure power law "
            "is itself an approximation, so an exponent within 0.1 of 1/2 in b is read as "
            "order σ), with added floor/(sup‖w̄‖·σ_eff) below 1 (table), as an upper bound "
            "allows. Qualifications: "
            if lion_ok
            else "NOT the order σ the spec states (more than 0.1 away from −1/2 in b). Also: "
        )
        + "(1) for the smooth K (logcosh) the added floor is far smaller and scales as "
        f"b^{_pm3(smooth['b_exponent_Delta']['mean'], smooth['b_exponent_Delta']['ci95'])} ≈ "
        "σ_eff², so order σ is an upper bound that is tight for sign-like ∇K only; "
        "(2) the KKT score's added floor scales as "
        f"b^{_pm3(lion_kkt['mean'], lion_kkt['ci95'])} (σ_eff^{-2 * lion_kkt['mean']:.2f}) for "
        f"Lion and b^{_pm3(smooth['b_exponent_kkt']['mean'], smooth['b_exponent_kkt']['ci95'])}"
        " for logcosh; (3) in T the running averages decay as 1/T (exponent ≈ −1 with the "
        "exact gradient) while the transient term (H_d(x_1) − inf H_d)/(Tη) dominates and then "
        "flatten onto the floor, so the fitted T-exponent moves from −1 towards 0 as the noise "
        "grows (tables); with the exact gradient Lion keeps an O(η) discretisation floor "
        "(chattering around the KKT point), logcosh none."
    )
    settings = {
        "lr": LR,
        "beta1": BETA1,
        "beta2": BETA2,
        "decay": "explicit",
        "convention": "paper",
        "m0": "0",
        "objective": "toy: f(x) = (x1 − 1.5)² + x2²",
        "lam": LAM,
        "x0": list(X0),
        "sigma": SIGMA,
        "batch_sizes": list(d["batches"]),
        "replicas": d["seeds"],
        "steps": d["steps"],
        "K": list(K_NAMES),
    }
    just = (
        f"λ = {LAM:g} puts the unconstrained minimiser outside the box ‖x‖_∞ ≤ 2/3, so the "
        "constraint is active and the KKT point (2/3, 0) is known exactly; x₀ = (0, 0.5) is "
        "inside dom K*, so the KKT score and Δ' are finite from the start. β = (0.9, 0.99) are "
        "Lion's defaults; η = 1e-2 (10× the other reports) keeps ηλ = 0.015 ≪ 1 while the "
        "approach to the box face, exponential at rate ηλ per step, takes ≈ 67 steps per "
        "e-fold instead of 670, so the second half of a 2 000-step run is stationary. "
        "σ = 1 is of the "
        "size of the gradient at the KKT point (|∂f/∂x₁| = 5/3), and b from 1 to 256 spans a "
        "16× range of σ_eff; the floor is the average over the second half of the run "
        "(≥ 1 000 steps = 15 e-folds of the approach). Replicas are independent noise "
        "streams in the same batched run."
    )
    return Reproduction(
        name=NAME,
        title=TITLE,
        claim=CLAIM,
        settings=settings,
        justification=just,
        results={"claim": CLAIM, "claimed_b_exponent": CLAIMED_B_EXPONENT, "K": results},
        measured=measured,
        verdict=verdict,
        verdict_text=verdict_text,
        figure=draw(d),
        caption=(
            "(a, b) The running average of Δ'_t against T for each batch size b (dashed: "
            "exact gradient; dotted: 1/T); (c, d) the second-half average (the floor) of Δ' "
            "and of the KKT score against σ_eff = σ/√b with 95% intervals over replicas, "
            "the fitted exponent in b, and the claimed σ_eff-proportional law (dotted)."
        ),
    )
