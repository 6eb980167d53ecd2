"""Lyapunov/phase diagnostics along an ODE solution and the guards that decide ``success``.

Along the solution, on the output grid t_0 < t_1 < ... (time on axis 0)::

    H(t)      = α f + (γ/λ)K*(λx) + c(K*(λx) + K(m) − λmᵀx),  c = (1 − εγ)/(1 + ελ)   (spec §4)
    Δ(t)      = ((γ+λ)/(1+ελ))(u − λx)ᵀ(m̃ − ∇K*(λx)) + c(∇K(m) − u)ᵀ(α∇f + γm)
    dist(t)   = dist(λx, dom K*)

where u is the ∇K selection actually used by the integrator (∇K(m̃) off the switching surfaces,
the Filippov equivalent control on a sliding coordinate). For differentiable K, dH/dt = −Δ.

Guards (each violation sets success = False and is named in the message):

* ``invariance``: once dist ≤ DOMAIN_TOL, dist stays ≤
  tol_dom = max(DOMAIN_TOL, 10λ(atol + rtol·s)), s = max(‖x0‖_∞, 1/λ) (the phase-1 theorem makes
  {λx ∈ dom K*} invariant; tol_dom is the solver's error scale, taken from the start and the domain
  radius, not from the solution).
* ``phase1``: dist(t) ≤ e^{−λt}dist(0) + tol_dom for all t.
* ``monotone_H``: in phase 2, H(t_{k+1}) − H(t_k) ≤ 10·(rtol·max(|H(t_entry)|, 1) + atol) (the
  solver's error scale; the exact H is non-increasing).
* ``finite``: x, m finite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..kfunc import DOMAIN_TOL, KFunction
from ..lyapunov import kkt_score, lyapunov_c, lyapunov_H, monotonicity
from ..xp import FloatArray

__all__ = ["OdeDiagnostics", "diagnose", "run_guards", "delta_with_selection"]


@dataclass
class OdeDiagnostics:
    """H, Δ, dist(λx, dom K*) on the grid ``t``; phase-1 exit time; KKT score and f at the end."""

    t: NDArray[np.float64]
    H: FloatArray | None
    Delta: NDArray[np.float64]
    dist: NDArray[np.float64]
    f: NDArray[np.float64] | None
    phase1_exit_time: float | None
    phase1_exit_index: int | None
    kkt_final: float
    tol_dom: float
    tol_H: float


def delta_with_selection(
    K: KFunction,
    x: NDArray[np.float64],
    m: NDArray[np.float64],
    gx: NDArray[np.float64],
    u: NDArray[np.float64],
    lam: float,
    alpha: float,
    gamma: float,
    eps: float,
) -> NDArray[np.float64]:
    """Δ with a given ∇K selection u at m̃ (rows = time): see the module formula."""
    d = alpha * gx + gamma * m
    mt = m - eps * d
    lx = lam * x
    with np.errstate(invalid="ignore"):
        v = np.asarray(K.conj_grad(lx))
        t1 = (gamma + lam) / (1 + eps * lam) * np.sum((u - lx) * (mt - v), axis=-1)
    t1 = np.where(K.in_dom_conj(lx), t1, np.nan)
    t2 = lyapunov_c(lam, gamma, eps) * np.sum((np.asarray(K.grad(m)) - u) * d, axis=-1)
    Delta: NDArray[np.float64] = t1 + t2
    return Delta


def diagnose(
    K: KFunction,
    t: NDArray[np.float64],
    X: NDArray[np.float64],
    M: NDArray[np.float64],
    U: NDArray[np.float64],
    grad: Callable[[Any], Any],
    f: Callable[[Any], Any] | None,
    *,
    lam: float,
    alpha: float,
    gamma: float,
    eps: float,
    rtol: float,
    atol: ArrayLike,
) -> OdeDiagnostics:
    """Diagnostics on the grid (X, M, U of shape (n, d))."""
    gx = np.asarray(grad(X), dtype=float)
    fx = None if f is None else np.asarray(f(X), dtype=float)
    H = None if fx is None else np.asarray(lyapunov_H(K, fx, X, M, lam, alpha, gamma, eps))
    Delta = delta_with_selection(K, X, M, gx, U, lam, alpha, gamma, eps)
    dist = np.asarray(K.dist_dom_conj(lam * X), dtype=float)
    inside = dist <= DOMAIN_TOL
    i1 = int(np.argmax(inside)) if inside.any() else None
    atol_max = float(np.max(atol))
    # error scales from the start and the domain radius 1/λ, never from the (possibly diverged)
    # solution itself
    scale_x = max(float(np.max(np.abs(X[0]))), 1.0 / lam)
    tol_dom = max(DOMAIN_TOL, 10 * lam * (atol_max + rtol * scale_x))
    H_ref = abs(float(H[i1])) if (H is not None and i1 is not None and np.isfinite(H[i1])) else 1.0
    tol_H = 10 * (rtol * max(1.0, H_ref) + atol_max)
    kkt = float(kkt_score(K, X[-1], gx[-1], lam))
    return OdeDiagnostics(
        t=np.asarray(t),
        H=H,
        Delta=Delta,
        dist=dist,
        f=fx,
        phase1_exit_time=None if i1 is None else float(t[i1]),
        phase1_exit_index=i1,
        kkt_final=kkt,
        tol_dom=tol_dom,
        tol_H=tol_H,
    )


def run_guards(
    diag: OdeDiagnostics, X: NDArray[np.float64], M: NDArray[np.float64], lam: float
) -> dict[str, dict[str, Any]]:
    """The guards of the module doc: name → {ok, detail}."""
    out: dict[str, dict[str, Any]] = {}
    finite = bool(np.all(np.isfinite(X)) and np.all(np.isfinite(M)))
    out["finite"] = {"ok": finite, "detail": "x, m finite" if finite else "non-finite x or m"}
    t, dist, tol = diag.t, diag.dist, diag.tol_dom
    i1 = diag.phase1_exit_index
    if i1 is None:
        out["invariance"] = {"ok": True, "detail": "λx never entered dom K* (not checked)"}
    else:
        worst = float(np.max(dist[i1:]))
        k = i1 + int(np.argmax(dist[i1:]))
        ok = worst <= tol
        out["invariance"] = {
            "ok": ok,
            "detail": (
                f"max dist(λx, dom K*) after entry = {worst:.3g} at t={t[k]:.6g} "
                f"({'≤' if ok else '>'} tol {tol:.3g})"
            ),
        }
    bound = dist[0] * np.exp(-lam * (t - t[0])) + tol
    excess = dist - bound
    k = int(np.argmax(excess))
    ok = bool(excess[k] <= 0)
    out["phase1"] = {
        "ok": ok,
        "detail": (f"max of dist − (e^(−λt)dist0 + tol) = {excess[k]:.3g} at t={t[k]:.6g}"),
    }
    if diag.H is None:
        out["monotone_H"] = {"ok": True, "detail": "f not given: H not computed (not checked)"}
    elif i1 is None or i1 >= len(t) - 1:
        out["monotone_H"] = {"ok": True, "detail": "no phase-2 interval on the grid (not checked)"}
    else:
        rep = monotonicity(diag.H, start=i1, rtol=0.0, atol=diag.tol_H)
        ok = bool(rep.monotone)
        out["monotone_H"] = {
            "ok": ok,
            "detail": (
                f"max H increase in phase 2 = {rep.max_increase:.3g} (tol {diag.tol_H:.3g}), "
                f"{rep.n_increases} increase(s) over {rep.n_checked} pairs"
            ),
        }
    return out
